"""Masks from sequence lengths, shared by every model."""

from __future__ import annotations

import torch
from torch import Tensor


def mask_from_lengths(lengths: Tensor, max_length: int | None = None) -> Tensor:
    """[B] lengths -> [B, max_length] bool, True on valid positions."""
    if max_length is None:
        max_length = int(lengths.max()) if lengths.numel() else 0
    positions = torch.arange(max_length, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def padding_mask(lengths: Tensor, max_length: int) -> Tensor:
    """Bool [B, max_length], True at positions >= the row's length (the complement)."""
    return ~mask_from_lengths(lengths, max_length)
