"""Exponential moving average of a model's weights (NVIDIA FastPitch's `--ema-decay`)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema_model(model: nn.Module) -> nn.Module:
    """A frozen copy of `model` that `update_ema` keeps averaging."""
    ema_model = copy.deepcopy(model)
    for parameter in ema_model.parameters():
        parameter.requires_grad_(False)
    return ema_model


@torch.no_grad()
def update_ema(ema_model: nn.Module, model: nn.Module, decay: float) -> None:
    """ema = decay * ema + (1 - decay) * current, for every floating-point parameter and buffer
    (NVIDIA's `apply_ema_decay` walks the whole state_dict too); integer buffers are copied."""
    current = model.state_dict()
    for name, average in ema_model.state_dict().items():
        if average.is_floating_point():
            average.mul_(decay).add_(current[name].to(average.dtype), alpha=1 - decay)
        else:
            average.copy_(current[name])
