"""A Triton model repository for a voice: what `speechsynth export triton` writes and
`speechsynth serve` runs.

    REPOSITORY/tts/config.pbtxt       Python backend, dynamic batching, inputs and outputs
    REPOSITORY/tts/1/model.py         imports speechsynth.serve.triton_backend.TritonPythonModel
    REPOSITORY/tts/1/voice[.pt]       a copy of the voice (export directory or checkpoint)
    REPOSITORY/tts/1/vocoder[.pt]     a copy of --vocoder when it is a checkpoint or export
    REPOSITORY/generator/...          text to mel, REPOSITORY/vocoder/...: mel to audio,
    REPOSITORY/tts_stream/...         text to audio chunks (decoupled); their parameters name
                                      the voice in tts/1

A stock Triton serves it when its Python can import speechsynth (README, "Serving").
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.voice import bundled_voice_path, load_voice
from speechsynth.serve.tts_service import DEFAULT_MAX_TEXT_CHARS

MODEL_NAME = "tts"  # text to audio; it holds the voice
STREAM_MODEL_NAME = "tts_stream"  # text to audio chunks as they are made (decoupled, gRPC)
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
    voice_name = _copy_name("voice", voice_path)
    vocoder_path = Path(options.vocoder) if options.vocoder else None
    if vocoder_path is not None and not vocoder_path.exists():
        vocoder_path = None  # a vocoder's name (griffin-lim), not a file to copy
    vocoder_name = _copy_name("vocoder", vocoder_path) if vocoder_path else options.vocoder or ""
    shape = VoiceShape(
        frozenset(voice.model.controls),
        voice.vocoder.sampling_rate,
        voice.vocoder.mel_config.n_mel_channels,
        voice.vocoder.hop_length,
    )
    with _staged(output) as staging:
        for name in MODEL_NAMES:
            version = staging / name / "1"
            version.mkdir(parents=True)
            (version / "model.py").write_text(MODEL_FILE, encoding="utf-8")
            # the voice is copied once, into the tts model; the others read it there
            where = "" if name == MODEL_NAME else f"../../{MODEL_NAME}/1/"
            files = VoiceFiles(where + voice_name, (where if vocoder_path else "") + vocoder_name)
            config = model_config(name, options, files, shape)
            (staging / name / "config.pbtxt").write_text(config, encoding="utf-8")
        _copy(voice_path, staging / MODEL_NAME / "1" / voice_name)
        if vocoder_path is not None:
            _copy(vocoder_path, staging / MODEL_NAME / "1" / vocoder_name)
    return output


def _copy_name(stem: str, path: Path) -> str:
    """What a copied checkpoint (its suffix kept) or export directory is called in tts/1."""
    return stem + ("" if path.is_dir() else path.suffix)


def _copy(source: Path, destination: Path) -> None:
    (shutil.copytree if source.is_dir() else shutil.copyfile)(source, destination)


@dataclass(frozen=True)
class VoiceFiles:
    """The voice and vocoder a model's parameters name: paths relative to the model's
    version directory, or for the vocoder also a name (griffin-lim) or "" (the voice's own)."""

    voice: str
    vocoder: str


@dataclass(frozen=True)
class VoiceShape:
    controls: frozenset[str]
    sampling_rate: int
    n_mels: int
    hop_length: int


def _text_inputs(shape: VoiceShape) -> list[str]:
    inputs = [_tensor("TEXT", "TYPE_STRING", "1")]
    inputs += [
        _tensor(input_name, "TYPE_FP32", "1", optional=True)
        for input_name, control in OPTIONAL_CONTROL_INPUTS.items()
        if control in shape.controls
    ]
    return inputs


def _mel_inputs(shape: VoiceShape) -> list[str]:
    return [
        _tensor("MEL", "TYPE_FP32", f"{shape.n_mels}, -1"),
        _tensor("MEL_LENGTH", "TYPE_INT32", "1", optional=True),
    ]


def _audio_outputs(shape: VoiceShape) -> list[str]:
    return [_tensor("AUDIO", "TYPE_FP32", "-1"), _tensor("AUDIO_LENGTH", "TYPE_INT32", "1")]


def _mel_outputs(shape: VoiceShape) -> list[str]:
    return [
        _tensor("MEL", "TYPE_FP32", f"{shape.n_mels}, -1"),
        _tensor("MEL_LENGTH", "TYPE_INT32", "1"),
    ]


def _chunk_outputs(shape: VoiceShape) -> list[str]:
    return [_tensor("AUDIO", "TYPE_FP32", "-1")]


@dataclass(frozen=True)
class Signature:
    """A served model's tensors, and whether Triton batches its requests (else it is
    decoupled: one text per request, any number of responses)."""

    inputs: Callable[[VoiceShape], list[str]]
    outputs: Callable[[VoiceShape], list[str]]
    batched: bool = True


SIGNATURES = {
    MODEL_NAME: Signature(_text_inputs, _audio_outputs),
    "generator": Signature(_text_inputs, _mel_outputs),
    "vocoder": Signature(_mel_inputs, _audio_outputs),
    STREAM_MODEL_NAME: Signature(_text_inputs, _chunk_outputs, batched=False),
}
MODEL_NAMES = tuple(SIGNATURES)  # tts; NVIDIA's split: generator, vocoder; tts_stream


def model_config(
    name: str, options: RepositoryOptions, files: VoiceFiles, shape: VoiceShape
) -> str:
    """config.pbtxt of model `name` (one of `MODEL_NAMES`)."""
    signature = SIGNATURES[name]
    parameters = {
        "kind": name,
        "voice": files.voice,
        "vocoder": files.vocoder,
        "batch_size": str(options.batch_size),
        "max_text_chars": str(options.max_text_chars),
        "sampling_rate": str(shape.sampling_rate),
        "hop_length": str(shape.hop_length),
    }
    parameter_lines = ",\n".join(
        f'  {{ key: "{key}" value: {{ string_value: "{value}" }} }}'
        for key, value in parameters.items()
    )
    delay_us = round(options.max_queue_delay_ms * 1000)
    scheduling = (
        f"max_batch_size: {options.max_batch_size}\n"
        f"dynamic_batching {{ max_queue_delay_microseconds: {delay_us} }}"
        if signature.batched
        else "max_batch_size: 0\nmodel_transaction_policy { decoupled: true }"
    )
    input_lines = ",\n".join(signature.inputs(shape))
    output_lines = ",\n".join(signature.outputs(shape))
    return f"""name: "{name}"
backend: "python"
{scheduling}
instance_group [ {{ count: {options.instances} kind: KIND_CPU }} ]
input [
{input_lines}
]
output [
{output_lines}
]
parameters [
{parameter_lines}
]
"""


def _tensor(name: str, data_type: str, dims: str, optional: bool = False) -> str:
    extra = " optional: true" if optional else ""
    return f'  {{ name: "{name}" data_type: {data_type} dims: [ {dims} ]{extra} }}'


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
