"""Voices: an acoustic model packed for inference, with the vocoder it goes with.

A voice is a packed checkpoint (`voice_pack.pack_voice`: weights only, plus a `voice` entry
naming its vocoder and settings) or the `speechsynth export` of one (the manifest keeps the
entry). The package ships the demo voice as an export (`speechsynth/voices/demo/`, see its
model card), which `speechsynth say` uses by default and runs without torch; a checkpoint voice
imports torch when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from speechsynth.audio.io import save_audio
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.runtimes import load_vocoder, open_acoustic_model
from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions
from speechsynth.models.export_manifest import read_manifest

BUNDLED_VOICE_NAME = "demo"  # an export directory, made from the checkpoint beside it
BUNDLED_CHECKPOINT_NAME = "demo.pt"
DEFAULT_VOICE_SETTINGS: dict[str, Any] = {"vocoder": "griffin-lim", "griffin_lim_iters": 60}


@dataclass
class Voice:
    model: AcousticModel
    vocoder: Vocoder
    settings: dict[str, Any]
    path: Path


def bundled_voice_path() -> Path:
    """The package's demo voice: the export `say` speaks with."""
    return Path(str(resources.files("speechsynth") / "voices" / BUNDLED_VOICE_NAME))


def bundled_checkpoint_path() -> Path:
    """The packed checkpoint the demo voice was exported from (`make voice` writes both)."""
    return Path(str(resources.files("speechsynth") / "voices" / BUNDLED_CHECKPOINT_NAME))


def load_voice(path: str | Path | None = None, vocoder: str | None = None) -> Voice:
    """The voice at `path` (default: the bundled one) with its vocoder, or `vocoder` instead."""
    path = Path(path) if path is not None else bundled_voice_path()
    if not path.exists():
        if path == bundled_voice_path():
            raise SpeechSynthError(
                f"{path}: the bundled demo voice is missing from this installation; "
                "reinstall speechsynth, or pass --voice CKPT"
            )
        raise SpeechSynthError(f"{path}: voice not found; check the path")
    settings = voice_settings(path)
    model = open_acoustic_model(path)
    options = VocoderOptions(griffin_lim_iters=int(settings.get("griffin_lim_iters", 60)))
    chosen = load_vocoder(vocoder or settings["vocoder"], options)
    return Voice(model, chosen, settings, path)


def voice_settings(path: Path) -> dict[str, Any]:
    """The `voice` entry of a packed voice or of its export; defaults for any other model."""
    if path.is_dir():
        saved = read_manifest(path).get("voice")
    else:
        from speechsynth.models.checkpoint import is_own_checkpoint, load_file  # imports torch

        content = load_file(path)
        saved = content.get("voice") if is_own_checkpoint(content) else None
    return {**DEFAULT_VOICE_SETTINGS, **(saved if isinstance(saved, dict) else {})}


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
