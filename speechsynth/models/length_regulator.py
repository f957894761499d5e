"""The length regulator of FastPitch and FastSpeech: each symbol's vector repeated for its frames.

Frame counts come from (predicted or target) durations, scaled and rounded as NVIDIA does:
- FastPitch 1.0: `round(d / pace)`, round half to even (`torch.round`);
- FastPitch 1.1: `long(d / pace + 0.5)`, round half up (for d >= 0);
- FastSpeech: `round(d * alpha)`, round half to even.
`pace` > 1 speaks faster; `alpha` > 1 speaks slower. NVIDIA repeats with `repeat_interleave` (1.0,
FastSpeech) or a one-hot matmul (1.1); both copy vectors exactly, as the gather here does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

ROUNDING_MODES = ("half_even", "half_up")


class Regulated(NamedTuple):
    frames: Tensor  # [B, T, C]; frames past an item's length are zero
    lengths: Tensor  # [B] int64


def frame_counts(
    durations: Tensor,
    pace: float | Tensor = 1.0,
    alpha: float | Tensor = 1.0,
    rounding: str = "half_even",
) -> Tensor:
    """durations [B, L] (frames, any dtype) -> int64 repeats [B, L]: d / pace * alpha, rounded."""
    if rounding not in ROUNDING_MODES:
        raise ValueError(f"rounding must be one of {ROUNDING_MODES}, got {rounding!r}")
    # Always divided and multiplied (by 1.0 that is exact): `pace` and `alpha` may be tensors, as
    # they are in an exported graph, where a Python `if` on them cannot be traced.
    scaled = durations.float() / pace * alpha
    if rounding == "half_up":
        return (scaled + 0.5).long()
    return torch.round(scaled).long()


def regulate_length(
    features: Tensor,
    durations: Tensor,
    pace: float = 1.0,
    alpha: float = 1.0,
    rounding: str = "half_even",
    max_frames: int | None = None,
) -> Regulated:
    """features [B, L, C], durations [B, L] -> (frames [B, T, C], lengths [B]).

    T is the longest item's frame count, cut to `max_frames` when given (lengths are clamped to
    it too, as NVIDIA's `mel_max_len`). Padded symbols must have duration 0.
    """
    repeats = frame_counts(durations, pace, alpha, rounding).clamp_min(0)
    ends = torch.cumsum(repeats, dim=1)
    lengths = ends[:, -1] if ends.size(1) else repeats.sum(dim=1)
    # `.item()` (not int()) so that an exported graph keeps T as a data-dependent size.
    total = lengths.max().item() if lengths.numel() else 0
    torch._check(total >= 0)
    if max_frames is not None:
        total = torch.sym_min(total, max_frames)
        lengths = lengths.clamp_max(max_frames)
    frame_index = torch.arange(total, device=features.device).expand(features.size(0), total)
    # The symbol a frame belongs to: how many symbols end at or before it (searchsorted with
    # right=True, written as a count because ONNX has no searchsorted).
    symbol = (ends.unsqueeze(1) <= frame_index.unsqueeze(2)).sum(dim=2)
    symbol = symbol.clamp_max(max(features.size(1) - 1, 0))
    gathered = features.gather(1, symbol.unsqueeze(2).expand(-1, -1, features.size(2)))
    valid = (frame_index < lengths.unsqueeze(1)).unsqueeze(2)
    return Regulated(torch.where(valid, gathered, torch.zeros_like(gathered)), lengths)
