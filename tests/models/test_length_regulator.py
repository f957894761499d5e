"""The shared length regulator: rounding modes, pace / alpha, padding, truncation."""

from __future__ import annotations

import pytest
import torch

from speechsynth.models.length_regulator import frame_counts, regulate_length


def features(batch: int = 1, symbols: int = 3, channels: int = 2) -> torch.Tensor:
    return torch.arange(1.0, batch * symbols * channels + 1).view(batch, symbols, channels)


def test_rounding_modes():
    durations = torch.tensor([[0.5, 1.5, 2.5, 3.49]])
    assert frame_counts(durations, rounding="half_even").tolist() == [[0, 2, 2, 3]]
    assert frame_counts(durations, rounding="half_up").tolist() == [[1, 2, 3, 3]]
    with pytest.raises(ValueError, match="rounding"):
        frame_counts(durations, rounding="up")


def test_pace_divides_and_alpha_multiplies():
    durations = torch.tensor([[4, 6, 2]])
    assert regulate_length(features(), durations).lengths.tolist() == [12]
    assert regulate_length(features(), durations, pace=2.0).lengths.tolist() == [6]
    assert regulate_length(features(), durations, alpha=1.5).lengths.tolist() == [18]


def test_each_symbol_is_repeated_and_padding_is_zero():
    x = features(batch=2)
    frames, lengths = regulate_length(x, torch.tensor([[1, 0, 2], [2, 1, 0]]))
    assert lengths.tolist() == [3, 3]
    assert torch.equal(frames[0], torch.stack([x[0, 0], x[0, 2], x[0, 2]]))
    assert torch.equal(frames[1], torch.stack([x[1, 0], x[1, 0], x[1, 1]]))
    frames, lengths = regulate_length(x, torch.tensor([[3, 1, 1], [1, 0, 0]]))
    assert lengths.tolist() == [5, 1]
    assert torch.equal(frames[1, 1:], torch.zeros(4, 2))


def test_matches_repeat_interleave_and_passes_gradients():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(3, 10, 4, generator=generator, requires_grad=True)
    durations = torch.rand(3, 10, generator=generator) * 4
    frames, lengths = regulate_length(x, durations, pace=0.8, rounding="half_even")
    repeats = torch.round(durations / 0.8).long()
    for b in range(3):
        expected = torch.repeat_interleave(x[b], repeats[b], dim=0)
        assert lengths[b] == expected.size(0)
        assert torch.equal(frames[b, : lengths[b]], expected)
    frames.sum().backward()
    assert torch.equal(x.grad[..., 0], repeats.float())


def test_max_frames_cuts_frames_and_lengths():
    frames, lengths = regulate_length(
        features(batch=2), torch.tensor([[4, 4, 4], [1, 1, 1]]), max_frames=5
    )
    assert frames.shape == (2, 5, 2)
    assert lengths.tolist() == [5, 3]


def test_all_zero_durations_give_no_frames():
    frames, lengths = regulate_length(features(), torch.zeros(1, 3))
    assert frames.shape == (1, 0, 2)
    assert lengths.tolist() == [0]
