"""Per-symbol averages of per-frame values (NVIDIA FastPitch 1.1's `average_pitch`)."""

from __future__ import annotations

import torch

from speechsynth.models.aligner import average_per_symbol


def naive_average(values: torch.Tensor, durations: torch.Tensor) -> torch.Tensor:
    batch, channels, _ = values.shape
    out = torch.zeros(batch, channels, durations.size(1))
    for b in range(batch):
        start = 0
        for symbol, duration in enumerate(durations[b].tolist()):
            span = values[b, :, start : start + duration]
            for c in range(channels):
                voiced = span[c][span[c] != 0]
                out[b, c, symbol] = voiced.mean() if voiced.numel() else 0.0
            start += duration
    return out


def test_hand_made_example():
    values = torch.tensor([[[0.0, 2.0, 4.0, 0.0, 0.0, 6.0, 8.0, 9.0]]])
    durations = torch.tensor([[2, 3, 0, 2]])  # the last frame belongs to no symbol
    expected = torch.tensor([[[2.0, 4.0, 0.0, 7.0]]])
    assert torch.equal(average_per_symbol(values, durations), expected)


def test_unvoiced_span_gives_zero_and_shape_is_batch_channels_symbols():
    values = torch.tensor([[[0.0, 0.0, 3.0], [1.0, 0.0, 5.0]]])
    out = average_per_symbol(values, torch.tensor([[2, 1]]))
    assert out.shape == (1, 2, 2)
    assert torch.equal(out, torch.tensor([[[0.0, 3.0], [1.0, 5.0]]]))


def test_matches_a_naive_loop_on_a_padded_batch():
    generator = torch.Generator().manual_seed(0)
    durations = torch.randint(0, 6, (3, 20), generator=generator)
    durations[1, 12:] = 0  # a shorter item, padded
    frames = int(durations.sum(1).max()) + 4
    values = torch.randn(3, 2, frames, generator=generator)
    values = values * (torch.rand(3, 2, frames, generator=generator) > 0.4)
    assert torch.allclose(
        average_per_symbol(values, durations), naive_average(values, durations), atol=1e-6
    )
