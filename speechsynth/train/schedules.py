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


def noam_learning_rate(base_lr: float, step: int, warmup_steps: int) -> float:
    """Linear warm-up then inverse square-root decay, as a function of the 1-based step.

    NVIDIA FastPitch's `adjust_learning_rate`: base_lr * step / warmup^1.5 up to warmup_steps,
    then base_lr / sqrt(step) (so base_lr 0.1 peaks at 0.1 / sqrt(1000) = 3.2e-3); warm-up 0
    keeps base_lr. FastSpeech's Noam schedule has the same shape.
    """
    if warmup_steps <= 0:
        return base_lr
    step = max(1, step)
    if step > warmup_steps:
        return base_lr / step**0.5
    return base_lr * step / warmup_steps**1.5
