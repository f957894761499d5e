"""Voices: an acoustic model checkpoint packed for inference, with the vocoder it goes with.

A voice file is one of our checkpoints without training state (weights only, fp16 when packed
so), plus a `voice` entry naming its vocoder and settings. The package ships one, the demo voice
(`speechsynth/voices/demo.pt`, see its model card); `speechsynth say` uses it by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.vocoders import Vocoder, load_vocoder
from speechsynth.models.checkpoint import (
    is_own_checkpoint,
    load_file,
    read_checkpoint,
    write_checkpoint,
)
from speechsynth.models.registry import LoadedModel, load_model

BUNDLED_VOICE_NAME = "demo.pt"
DEFAULT_VOICE_SETTINGS: dict[str, Any] = {"vocoder": "griffin-lim", "griffin_lim_iters": 60}


@dataclass
class Voice:
    model: LoadedModel
    vocoder: Vocoder
    settings: dict[str, Any]
    path: Path


def bundled_voice_path() -> Path:
    """Where the package's demo voice lives (it may be absent in a source checkout)."""
    return Path(str(resources.files("speechsynth") / "voices" / BUNDLED_VOICE_NAME))


def load_voice(path: str | Path | None = None, vocoder: str | None = None) -> Voice:
    """The voice at `path` (default: the bundled one) with its vocoder, or `vocoder` instead."""
    path = Path(path) if path is not None else bundled_voice_path()
    if not path.is_file():
        if path == bundled_voice_path():
            raise SpeechSynthError(
                f"{path}: the bundled demo voice is missing from this installation; "
                "build it with `make voice` or pass --voice CKPT"
            )
        raise SpeechSynthError(f"{path}: voice not found; check the path")
    settings = voice_settings(path)
    model = load_model(path)
    spec = vocoder or settings["vocoder"]
    chosen = load_vocoder(spec, griffin_lim_iters=int(settings.get("griffin_lim_iters", 60)))
    return Voice(model, chosen, settings, path)


def voice_settings(path: Path) -> dict[str, Any]:
    """The `voice` entry of a packed voice; defaults for any other checkpoint."""
    content = load_file(path)
    saved = content.get("voice") if is_own_checkpoint(content) else None
    return {**DEFAULT_VOICE_SETTINGS, **(saved or {})}


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
