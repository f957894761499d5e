"""Training losses, as NVIDIA defines them for each model."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from speechsynth.models.masks import mask_from_lengths


def tacotron2_loss(
    mel_outputs: Tensor,
    mel_outputs_postnet: Tensor,
    gate_outputs: Tensor,
    mel_targets: Tensor,
    gate_targets: Tensor,
) -> tuple[Tensor, Tensor, Tensor]:
    """NVIDIA's `Tacotron2Loss`: MSE(mel) + MSE(postnet mel) + BCE-with-logits(gate).

    Means run over the padded tensors, as NVIDIA's do (padded frames are zero in both the
    masked outputs and the targets). Computed in float32 even under autocast.
    -> (total, mel part, gate part)
    """
    mel_targets = mel_targets.float()
    mel_loss = F.mse_loss(mel_outputs.float(), mel_targets) + F.mse_loss(
        mel_outputs_postnet.float(), mel_targets
    )
    gate_loss = F.binary_cross_entropy_with_logits(
        gate_outputs.float().reshape(-1, 1), gate_targets.float().reshape(-1, 1)
    )
    return mel_loss + gate_loss, mel_loss, gate_loss


def guided_attention_loss(
    alignments: Tensor, text_lengths: Tensor, mel_lengths: Tensor, sigma: float = 0.4
) -> Tensor:
    """Guided attention (Tachibana et al. 2017, "DC-TTS"; ESPnet's and Coqui's
    `GuidedAttentionLoss`): the attention weight A[t, n] each decoder frame t puts on symbols
    n far from the diagonal, priced (1 - exp(-(n / N - t / T)^2 / (2 sigma^2))), summed over
    the symbols and averaged over the real frames. ESPnet and Coqui average over (frame,
    symbol) cells instead, which divides the loss by the text length; per frame, one weight
    suits short and long texts alike.

    Not part of NVIDIA's recipe; it makes attention align in hundreds of steps instead of
    thousands on small data. alignments [B, T_mel, T_text] -> scalar
    """
    frames = torch.arange(alignments.size(1), device=alignments.device).view(1, -1, 1)
    symbols = torch.arange(alignments.size(2), device=alignments.device).view(1, 1, -1)
    mel_lengths = mel_lengths.view(-1, 1, 1).float()
    text_lengths = text_lengths.view(-1, 1, 1).float()
    distance = symbols / text_lengths - frames / mel_lengths
    penalty = 1.0 - torch.exp(-distance.square() / (2 * sigma * sigma))
    real = (frames < mel_lengths) & (symbols < text_lengths)
    return (alignments.float() * penalty * real).sum() / mel_lengths.sum()


def waveglow_loss(
    z: Tensor, log_s_list: list[Tensor], log_det_w_list: list[Tensor], sigma: float = 1.0
) -> Tensor:
    """NVIDIA's `WaveGlowLoss`: the negative log-likelihood of the audio under the flow,
    sum(z^2) / (2 sigma^2) - sum(log s) - sum(log det W), per element of z."""
    log_s_total = sum(log_s.float().sum() for log_s in log_s_list)
    log_det_w_total = sum(log_det_w.float() for log_det_w in log_det_w_list)
    z = z.float()
    nll = (z * z).sum() / (2 * sigma * sigma) - log_s_total - log_det_w_total
    return nll / z.numel()


# Padded symbols are masked with this instead of NVIDIA's -inf: torch's CPU CTC backward turns
# -inf log-probabilities into NaN gradients even with zero_infinity=True. exp(-1e4) is exactly 0
# in float32, so the loss value is unchanged.
CTC_MASK_LOGPROB = -1e4


def attention_ctc_loss(
    attn_logprob: Tensor, text_lengths: Tensor, mel_lengths: Tensor, blank_logprob: float = -1.0
) -> Tensor:
    """NVIDIA FastPitch 1.1's `AttentionCTCLoss`: every frame must emit symbols 1..L in order.

    attn_logprob: [B, 1, T_mel, L] aligner log-probabilities (before the prior).
    A blank class (log-prob `blank_logprob`) is prepended; CTC with mean reduction.
    """
    max_symbols = attn_logprob.size(-1)
    logprob = attn_logprob.float().squeeze(1).permute(1, 0, 2)  # [T_mel, B, L]
    logprob = F.pad(logprob, (1, 0), value=blank_logprob)
    classes = torch.arange(max_symbols + 1, device=logprob.device)
    beyond_text = classes.view(1, 1, -1) > text_lengths.view(1, -1, 1)
    logprob = logprob.masked_fill(beyond_text, CTC_MASK_LOGPROB).log_softmax(dim=-1)
    targets = classes[1:].unsqueeze(0).expand(text_lengths.numel(), -1)
    return F.ctc_loss(
        logprob, targets, mel_lengths, text_lengths, blank=0, reduction="mean", zero_infinity=True
    )


def attention_binarization_loss(attn_hard: Tensor, attn_soft: Tensor, eps: float = 1e-12) -> Tensor:
    """NVIDIA's `AttentionBinarizationLoss`: -mean log soft-attention on the hard (MAS) path,
    pulling the soft alignment towards the monotonic one (the KL term of Badlani et al. 2021)."""
    on_path = attn_hard == 1
    log_sum = torch.log(torch.clamp(attn_soft.float()[on_path], min=eps)).sum()
    return -log_sum / attn_hard.sum()


def binarization_loss_weight(
    epoch: int, start_epoch: int, warmup_epochs: int, weight: float
) -> float:
    """NVIDIA FastPitch 1.1: 0 before `start_epoch`, then a linear ramp to `weight`."""
    if epoch < start_epoch:
        return 0.0
    if warmup_epochs <= 0:
        return weight
    return min((epoch - start_epoch) / warmup_epochs, 1.0) * weight


def fastpitch_loss(
    outputs: Any,
    mel_targets: Tensor,
    text_lengths: Tensor,
    duration_targets: Tensor,
    duration_scale: float = 0.1,
    pitch_scale: float = 0.1,
    energy_scale: float = 0.1,
    attention_scale: float = 1.0,
    mel_lengths: Tensor | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """NVIDIA's `FastPitchLoss`: masked mel MSE + scaled log-duration, pitch and energy MSEs
    (+ the CTC attention loss when the model has the learned aligner).

    outputs: the model's training output (mel_out [B, T, n_mels], log_dur_pred, pitch_pred,
    pitch_tgt, energy_pred, energy_tgt, attn_logprob); mel_targets [B, n_mels, T] zero-padded
    (NVIDIA masks the mel loss where the target is exactly 0, i.e. the padding);
    duration_targets [B, L] (teacher or MAS durations). -> (total, named parts)
    """
    symbol_mask = mask_from_lengths(text_lengths, duration_targets.size(1)).float()
    n_symbols = symbol_mask.sum()
    log_duration_targets = torch.log(duration_targets.float() + 1)
    duration_loss = (
        F.mse_loss(outputs.log_dur_pred.float(), log_duration_targets, reduction="none")
        * symbol_mask
    ).sum() / n_symbols

    mel_targets = mel_targets.float().transpose(1, 2)
    mel_out = outputs.mel_out.float()
    mel_out = F.pad(mel_out, (0, 0, 0, mel_targets.size(1) - mel_out.size(1)))
    mel_mask = mel_targets.ne(0).float()
    mel_loss = (
        F.mse_loss(mel_out, mel_targets, reduction="none") * mel_mask
    ).sum() / mel_mask.sum()

    pitch_mask = symbol_mask.view(symbol_mask.shape[0], *([1] * (outputs.pitch_tgt.dim() - 2)), -1)
    pitch_pred = _pad_last(outputs.pitch_pred.float(), outputs.pitch_tgt.size(-1))
    pitch_loss = (
        F.mse_loss(outputs.pitch_tgt.float(), pitch_pred, reduction="none") * pitch_mask
    ).sum() / n_symbols

    parts = {"mel_loss": mel_loss, "duration_loss": duration_loss, "pitch_loss": pitch_loss}
    total = mel_loss + duration_scale * duration_loss + pitch_scale * pitch_loss
    if getattr(outputs, "energy_pred", None) is not None:
        energy_pred = _pad_last(outputs.energy_pred.float(), outputs.energy_tgt.size(-1))
        energy_tgt = outputs.energy_tgt.float().reshape(energy_pred.shape)
        energy_loss = (
            F.mse_loss(energy_tgt, energy_pred, reduction="none") * symbol_mask
        ).sum() / n_symbols
        parts["energy_loss"] = energy_loss
        total = total + energy_scale * energy_loss
    if getattr(outputs, "attn_logprob", None) is not None:
        if mel_lengths is None:
            raise ValueError("the aligner's CTC loss needs mel_lengths")
        attention_loss = attention_ctc_loss(outputs.attn_logprob, text_lengths, mel_lengths)
        parts["attention_loss"] = attention_loss
        total = total + attention_scale * attention_loss
    return total, parts


def _pad_last(tensor: Tensor, length: int) -> Tensor:
    return F.pad(tensor, (0, length - tensor.size(-1)))


def fastspeech_loss(
    mel_out: Tensor,
    log_dur_pred: Tensor,
    mel_targets: Tensor,
    text_lengths: Tensor,
    duration_targets: Tensor,
    duration_scale: float = 1.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """NVIDIA FastSpeech's loss (`FastspeechTrainer.loss`): masked mel MSE + MSE between the
    predicted log-durations and log(d + 1) on the real symbols, summed with equal weights.

    mel_out [B, T, n_mels]; log_dur_pred [B, L]; mel_targets [B, n_mels, T] zero-padded (the
    mel mask is where the target is not exactly 0, as NVIDIA's); duration_targets [B, L] frames.
    Both means run over the padded tensors, as NVIDIA's `.mean()` and `F.mse_loss` do (masked
    positions count as zero error). -> (total, {"mel_loss", "duration_loss"})
    """
    mel_targets = mel_targets.float().transpose(1, 2)
    mel_out = mel_out.float()
    mel_out = F.pad(mel_out, (0, 0, 0, mel_targets.size(1) - mel_out.size(1)))
    mel_mask = mel_targets.ne(0).float()
    mel_loss = (F.mse_loss(mel_out, mel_targets, reduction="none") * mel_mask).mean()

    symbol_mask = mask_from_lengths(text_lengths, duration_targets.size(1)).float()
    log_duration_targets = torch.log(duration_targets.float() + 1) * symbol_mask
    log_dur_pred = _pad_last(log_dur_pred.float(), duration_targets.size(1)) * symbol_mask
    duration_loss = F.mse_loss(log_dur_pred, log_duration_targets)

    total = mel_loss + duration_scale * duration_loss
    return total, {"mel_loss": mel_loss, "duration_loss": duration_loss}
