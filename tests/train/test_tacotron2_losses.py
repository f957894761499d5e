import math

import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.models.tacotron2 import Tacotron2Config
from speechsynth.train.config import build_config
from speechsynth.train.losses import guided_attention_loss
from speechsynth.train.tacotron2 import Tacotron2Task


def one_hot_alignment(attended_symbols: list[int], n_symbols: int) -> torch.Tensor:
    """[1, T_mel, n_symbols]: frame t attends only to attended_symbols[t]."""
    alignment = torch.zeros(1, len(attended_symbols), n_symbols)
    alignment[0, torch.arange(len(attended_symbols)), torch.tensor(attended_symbols)] = 1.0
    return alignment


def lengths(frames: int, symbols: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([symbols]), torch.tensor([frames])


def test_guided_attention_costs_nothing_on_the_diagonal_and_most_on_the_antidiagonal():
    frames, symbols = 40, 10
    diagonal = one_hot_alignment([t * symbols // frames for t in range(frames)], symbols)
    reversed_order = diagonal.flip(-1)
    on_diagonal = guided_attention_loss(diagonal, *lengths(frames, symbols))
    against = guided_attention_loss(reversed_order, *lengths(frames, symbols))
    assert on_diagonal < 0.02
    assert against > 0.5
    # A frame attending to the symbol at the opposite end pays 1 - exp(-1 / (2 sigma^2)).
    corner = one_hot_alignment([symbols - 1] + [0] * (frames - 1), symbols)[:, :1]
    expected = 1 - math.exp(-(((symbols - 1) / symbols) ** 2) / (2 * 0.4**2))
    assert torch.isclose(
        guided_attention_loss(corner, *lengths(1, symbols)), torch.tensor(expected)
    )


def test_guided_attention_ignores_padding_and_averages_per_frame():
    frames, symbols = 30, 12
    attended = [(t * 7) % symbols for t in range(frames)]  # off the diagonal, so it costs
    alignment = one_hot_alignment(attended, symbols)
    alone = guided_attention_loss(alignment, *lengths(frames, symbols))
    padded = torch.zeros(2, frames + 9, symbols + 5)
    padded[0, :frames, :symbols] = alignment[0]
    padded[0, frames:, :] = 1.0  # garbage in padded frames and symbols must not count
    padded[0, :, symbols:] = 1.0
    padded[1, :frames, :symbols] = alignment[0]
    text_lengths, mel_lengths = torch.tensor([symbols, symbols]), torch.tensor([frames, frames])
    both = guided_attention_loss(padded, text_lengths, mel_lengths)
    assert torch.isclose(both, alone, atol=1e-6)
    assert alone > 0.1


def test_tacotron2_refuses_loss_terms_it_does_not_have():
    config = build_config("tacotron2", Tacotron2Config, assignments=["train.loss_scales.pitch=0.1"])
    with pytest.raises(SpeechSynthError, match=r"no loss term pitch.*guided_attention"):
        Tacotron2Task().build_model(config)
