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

from speechsynth.audio.io import save_audio
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.runtimes import open_acoustic_model
from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.vocoders import Vocoder, VocoderOptions, load_vocoder
from speechsynth.models.checkpoint import (
    is_own_checkpoint,
    load_file,
    read_checkpoint,
    write_checkpoint,
)

BUNDLED_VOICE_NAME = "demo.pt"
DEFAULT_VOICE_SETTINGS: dict[str, Any] = {"vocoder": "griffin-lim", "griffin_lim_iters": 60}


@dataclass
class Voice:
    model: AcousticModel
    vocoder: Vocoder
    settings: dict[str, Any]
    path: Path


def bundled_voice_path() -> Path:
    """Where the package's demo voice lives (it may be absent in a source checkout)."""
    return Path(str(resources.files("speechsynth") / "voices" / BUNDLED_VOICE_NAME))


def load_voice(path: str | Path | None = None, vocoder: str | None = None) -> Voice:
    """The voice at `path` (default: the bundled one) with its vocoder, or `vocoder` instead."""
    path = Path(path) if path is not None else bundled_voice_path()
    if not path.exists():
        if path == bundled_voice_path():
            raise SpeechSynthError(
                f"{path}: the bundled demo voice is missing from this installation; "
                "build it with `make voice` or pass --voice CKPT"
            )
        raise SpeechSynthError(f"{path}: voice not found; check the path")
    settings = voice_settings(path)
    model = open_acoustic_model(path)
    options = VocoderOptions(griffin_lim_iters=int(settings.get("griffin_lim_iters", 60)))
    chosen = load_vocoder(vocoder or settings["vocoder"], options)
    return Voice(model, chosen, settings, path)


def voice_settings(path: Path) -> dict[str, Any]:
    """The `voice` entry of a packed voice; defaults for any other checkpoint or an export."""
    if path.is_dir():
        return dict(DEFAULT_VOICE_SETTINGS)
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


def speak_to_file(
    text: str,
    output: Path,
    voice_path: str | Path | None = None,
    vocoder: str | None = None,
    pace: float = 1.0,
    seed: int | None = None,
) -> dict[str, Any]:
    """`speechsynth say`: `text` in the voice at `voice_path` (default: the bundled one) into
    the WAV file `output` -> a summary."""
    if not text.strip():
        raise SpeechSynthError("the text is empty: give text with letters or digits")
    if output.suffix.lower() != ".wav":
        raise SpeechSynthError(f"{output}: the output must be a .wav file")
    voice = load_voice(voice_path, vocoder)
    synthesizer = Synthesizer(voice.model, voice.vocoder, seed=seed, controls=Controls(pace=pace))
    result = synthesizer.synthesize([("say", text)])[0]
    save_audio(output, result.audio, voice.vocoder.sampling_rate)
    return {
        "output": str(output),
        "voice": str(voice.path),
        "seconds": round(result.seconds, 3),
        "synthesis_seconds": round(result.synthesis_seconds, 3),
        "real_time_factor": round(result.synthesis_seconds / result.seconds, 4)
        if result.seconds
        else None,
        "sentences": result.n_chunks,
    }
