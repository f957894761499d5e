import pytest
import torch

from speechsynth.infer.alignment import (
    batch_alignment_scores,
    diagonality,
    focus_rate,
    monotonicity,
)


def diagonal_alignment(frames: int, symbols: int) -> torch.Tensor:
    alignment = torch.zeros(frames, symbols)
    for frame in range(frames):
        alignment[frame, round(frame * (symbols - 1) / (frames - 1))] = 1.0
    return alignment


def test_a_sharp_diagonal_scores_one():
    alignment = diagonal_alignment(120, 30)
    assert focus_rate(alignment, 120, 30) == 1.0
    assert diagonality(alignment, 120, 30) == 1.0


def test_uniform_reversed_and_stuck_attention_score_low():
    uniform = torch.full((120, 30), 1 / 30)
    assert focus_rate(uniform, 120, 30) < 0.05
    assert diagonality(uniform, 120, 30) < 0.25
    reversed_alignment = diagonal_alignment(120, 30).flip(1)
    assert diagonality(reversed_alignment, 120, 30) < 0.15  # it crosses the diagonal once
    stuck = torch.zeros(120, 30)
    stuck[:, 0] = 1.0  # sharp but never moves on: focus high, diagonality low
    assert focus_rate(stuck, 120, 30) == 1.0
    assert diagonality(stuck, 120, 30) < 0.15


def test_padding_is_ignored():
    alignment = torch.zeros(150, 40)
    alignment[:120, :30] = diagonal_alignment(120, 30)
    alignment[120:, :] = 1 / 40  # padded frames, whatever they hold
    scores = batch_alignment_scores(alignment.unsqueeze(0), torch.tensor([120]), torch.tensor([30]))
    assert scores == pytest.approx(
        {"attention_focus": 1.0, "attention_diagonality": 1.0, "attention_monotonicity": 1.0},
        abs=1e-3,
    )


def test_monotonicity_tolerates_pauses_but_not_disorder():
    frames, symbols = 200, 40
    with_pause = torch.zeros(frames, symbols)
    for frame in range(frames):  # reads 30 symbols fast, pauses, then reads the last 10 slowly
        position = frame if frame < 30 else 30 if frame < 150 else 30 + (frame - 150) // 5
        with_pause[frame, min(position, symbols - 1)] = 1.0
    assert diagonality(with_pause, frames, symbols) < 0.5  # far from the straight line...
    assert monotonicity(with_pause, frames, symbols) > 0.85  # ...but in reading order
    shuffled = with_pause[torch.randperm(frames, generator=torch.Generator().manual_seed(0))]
    assert abs(monotonicity(shuffled, frames, symbols)) < 0.2
    assert monotonicity(diagonal_alignment(frames, symbols).flip(1), frames, symbols) < -0.99
