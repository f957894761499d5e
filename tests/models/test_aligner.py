"""FastPitch 1.1's aligner: beta-binomial prior, MAS, soft attention, per-symbol averages."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import betabinom

from speechsynth.models.aligner import (
    ConvAttention,
    alignment_from_durations,
    average_over_alignment,
    average_per_symbol,
    beta_binomial_prior,
    binarize_attention,
    durations_from_alignment,
    mas_width1,
)


def reference_mas(log_attn: np.ndarray) -> np.ndarray:
    """Plain Viterbi over monotonic width-1 paths from (0, 0) to (T-1, L-1), scalar Python:
    the best score of each cell, then back from the end, moving to the previous symbol
    whenever its score is at least as good (NVIDIA's tie-break)."""
    frames, symbols = log_attn.shape
    best = [[-np.inf] * symbols for _ in range(frames)]
    best[0][0] = float(log_attn[0, 0])
    for i in range(1, frames):
        for j in range(symbols):
            came_from = max(best[i - 1][j], best[i - 1][j - 1] if j > 0 else -np.inf)
            best[i][j] = np.float32(np.float32(log_attn[i, j]) + np.float32(came_from))
    path = np.zeros_like(log_attn)
    j = symbols - 1
    for i in range(frames - 1, 0, -1):
        path[i, j] = 1
        if j > 0 and best[i - 1][j - 1] >= best[i - 1][j]:
            j -= 1
    path[0, j] = 1
    return path


def random_log_attention(frames: int, symbols: int, seed: int) -> np.ndarray:
    probs = np.random.RandomState(seed).dirichlet(np.ones(symbols), size=frames)
    return np.log(probs).astype(np.float32)


# ----------------------------------------------------------------------------------- prior


def test_prior_rows_are_beta_binomial_pmfs_without_the_last_mass():
    prior = beta_binomial_prior(5, 7)
    assert prior.shape == (7, 5) and prior.dtype == torch.float64
    for i in range(1, 8):
        row = betabinom(5, i, 8 - i).pmf(np.arange(6))
        assert np.allclose(prior[i - 1].numpy(), row[:5])
        assert prior[i - 1].sum().item() == pytest.approx(1 - row[5])
    # early frames favour the first symbols, late frames the last ones
    assert prior[0].argmax() == 0 and prior[-1].argmax() == 4


def test_prior_with_scaling():
    prior = beta_binomial_prior(4, 3, scaling=0.5)
    assert np.allclose(prior[1].numpy(), betabinom(4, 1.0, 1.0).pmf(np.arange(4)))


# ------------------------------------------------------------------------------------- MAS


@pytest.mark.parametrize(("frames", "symbols", "seed"), [(30, 7, 0), (12, 12, 1), (50, 3, 2)])
def test_mas_matches_nvidias_loops_and_is_a_monotonic_path(frames, symbols, seed):
    log_attn = random_log_attention(frames, symbols, seed)
    hard = mas_width1(log_attn)
    assert np.array_equal(hard, reference_mas(log_attn))
    assert hard.dtype == np.float32
    assert np.array_equal(hard.sum(axis=1), np.ones(frames))  # one symbol per frame
    path = hard.argmax(axis=1)
    assert path[0] == 0 and path[-1] == symbols - 1
    assert set(np.diff(path)) <= {0, 1}  # stays or advances by one
    durations = hard.sum(axis=0)
    assert durations.min() >= 1 and durations.sum() == frames


def test_mas_follows_a_clear_diagonal_and_handles_one_symbol():
    log_attn = np.full((6, 3), -10.0, dtype=np.float32)
    for frame, symbol in enumerate([0, 0, 1, 1, 1, 2]):
        log_attn[frame, symbol] = 0.0
    assert mas_width1(log_attn).sum(axis=0).tolist() == [2, 3, 1]
    assert mas_width1(np.zeros((4, 1), dtype=np.float32)).sum() == 4


def test_mas_is_fast_enough_for_long_utterances():
    log_attn = random_log_attention(1000, 200, 3)
    started = time.perf_counter()
    hard = mas_width1(log_attn)
    assert time.perf_counter() - started < 1.0
    assert hard.sum() == 1000


def test_binarize_respects_each_items_lengths():
    soft = torch.softmax(torch.randn(2, 1, 10, 6, generator=torch.Generator().manual_seed(0)), 3)
    hard = binarize_attention(soft, torch.tensor([6, 4]), torch.tensor([10, 7]))
    assert hard[1, 0, 7:].sum() == 0 and hard[1, 0, :, 4:].sum() == 0
    assert durations_from_alignment(hard).sum(1).tolist() == [10, 7]
    log_attn = torch.log(soft[1, 0, :7, :4]).numpy()
    assert np.array_equal(hard[1, 0, :7, :4].numpy(), reference_mas(log_attn))


# ------------------------------------------------------------------------------- attention


def test_soft_attention_is_a_distribution_over_valid_symbols():
    torch.manual_seed(0)
    attention = ConvAttention(n_mel_channels=8, n_text_channels=6).eval()
    mels, text = torch.randn(2, 8, 11), torch.randn(2, 6, 5)
    padding = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    prior = beta_binomial_prior(5, 11).float().expand(2, -1, -1)
    with torch.no_grad():
        soft, logprob = attention(mels, text, padding, prior)
    assert soft.shape == logprob.shape == (2, 1, 11, 5)
    assert torch.allclose(soft.sum(3), torch.ones(2, 1, 11))
    assert soft[1, 0, :, 3:].abs().max() == 0
    # the log-likelihood is -0.0005 ||q - k||^2 (NVIDIA writes out the difference tensor)
    with torch.no_grad():
        q, k = attention.query_proj(mels), attention.key_proj(text)
        direct = -0.0005 * ((q[:, :, :, None] - k[:, :, None]) ** 2).sum(1, keepdim=True)
        expected = direct.log_softmax(3) + torch.log(prior[:, None] + 1e-8)
    assert torch.allclose(logprob, expected, atol=1e-5)


def test_parameter_names_follow_nvidia():
    names = list(ConvAttention(80, 64).state_dict())
    assert names[0].startswith("query_proj.0.conv") and names[-1] == "key_proj.2.conv.bias"
    assert "attn_proj.weight" in names


# -------------------------------------------------------------------------------- averages


def cumulative_sum_average(values, durations):
    """NVIDIA's `average_pitch` computation (cumulative sums), as an independent reference."""
    ends = torch.cumsum(durations, dim=1).long()
    starts = F.pad(ends[:, :-1], (1, 0))
    value_sums = F.pad(torch.cumsum(values, dim=2), (1, 0))
    nonzero_counts = F.pad(torch.cumsum(values != 0.0, dim=2), (1, 0))
    shape = (values.shape[0], values.shape[1], ends.shape[1])
    ends, starts = ends[:, None, :].expand(shape), starts[:, None, :].expand(shape)
    sums = (value_sums.gather(2, ends) - value_sums.gather(2, starts)).float()
    counts = (nonzero_counts.gather(2, ends) - nonzero_counts.gather(2, starts)).float()
    return torch.where(counts == 0.0, counts, sums / counts)


def test_average_over_alignment_equals_nvidias_cumulative_sums():
    generator = torch.Generator().manual_seed(0)
    durations = torch.randint(0, 5, (3, 30), generator=generator)
    frames = int(durations.sum(1).max()) + 2
    values = torch.randn(3, 2, frames, generator=generator)
    values = values * (torch.rand(3, 2, frames, generator=generator) > 0.3)
    alignment = alignment_from_durations(durations, frames)
    assert alignment.shape == (3, 1, frames, 30)
    assert torch.equal(durations_from_alignment(alignment).long(), durations)
    assert torch.allclose(
        average_over_alignment(values, alignment),
        cumulative_sum_average(values, durations),
        atol=1e-6,
    )

    assert torch.allclose(
        average_per_symbol(values, durations), cumulative_sum_average(values, durations), atol=1e-6
    )


def test_alignment_scores_stay_float32_under_bf16_autocast():
    torch.manual_seed(0)
    attention = ConvAttention(80, 32)
    with torch.no_grad():  # large query / key norms, as a trained aligner has
        for module in attention.modules():
            if isinstance(module, torch.nn.Conv1d):
                module.weight.mul_(6.0)
    mels, text = torch.randn(2, 80, 60) * 3, torch.randn(2, 32, 12)
    padding = torch.zeros(2, 12, dtype=torch.bool)
    prior = torch.rand(2, 60, 12)
    expected, _ = attention(mels, text, padding, prior)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        soft, logprob = attention(mels, text, padding, prior)
    assert soft.dtype == logprob.dtype == torch.float32
    # Only the bf16 convolutions differ; the distances themselves keep float32 precision.
    # (Measured: 98 % of frames keep their most likely symbol, mean |diff| 0.0015; with the
    # distances in bf16 it was 81 %, and the soft attention moved by up to 1.0.)
    assert (soft.argmax(-1) == expected.argmax(-1)).float().mean() > 0.95
    assert (soft - expected).abs().mean() < 0.005
