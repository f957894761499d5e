"""A synthesis run as the CLI asks for it: which model and vocoder, how they run, the controls,
and what is written (one WAV per utterance, optionally its mel, and summary.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsynth.audio.io import save_audio, save_mel
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.griffin_lim_vocoder import GRIFFIN_LIM
from speechsynth.infer.pitch_transforms import PitchTransformSpec, load_custom_function
from speechsynth.infer.runtimes import RuntimeOptions, load_vocoder, open_acoustic_model
from speechsynth.infer.synthesizer import DEFAULT_MAX_CHARS_PER_CHUNK, SynthesisResult, Synthesizer
from speechsynth.infer.vocoder_interface import VocoderOptions

SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class SynthesisSettings:
    model: Path
    vocoder: str = GRIFFIN_LIM
    runtime: RuntimeOptions = field(default_factory=RuntimeOptions)
    vocoder_options: VocoderOptions = field(default_factory=VocoderOptions)
    controls: Controls = field(default_factory=Controls)
    batch_size: int = 8
    seed: int | None = None
    max_chars_per_chunk: int = DEFAULT_MAX_CHARS_PER_CHUNK


def pitch_spec(
    flatten: bool = False,
    invert: bool = False,
    amplify: float = 1.0,
    shift_hz: float = 0.0,
    custom: str | None = None,
) -> PitchTransformSpec | None:
    """NVIDIA's pitch transforms plus an optional `FILE.py:FUNC` (None: no change)."""
    function = load_custom_function(custom) if custom else None
    spec = PitchTransformSpec(flatten, invert, amplify, shift_hz, function)
    return None if spec.is_identity else spec


def build_synthesizer(settings: SynthesisSettings) -> Synthesizer:
    """The vocoder first (a wrong path fails before a long model load), then the model."""
    vocoder_runtime = RuntimeOptions(device=settings.runtime.device)
    vocoder = load_vocoder(settings.vocoder, settings.vocoder_options, vocoder_runtime)
    model = open_acoustic_model(settings.model, settings.runtime)
    return Synthesizer(
        model,
        vocoder,
        batch_size=settings.batch_size,
        seed=settings.seed,
        max_chars_per_chunk=settings.max_chars_per_chunk,
        controls=settings.controls,
    )


def synthesize_to_directory(
    settings: SynthesisSettings,
    utterances: list[tuple[str, str]],
    output_dir: Path,
    save_mels: bool = False,
) -> dict[str, Any]:
    """Synthesise `(name, text)` pairs into OUTDIR/<name>.wav (and .npy with `save_mels`) and
    OUTDIR/summary.json -> the summary."""
    if output_dir.exists() and not output_dir.is_dir():
        raise SpeechSynthError(f"{output_dir}: exists and is not a folder; choose another -o")
    synthesizer = build_synthesizer(settings)
    results = synthesizer.synthesize(utterances)
    summary = run_summary(run_settings(settings, synthesizer), results, save_mels)
    for result, row in zip(results, summary["utterances"], strict=True):
        save_audio(output_dir / row["wav"], result.audio, summary["sampling_rate"])
        if "mel" in row:
            save_mel(output_dir / row["mel"], result.mel)
    write_text_atomic(
        output_dir / SUMMARY_NAME, json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    )
    return summary


def run_settings(settings: SynthesisSettings, synthesizer: Synthesizer) -> dict[str, Any]:
    """What the run used, defaults resolved to the model's values."""
    controls = settings.controls
    model = synthesizer.acoustic_model
    pitch = controls.pitch or PitchTransformSpec()
    return {
        "model": str(settings.model),
        **model.describe(),
        "vocoder": settings.vocoder,
        "sampling_rate": synthesizer.vocoder.sampling_rate,
        "batch_size": settings.batch_size,
        "max_decoder_steps": synthesizer.decoder_step_limit,
        "gate_threshold": model.gate_threshold(controls),
        "seed": settings.seed,
        "pace": controls.pace,
        "pitch": {
            "flatten": pitch.flatten,
            "invert": pitch.invert,
            "amplify": pitch.amplify,
            "shift_hz": pitch.shift_hz,
            "custom": getattr(pitch.custom, "__name__", None),
        },
        "alpha": controls.alpha,
    }


def run_summary(
    settings: dict[str, Any], results: list[SynthesisResult], save_mels: bool = False
) -> dict[str, Any]:
    """The run's settings, one entry per utterance, and totals (as summary.json holds them)."""
    audio_seconds = sum(result.seconds for result in results)
    synthesis_seconds = sum(result.synthesis_seconds for result in results)
    return {
        **settings,
        "utterances": [
            {
                "name": result.name,
                "text": result.text,
                "wav": f"{result.name}.wav",
                **({"mel": f"{result.name}.npy"} if save_mels else {}),
                "seconds": round(result.seconds, 4),
                "frames": result.n_frames,
                "hit_max_decoder_steps": result.hit_max_decoder_steps,
                "synthesis_seconds": round(result.synthesis_seconds, 4),
            }
            for result in results
        ],
        "totals": {
            "utterances": len(results),
            "audio_seconds": round(audio_seconds, 4),
            "synthesis_seconds": round(synthesis_seconds, 4),
            "real_time_factor": round(synthesis_seconds / audio_seconds, 4)
            if audio_seconds
            else None,
            "hit_max_decoder_steps": sum(result.hit_max_decoder_steps for result in results),
        },
    }
