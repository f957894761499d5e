"""Learning-rate schedules, as pure functions of (epoch, step) so a resumed run needs no state."""

from __future__ import annotations


def annealed_learning_rate(
    base_lr: float, epoch: int, anneal_steps: tuple[int, ...], anneal_factor: float
) -> float:
    """NVIDIA's Tacotron 2 / WaveGlow `adjust_learning_rate`: step decay at the given epochs.

    With anneal_factor 0.3 NVIDIA alternates x0.3 and x(1/3) (i.e. 0.3, 0.1, 0.03, 0.01, ...).
    """
    passed = sum(1 for anneal_epoch in anneal_steps if epoch >= anneal_epoch)
    if anneal_factor == 0.3:
        return base_lr * (0.1 ** (passed // 2)) * (1.0 if passed % 2 == 0 else 0.3)
    return base_lr * anneal_factor**passed
