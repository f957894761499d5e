"""The Triton Python backend's model: `TritonPythonModel`, run by Triton's Python-backend stub.

Each model's `model.py` in a repository only imports this class (`repository`); its `kind`
parameter says which model it is: `tts` (TEXT -> AUDIO), `generator` (TEXT -> MEL) or `vocoder`
(MEL -> AUDIO), so a stock Triton with speechsynth installed in its Python serves the voice
named by the model's parameters. Each request is answered on its own: a bad one gets an error
response naming the input, and the other requests of the batch are served (Triton hands the
requests it batched to one `execute` call).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.voice import load_voice
from speechsynth.serve.tts_service import TtsService

log = logging.getLogger(__name__)


class ModelKind(NamedTuple):
    inputs: tuple[str, ...]
    parse: Callable[[TtsService, dict[str, np.ndarray | None]], Any]
    run: Callable[[TtsService, list[Any]], list[tuple[np.ndarray, np.ndarray]]]
    outputs: tuple[str, str]  # (values, lengths)


TEXT_INPUTS = ("TEXT", "PACE", "PITCH_SHIFT")
AUDIO_OUTPUTS = ("AUDIO", "AUDIO_LENGTH")
KINDS: dict[str, ModelKind] = {
    "tts": ModelKind(TEXT_INPUTS, TtsService.parse, TtsService.speak, AUDIO_OUTPUTS),
    "generator": ModelKind(
        TEXT_INPUTS, TtsService.parse, TtsService.generate, ("MEL", "MEL_LENGTH")
    ),
    "vocoder": ModelKind(
        ("MEL", "MEL_LENGTH"), TtsService.parse_mels, TtsService.vocode, AUDIO_OUTPUTS
    ),
}


def _parameters(model_config: dict[str, Any]) -> dict[str, str]:
    """config.pbtxt's `parameters` as plain strings."""
    values = model_config.get("parameters", {})
    return {key: value.get("string_value", "") for key, value in values.items()}


class TritonPythonModel:
    """Triton's Python-backend interface: initialize, execute (a list of requests), finalize."""

    def initialize(self, args: dict[str, str]) -> None:
        parameters = _parameters(json.loads(args["model_config"]))
        self.kind = KINDS[parameters.get("kind", "tts")]
        version = Path(args["model_repository"]) / args["model_version"]
        voice_path = version / parameters["voice"] if parameters.get("voice") else None
        voice = load_voice(voice_path, _vocoder(version, parameters.get("vocoder", "")))
        self.service = TtsService(
            voice,
            batch_size=int(parameters.get("batch_size", "8")),
            max_text_chars=int(parameters.get("max_text_chars", "10000")),
        )

    def execute(self, requests: list[Any]) -> list[Any]:
        import triton_python_backend_utils as pb_utils  # provided by Triton's stub

        parsed: list[Any] = []
        for request in requests:
            inputs = {name: _input(pb_utils, request, name) for name in self.kind.inputs}
            try:
                parsed.append(self.kind.parse(self.service, inputs))
            except SpeechSynthError as error:
                parsed.append(error)
        good = [request for request in parsed if not isinstance(request, SpeechSynthError)]
        try:
            outputs = iter(self.kind.run(self.service, good))
        except SpeechSynthError as error:  # the model refused the batch: tell each request
            return [_error(pb_utils, error) for _ in requests]
        return [
            _error(pb_utils, request)
            if isinstance(request, SpeechSynthError)
            else _response(pb_utils, self.kind.outputs, *next(outputs))
            for request in parsed
        ]

    def finalize(self) -> None:
        log.info("speechsynth model unloaded")


def _vocoder(version: Path, value: str) -> str | None:
    """The `vocoder` parameter: a file in the repository (relative to `version`), a vocoder's
    name, or "" for the voice's own."""
    if not value:
        return None
    in_repository = version / value
    return str(in_repository) if in_repository.exists() else value


def _input(pb_utils: Any, request: Any, name: str) -> np.ndarray | None:
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    return None if tensor is None else tensor.as_numpy()


def _error(pb_utils: Any, error: Exception) -> Any:
    return pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(str(error)))


def _response(
    pb_utils: Any, names: tuple[str, str], values: np.ndarray, lengths: np.ndarray
) -> Any:
    return pb_utils.InferenceResponse(
        output_tensors=[
            pb_utils.Tensor(names[0], values.astype(np.float32)),
            pb_utils.Tensor(names[1], lengths.astype(np.int32)),
        ]
    )
