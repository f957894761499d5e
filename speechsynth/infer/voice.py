"""Voices: an acoustic model packed for inference, with the vocoder it goes with.

A voice is a packed checkpoint (`voice_pack.pack_voice`: weights only, plus a `voice` entry
naming its vocoder and settings) or the `speechsynth export` of one (the manifest keeps the
entry). The package ships the demo voice as an export (`speechsynth/voices/demo/`, see its
model card), which `speechsynth say` uses by default and runs without torch; a checkpoint voice
imports torch when it is loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from speechsynth.audio.io import save_audio
from speechsynth.audio.stream import pcm16_bytes, streaming_wav_header
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.runtimes import load_vocoder, open_acoustic_model
from speechsynth.infer.synthesizer import AudioChunk, Synthesizer
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
    _check_writable(output)
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


def _check_writable(output: Path) -> None:
    """Fail before synthesis, not after, when `output` cannot be written."""
    if output.is_dir():
        raise SpeechSynthError(f"{output}: is a folder; give a .wav file path")
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SpeechSynthError(f"{output}: {parent} is not a folder; choose another path")
            break


STREAM_FORMATS = ("wav", "raw")
# A streamed text is cut into shorter chunks than a whole one (300 characters): the first sound
# waits for the first chunk only. Sentences still share a chunk while they fit.
STREAM_CHUNK_CHARS = 100


def speak_streaming(
    text: str,
    sink: BinaryIO | Path,
    audio_format: str = "wav",
    voice_path: str | Path | None = None,
    vocoder: str | None = None,
    pace: float = 1.0,
    seed: int | None = None,
) -> dict[str, Any]:
    """`say --stream`: `text` in the voice, written to `sink` chunk by chunk as each is made —
    a binary stream (stdout: a WAV header for a stream of unknown length, or raw 16-bit PCM),
    or a file that grows (its WAV header fixed when it closes, also on Ctrl-C) -> a summary
    with the time to the first audio."""
    if not text.strip():
        raise SpeechSynthError("the text is empty: give text with letters or digits")
    if audio_format not in STREAM_FORMATS:
        raise SpeechSynthError(f"--format {audio_format!r}: choose {' or '.join(STREAM_FORMATS)}")
    if isinstance(sink, Path):
        _check_writable(sink)
    voice = load_voice(voice_path, vocoder)
    synthesizer = Synthesizer(
        voice.model,
        voice.vocoder,
        seed=seed,
        max_chars_per_chunk=STREAM_CHUNK_CHARS,
        controls=Controls(pace=pace),
    )
    chunks = synthesizer.stream(text)
    rate = voice.vocoder.sampling_rate
    if isinstance(sink, Path):
        written = _stream_to_file(chunks, sink, rate, audio_format)
    else:
        written = _stream_to_binary(chunks, sink, rate, audio_format)
    samples, first, last = written
    return {
        "output": str(sink) if isinstance(sink, Path) else "-",
        "voice": str(voice.path),
        "format": audio_format,
        "seconds": round(samples / rate, 3),
        "time_to_first_audio": round(first, 3),
        "synthesis_seconds": round(last, 3),
        "real_time_factor": round(last * rate / samples, 4) if samples else None,
    }


def _stream_to_binary(
    chunks: Iterator[AudioChunk], sink: BinaryIO, rate: int, audio_format: str
) -> tuple[int, float, float]:
    samples, first, last = 0, 0.0, 0.0
    for chunk in chunks:
        if chunk.index == 0:
            first = chunk.ready_seconds
            if audio_format == "wav":
                sink.write(streaming_wav_header(rate))
        sink.write(pcm16_bytes(chunk.audio))
        sink.flush()
        samples, last = samples + len(chunk.audio), chunk.ready_seconds
    return samples, first, last


def _stream_to_file(
    chunks: Iterator[AudioChunk], path: Path, rate: int, audio_format: str
) -> tuple[int, float, float]:
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    kind = {"wav": {"format": "WAV"}, "raw": {"format": "RAW", "endian": "LITTLE"}}[audio_format]
    samples, first, last = 0, 0.0, 0.0
    with soundfile.SoundFile(path, "w", rate, 1, subtype="PCM_16", **kind) as file:
        for chunk in chunks:  # the file is closed, header fixed, also when this is interrupted
            first = chunk.ready_seconds if chunk.index == 0 else first
            file.write(np.clip(chunk.audio, -1.0, 1.0))
            file.flush()
            samples, last = samples + len(chunk.audio), chunk.ready_seconds
    return samples, first, last
