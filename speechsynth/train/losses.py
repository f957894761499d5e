"""Training losses, as NVIDIA defines them for each model."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


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
