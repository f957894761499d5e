"""`speechsynth voice pack`: a training checkpoint as a small voice file (PyTorch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from speechsynth.infer.voice import DEFAULT_VOICE_SETTINGS
from speechsynth.models.checkpoint import read_checkpoint, write_checkpoint


def pack_voice(
    checkpoint: str | Path,
    output: str | Path,
    *,
    fp16: bool = True,
    settings: dict[str, Any] | None = None,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write `checkpoint`'s inference weights (its moving average when it has one) as a voice:
    no optimizer or RNG state; floating-point tensors in fp16 with `fp16` (they are loaded back
    into fp32). -> the written payload's summary."""
    content = read_checkpoint(checkpoint)
    state_dict = content.get("ema_state_dict") or content["state_dict"]
    if fp16:
        state_dict = {
            name: tensor.half() if tensor.is_floating_point() else tensor
            for name, tensor in state_dict.items()
        }
    payload = {
        "model_name": content["model_name"],
        "model_config": content["model_config"],
        "state_dict": state_dict,
        "experiment": content.get("experiment", {}),
        "epoch": content.get("epoch"),
        "step": content.get("step"),
        "voice": {**DEFAULT_VOICE_SETTINGS, **(settings or {})},
        "card": card or {},
    }
    write_checkpoint(output, payload)
    parameters = sum(tensor.numel() for tensor in state_dict.values())
    return {
        "output": str(output),
        "model": content["model_name"],
        "parameters": parameters,
        "bytes": Path(output).stat().st_size,
        "step": content.get("step"),
        "dtype": str(torch.float16 if fp16 else torch.float32),
    }
