"""The per-symbol predictor of FastPitch (durations, pitch, energy) and FastSpeech (durations).

n x [Conv1d -> ReLU -> LayerNorm -> Dropout] then Linear -> `n_predictions` values per symbol, the
input and output zeroed on padded symbols. Parameter names are NVIDIA FastPitch's
(`layers.N.conv`, `layers.N.norm`, `fc`); FastSpeech's DurationPredictor (`conv1d_1`,
`layer_norm_1`, ..., `linear_layer`) is the same network with n = 2, renamed by
`speechsynth.models.fastspeech`. (FastSpeech multiplies its input by the mask in place, changing
the caller's tensor; its input is already zero there, so values are the same.)
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class ConvReLUNorm(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dropout: float):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"the predictor kernel must be odd, got {kernel_size}")
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.norm = nn.LayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """[B, C_in, L] -> [B, C_out, L]."""
        out = F.relu(self.conv(x))
        return self.dropout(self.norm(out.transpose(1, 2)).transpose(1, 2))


class TemporalPredictor(nn.Module):
    def __init__(
        self,
        input_size: int,
        filter_size: int,
        kernel_size: int,
        dropout: float,
        n_layers: int = 2,
        n_predictions: int = 1,
    ):
        super().__init__()
        self.layers = nn.Sequential(
            *(
                ConvReLUNorm(
                    input_size if i == 0 else filter_size, filter_size, kernel_size, dropout
                )
                for i in range(n_layers)
            )
        )
        self.fc = nn.Linear(filter_size, n_predictions)

    def forward(self, x: Tensor, mask: Tensor, padding_invariant: bool = False) -> Tensor:
        """x [B, L, C], mask [B, L, 1] (True / 1 = valid) -> [B, L, n_predictions].

        `padding_invariant` zeroes padded symbols between the layers too, so that a padded batch
        item gets what it would get alone (NVIDIA lets LayerNorm(ReLU(bias)) of padded symbols
        reach the last valid ones through the next convolution).
        """
        out = (x * mask).transpose(1, 2)
        channel_mask = mask.transpose(1, 2)
        for layer in self.layers:
            out = layer(out)
            if padding_invariant:
                out = out * channel_mask
        return self.fc(out.transpose(1, 2)) * mask
