"""A Triton model repository for a voice: what `speechsynth export triton` writes and
`speechsynth serve` runs.

    REPOSITORY/tts/config.pbtxt       Python backend, dynamic batching, inputs and outputs
    REPOSITORY/tts/1/model.py         imports speechsynth.serve.triton_backend.TritonPythonModel
    REPOSITORY/tts/1/voice[.pt]       a copy of the voice (export directory or checkpoint)

A stock Triton serves it when its Python can import speechsynth (README, "Serving").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.voice import bundled_voice_path, load_voice
from speechsynth.serve.tts_service import DEFAULT_MAX_TEXT_CHARS

MODEL_NAME = "tts"
MODEL_FILE = '''"""Triton Python backend for a speechsynth voice (`speechsynth export triton`)."""

from speechsynth.serve.triton_backend import TritonPythonModel  # noqa: F401
'''
# input name -> the voice control it needs (None: always there)
OPTIONAL_CONTROL_INPUTS = {"PACE": "pace", "PITCH_SHIFT": "pitch"}


@dataclass(frozen=True)
class RepositoryOptions:
    voice: Path | None = None  # None: the bundled voice
    vocoder: str | None = None  # None: the voice's own
    max_batch_size: int = 32  # texts per request, and what dynamic batching gathers
    max_queue_delay_ms: float = 1.0
    instances: int = 1
    batch_size: int = 8  # utterances per pass of the acoustic model
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS


def write_repository(output: Path, options: RepositoryOptions) -> Path:
    """The repository for `options.voice` in `output` (written whole, then moved in place)."""
    voice_path = options.voice or bundled_voice_path()
    voice = load_voice(voice_path, options.vocoder)  # fails here, not in the server, if bad
    if min(options.max_batch_size, options.instances, options.batch_size) < 1:
        raise SpeechSynthError("--max-batch-size, --instances and the batch size must be >= 1")
    voice_name = "voice" + ("" if voice_path.is_dir() else voice_path.suffix)
    with _staged(output) as staging:
        version = staging / MODEL_NAME / "1"
        version.mkdir(parents=True)
        copy = shutil.copytree if voice_path.is_dir() else shutil.copyfile
        copy(voice_path, version / voice_name)
        (version / "model.py").write_text(MODEL_FILE, encoding="utf-8")
        controls = frozenset(voice.model.controls)
        config = model_config(options, voice_name, controls, voice.vocoder.sampling_rate)
        (staging / MODEL_NAME / "config.pbtxt").write_text(config, encoding="utf-8")
    return output


def model_config(
    options: RepositoryOptions, voice_name: str, controls: frozenset[str], sampling_rate: int
) -> str:
    """config.pbtxt of the `tts` model."""
    optional = "".join(
        f',\n  {{ name: "{name}" data_type: TYPE_FP32 dims: [ 1 ] optional: true }}'
        for name, control in OPTIONAL_CONTROL_INPUTS.items()
        if control in controls
    )
    parameters = {
        "voice": voice_name,
        "vocoder": options.vocoder or "",
        "batch_size": str(options.batch_size),
        "max_text_chars": str(options.max_text_chars),
        "sampling_rate": str(sampling_rate),
    }
    parameter_lines = ",\n".join(
        f'  {{ key: "{key}" value: {{ string_value: "{value}" }} }}'
        for key, value in parameters.items()
    )
    delay_us = round(options.max_queue_delay_ms * 1000)
    return f"""name: "{MODEL_NAME}"
backend: "python"
max_batch_size: {options.max_batch_size}
dynamic_batching {{ max_queue_delay_microseconds: {delay_us} }}
instance_group [ {{ count: {options.instances} kind: KIND_CPU }} ]
input [
  {{ name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] }}{optional}
]
output [
  {{ name: "AUDIO" data_type: TYPE_FP32 dims: [ -1 ] }},
  {{ name: "AUDIO_LENGTH" data_type: TYPE_INT32 dims: [ 1 ] }}
]
parameters [
{parameter_lines}
]
"""


@contextlib.contextmanager
def _staged(output: Path) -> Iterator[Path]:
    """A new directory beside `output` that replaces it when the block succeeds (a previous
    repository only: any other existing path is refused); removed when the block fails."""
    if output.exists() and not (output / MODEL_NAME / "config.pbtxt").is_file():
        raise SpeechSynthError(f"{output}: exists and is not a model repository; choose another")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}."))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = output.with_name(f".{output.name}.previous")
    if output.exists():
        os.replace(output, previous)
    os.replace(staging, output)
    shutil.rmtree(previous, ignore_errors=True)
