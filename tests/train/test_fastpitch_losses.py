import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from speechsynth.train.losses import (
    attention_binarization_loss,
    attention_ctc_loss,
    binarization_loss_weight,
    fastpitch_loss,
    mask_from_lengths,
)

TEXT_LENGTHS = torch.tensor([7, 4])
MEL_LENGTHS = torch.tensor([20, 12])


def padded_logprob(requires_grad=True):
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 20, 7)
    mask = mask_from_lengths(TEXT_LENGTHS, 7).view(2, 1, 1, 7)
    logprob = logits.masked_fill(~mask, -math.inf).log_softmax(-1).masked_fill(~mask, 0.0)
    return logprob.requires_grad_(requires_grad)


def nvidia_ctc_with_infinite_mask(attn_logprob, text_lengths, mel_lengths):
    """NVIDIA's AttentionCTCLoss as written (masks with -inf); forward only."""
    logprob = F.pad(attn_logprob.squeeze(1).permute(1, 0, 2), (1, 0), value=-1.0)
    classes = torch.arange(attn_logprob.size(-1) + 1)
    logprob = logprob.masked_fill(
        classes.view(1, 1, -1) > text_lengths.view(1, -1, 1), -math.inf
    ).log_softmax(-1)
    targets = classes[1:].unsqueeze(0).repeat(text_lengths.numel(), 1)
    return F.ctc_loss(logprob, targets, mel_lengths, text_lengths, zero_infinity=True)


def test_ctc_loss_with_padding_has_finite_gradients_on_cpu():
    logprob = padded_logprob()
    loss = attention_ctc_loss(logprob, TEXT_LENGTHS, MEL_LENGTHS)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logprob.grad).all()
    assert logprob.grad.abs().sum() > 0
    nvidia_logprob = padded_logprob()  # the reason for the finite mask: -inf gives NaN here
    nvidia_ctc_with_infinite_mask(nvidia_logprob, TEXT_LENGTHS, MEL_LENGTHS).backward()
    assert not torch.isfinite(nvidia_logprob.grad).all()


def test_finite_masking_leaves_nvidias_loss_value_unchanged():
    logprob = padded_logprob(requires_grad=False)
    ours = attention_ctc_loss(logprob, TEXT_LENGTHS, MEL_LENGTHS)
    theirs = nvidia_ctc_with_infinite_mask(logprob, TEXT_LENGTHS, MEL_LENGTHS)
    torch.testing.assert_close(ours, theirs)


def test_ctc_loss_prefers_a_monotonic_alignment():
    diagonal = torch.full((1, 1, 8, 4), -10.0)
    for frame in range(8):
        diagonal[0, 0, frame, frame // 2] = 0.0
    reversed_order = diagonal.flip(-1)
    lengths = (torch.tensor([4]), torch.tensor([8]))
    assert attention_ctc_loss(diagonal, *lengths) < attention_ctc_loss(reversed_order, *lengths) / 5


def test_binarization_loss_is_minus_mean_log_soft_attention_on_the_hard_path():
    hard = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    soft = torch.tensor([[[[0.5, 0.5], [0.1, 0.9]]]])
    expected = -(math.log(0.5) + math.log(0.9)) / 2
    assert float(attention_binarization_loss(hard, soft)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("epoch", "expected"), [(0, 0.0), (249, 0.0), (250, 0.0), (300, 0.5), (350, 1.0), (900, 1.0)]
)
def test_binarization_weight_ramps_up_after_its_start_epoch(epoch, expected):
    assert binarization_loss_weight(epoch, 250, 100, 1.0) == pytest.approx(expected)


def test_fastpitch_loss_ignores_padding():
    torch.manual_seed(0)
    text_lengths = torch.tensor([5, 3])
    mels = torch.randn(2, 4, 9)
    mels[1, :, 6:] = 0.0
    durations = torch.tensor([[2, 2, 2, 2, 1], [2, 2, 2, 0, 0]])
    outputs = SimpleNamespace(
        mel_out=mels.transpose(1, 2).clone(),
        log_dur_pred=torch.log(durations.float() + 1),
        pitch_pred=torch.zeros(2, 1, 5),
        pitch_tgt=torch.zeros(2, 1, 5),
        energy_pred=None,
        attn_logprob=None,
    )
    loss, parts = fastpitch_loss(outputs, mels, text_lengths, durations)
    assert float(loss) == pytest.approx(0.0, abs=1e-7)
    outputs.mel_out[1, 6:] = 100.0  # garbage in padded frames
    outputs.log_dur_pred[1, 3:] = 100.0  # and on padded symbols
    outputs.pitch_pred[1, :, 3:] = 100.0
    loss, parts = fastpitch_loss(outputs, mels, text_lengths, durations)
    assert float(loss) == pytest.approx(0.0, abs=1e-7)
    outputs.pitch_pred[0, 0, 0] = 1.0  # one real error of 1 over 8 real symbols, scale 0.1
    loss, parts = fastpitch_loss(outputs, mels, text_lengths, durations)
    assert float(parts["pitch_loss"]) == pytest.approx(1 / 8)
    assert float(loss) == pytest.approx(0.1 / 8)
