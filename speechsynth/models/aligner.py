"""FastPitch 1.1's learned alignment (training only): soft attention, prior, MAS, durations.

As NVIDIA's `fastpitch/attention.py ConvAttention` ('3xconv' query encoder), `alignment.py
mas_width1` and `data_function.py beta_binomial_prior_distribution`:

- keys: the symbol embeddings through Conv(d -> 2d, k3) - ReLU - Conv(2d -> 80, k1); queries: the
  mel frames through Conv(80 -> 160, k3) - ReLU - Conv(160 -> 80, k1) - ReLU - Conv(80 -> 80, k1);
- log-likelihood -0.0005 * ||q - k||^2; with a prior, log_softmax over symbols + log(prior + 1e-8)
  (= `attn_logprob`, for the CTC loss); padded symbols masked; softmax over symbols = `attn_soft`;
- the beta-binomial prior: frame i of M over P symbols ~ BetaBinomial(P, i, M + 1 - i) at 0..P-1;
- monotonic alignment search (width 1) on log(attn_soft) -> `attn_hard` (one symbol per frame,
  every symbol at least one frame, in order) -> durations = frames per symbol.

NVIDIA computes ||q - k||^2 as a [B, 80, T, L] difference tensor; here it is expanded as
|q|^2 + |k|^2 - 2 q.k (a [B, T, L] matmul), equal to float rounding and far lighter on memory.
`attn_proj` is built (its weights are in NVIDIA's checkpoints) but, as there, unused.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import betabinom
from torch import Tensor, nn

from speechsynth.models.tacotron2 import XavierConv1d

ATTENTION_CHANNELS = 80  # NVIDIA's n_att_channels default, which FastPitch keeps
LOG_LIKELIHOOD_SCALE = -0.0005
PRIOR_FLOOR = 1e-8


class ConvAttention(nn.Module):
    def __init__(self, n_mel_channels: int, n_text_channels: int):
        super().__init__()
        # Registered in NVIDIA's order: its state_dict lists query_proj, attn_proj, key_proj.
        self.query_proj = nn.Sequential(
            XavierConv1d(n_mel_channels, n_mel_channels * 2, 3, init_gain="relu"),
            nn.ReLU(),
            XavierConv1d(n_mel_channels * 2, n_mel_channels, 1),
            nn.ReLU(),
            XavierConv1d(n_mel_channels, ATTENTION_CHANNELS, 1),
        )
        self.attn_proj = nn.Conv2d(ATTENTION_CHANNELS, 1, kernel_size=1)
        self.key_proj = nn.Sequential(
            XavierConv1d(n_text_channels, n_text_channels * 2, 3, init_gain="relu"),
            nn.ReLU(),
            XavierConv1d(n_text_channels * 2, ATTENTION_CHANNELS, 1),
        )

    def forward(
        self,
        mels: Tensor,
        text_embedding: Tensor,
        text_padding: Tensor,
        attn_prior: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """mels [B, n_mels, T], text_embedding [B, d, L], text_padding [B, L] bool (True =
        padded), attn_prior [B, T, L] or None -> (attn_soft, attn_logprob), each [B, 1, T, L]."""
        keys = self.key_proj(text_embedding)  # [B, 80, L]
        queries = self.query_proj(mels)  # [B, 80, T]
        # Always in float32, also under autocast: |q|^2 + |k|^2 - 2 q.k cancels, and in
        # bfloat16 its error grows with the norms until the alignment collapses (seen in a
        # bf16 training run: the soft attention drifted off the monotonic path within ~500 steps).
        with torch.autocast(mels.device.type, enabled=False):
            queries, keys = queries.float(), keys.float()
            distances = (
                queries.pow(2).sum(1).unsqueeze(2)
                + keys.pow(2).sum(1).unsqueeze(1)
                - 2 * torch.bmm(queries.transpose(1, 2), keys)
            )
            attn = (LOG_LIKELIHOOD_SCALE * distances).unsqueeze(1)
            if attn_prior is not None:
                prior = attn_prior.float().unsqueeze(1)
                attn = attn.log_softmax(dim=3) + torch.log(prior + PRIOR_FLOOR)
            attn_logprob = attn.clone()
            attn = attn.masked_fill(text_padding[:, None, None, :], -float("inf"))
            return attn.softmax(dim=3), attn_logprob


def beta_binomial_prior(text_len: int, mel_len: int, scaling: float = 1.0) -> Tensor:
    """-> float64 [mel_len, text_len]: row i (1-based) is the BetaBinomial(text_len, scaling * i,
    scaling * (mel_len + 1 - i)) pmf at 0..text_len-1 (the mass at text_len is left out, as
    NVIDIA does, so rows sum to slightly less than 1)."""
    frames = np.arange(1, mel_len + 1, dtype=np.float64)[:, None]
    symbols = np.arange(text_len)[None, :]
    pmf = betabinom(text_len, scaling * frames, scaling * (mel_len + 1 - frames)).pmf(symbols)
    return torch.from_numpy(np.ascontiguousarray(pmf))


def mas_width1(log_attn: np.ndarray) -> np.ndarray:
    """Monotonic alignment search, NVIDIA's `mas_width1`: log_attn [T_mel, L] -> 0/1 [T_mel, L]
    (same dtype) with one symbol per frame, starting at symbol 0, ending at symbol L-1, each
    step staying or advancing by one, maximising the summed log-probabilities; ties advance."""
    frames, symbols = log_attn.shape
    hard = np.zeros_like(log_attn)
    if symbols == 1:
        hard[:, 0] = 1
        return hard
    neg_inf = log_attn.dtype.type(-np.inf)
    best = log_attn.copy()
    best[0, 1:] = neg_inf
    for i in range(1, frames):
        previous = best[i - 1]
        advanced = np.concatenate(([neg_inf], previous[:-1]))
        best[i] += np.maximum(advanced, previous)
    j = symbols - 1
    for i in range(frames - 1, 0, -1):
        hard[i, j] = 1
        if best[i - 1, j - 1] >= best[i - 1, j]:
            j -= 1
            if j == 0:
                hard[1:i, 0] = 1
                break
    hard[0, j] = 1
    return hard


def binarize_attention(attn_soft: Tensor, text_lengths: Tensor, mel_lengths: Tensor) -> Tensor:
    """attn_soft [B, 1, T, L] -> attn_hard [B, 1, T, L] (MAS on log attn_soft per item, on the
    CPU in float32; zero outside each item's frames x symbols). No gradient."""
    with torch.no_grad():
        log_attn = torch.log(attn_soft.detach()).to(device="cpu", dtype=torch.float32).numpy()
        hard = np.zeros(log_attn.shape, dtype=np.float32)
        lengths = zip(text_lengths.tolist(), mel_lengths.tolist(), strict=True)
        for row, (symbols, frames) in enumerate(lengths):
            hard[row, 0, :frames, :symbols] = mas_width1(log_attn[row, 0, :frames, :symbols])
    return torch.from_numpy(hard).to(device=attn_soft.device, dtype=attn_soft.dtype)


def durations_from_alignment(attn_hard: Tensor) -> Tensor:
    """attn_hard [B, 1, T, L] -> frames per symbol [B, L] (float, as NVIDIA's attn_hard_dur)."""
    return attn_hard.sum(2)[:, 0, :]


def alignment_from_durations(durations: Tensor, n_frames: int) -> Tensor:
    """Integer durations [B, L] -> hard alignment [B, 1, n_frames, L] (frame t -> its symbol);
    frames past an item's total are all zero."""
    ends = torch.cumsum(durations.long(), dim=1)
    starts = ends - durations.long()
    frames = torch.arange(n_frames, device=durations.device).view(1, n_frames, 1)
    inside = (frames >= starts.unsqueeze(1)) & (frames < ends.unsqueeze(1))
    return inside.unsqueeze(1).float()


def average_over_alignment(values: Tensor, attn_hard: Tensor) -> Tensor:
    """values [B, C, T] per frame, attn_hard [B, 1, T, L] -> [B, C, L]: each symbol's mean over
    the NON-ZERO values of its frames (0 = unvoiced / missing), 0 if none: NVIDIA FastPitch
    1.1's `average_pitch` (which uses cumulative sums; equal up to float rounding)."""
    alignment = attn_hard[:, 0].to(values.dtype)  # [B, T, L]
    sums = torch.bmm(values, alignment)
    counts = torch.bmm((values != 0).to(values.dtype), alignment)
    return torch.where(counts == 0, counts, sums / counts.clamp_min(1))


def average_per_symbol(values: Tensor, durations: Tensor) -> Tensor:
    """values [B, C, T_frames], integer durations [B, L] -> [B, C, L]: `average_over_alignment`
    over the symbols' consecutive spans (frames past the last symbol are ignored). Used for
    pitch and energy targets by the model, the data loader and `prepare pitch`."""
    return average_over_alignment(values, alignment_from_durations(durations, values.size(-1)))
