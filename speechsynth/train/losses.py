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
