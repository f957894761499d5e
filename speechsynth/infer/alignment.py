"""How well an attention matrix aligns text and frames.

- focus rate (FastSpeech paper): the mean, over decoder frames, of the largest attention weight
  a frame gives any symbol. 1.0 = every frame looks at exactly one symbol.
- diagonality: the share of attention mass within `band` symbols of the straight line from
  (first frame, first symbol) to (last frame, last symbol). Speech is read left to right at a
  roughly steady rate, so a learned alignment puts most of its mass there; a random or
  collapsed one does not (uniform attention over L symbols scores about (2 * band + 1) / L).
- monotonicity: the rank (Spearman) correlation between the frame index and the symbol each
  frame attends to most. Pauses and changes of speaking rate bend a real alignment away from
  the straight line, which diagonality penalises; they do not stop it rising, so a learned
  alignment scores near 1.0 here, random attention near 0, reversed attention -1, and attention
  stuck on one symbol 0.
"""

from __future__ import annotations

import torch
from torch import Tensor


def focus_rate(alignment: Tensor, mel_length: int, text_length: int) -> float:
    """alignment [T_mel, T_text] of one utterance -> mean max weight over its frames."""
    valid = alignment[:mel_length, :text_length].float()
    return float(valid.max(dim=1).values.mean())


def diagonality(alignment: Tensor, mel_length: int, text_length: int, band: int = 3) -> float:
    """alignment [T_mel, T_text] -> share of attention within `band` symbols of the diagonal."""
    valid = alignment[:mel_length, :text_length].float()
    frames = torch.arange(mel_length, dtype=torch.float32).unsqueeze(1)
    symbols = torch.arange(text_length, dtype=torch.float32).unsqueeze(0)
    expected_symbol = frames * (text_length - 1) / max(mel_length - 1, 1)
    near_diagonal = (symbols - expected_symbol).abs() <= band
    return float((valid * near_diagonal).sum() / valid.sum().clamp(min=1e-12))


def _average_ranks(values: Tensor) -> Tensor:
    """Ranks 0..n-1 of `values`, tied values sharing the mean of their ranks."""
    _, inverse, counts = torch.unique(values, return_inverse=True, return_counts=True)
    first_rank = torch.cumsum(counts, dim=0) - counts
    return (first_rank + (counts - 1) / 2.0)[inverse].float()


def monotonicity(alignment: Tensor, mel_length: int, text_length: int) -> float:
    """alignment [T_mel, T_text] -> rank correlation of frame index and attended symbol."""
    attended = _average_ranks(alignment[:mel_length, :text_length].float().argmax(dim=1))
    frames = torch.arange(mel_length, dtype=torch.float32)
    attended, frames = attended - attended.mean(), frames - frames.mean()
    scale = attended.norm() * frames.norm()
    return float((attended * frames).sum() / scale) if scale > 0 else 0.0


def batch_alignment_scores(
    alignments: Tensor, mel_lengths: Tensor, text_lengths: Tensor, band: int = 3
) -> dict[str, float]:
    """Mean focus rate, diagonality and monotonicity over a batch of [B, T_mel, T_text]."""
    focus, diagonal, monotonic = [], [], []
    for alignment, mel_length, text_length in zip(
        alignments, mel_lengths.tolist(), text_lengths.tolist(), strict=True
    ):
        focus.append(focus_rate(alignment, mel_length, text_length))
        diagonal.append(diagonality(alignment, mel_length, text_length, band))
        monotonic.append(monotonicity(alignment, mel_length, text_length))
    return {
        "attention_focus": sum(focus) / len(focus),
        "attention_diagonality": sum(diagonal) / len(diagonal),
        "attention_monotonicity": sum(monotonic) / len(monotonic),
    }
