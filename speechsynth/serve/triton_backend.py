"""The Triton Python backend's model: `TritonPythonModel`, run by Triton's Python-backend stub.

Each model's `model.py` in a repository only imports this class (`repository`); its `kind`
parameter says which model it is: `tts` (TEXT -> AUDIO), `generator` (TEXT -> MEL) or `vocoder`
(MEL -> AUDIO), so a stock Triton with speechsynth installed in its Python serves the voice
named by the model's parameters. Each request is answered on its own: a bad one gets an error
response naming the input, and the other requests of the batch are served (Triton hands the
requests it batched to one `execute` call). `tts_stream` is decoupled (gRPC streaming): each
request gets one response per audio chunk as soon as it is made, then Triton's final flag; each
stream runs on its own thread, so that streams overlap and `execute` returns at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.griffin_lim_vocoder import GRIFFIN_LIM
from speechsynth.infer.voice import load_voice
from speechsynth.serve.libc import libc_function
from speechsynth.serve.tts_service import RequestError, TtsService

log = logging.getLogger(__name__)


class ModelKind(NamedTuple):
    inputs: tuple[str, ...]
    parse: Callable[[TtsService, dict[str, np.ndarray | None]], Any]
    # batched kinds: requests -> each one's (values, lengths); streaming: request -> chunks
    run: Callable[[TtsService, Any], Any]
    outputs: tuple[str, ...]  # (values, lengths); streaming: (values,)
    streaming: bool = False
    vocodes: bool = True  # False: the voice's vocoder is never run, so none is loaded


TEXT_INPUTS = ("TEXT", "PACE", "PITCH_SHIFT")
AUDIO_OUTPUTS = ("AUDIO", "AUDIO_LENGTH")
KINDS: dict[str, ModelKind] = {
    "tts": ModelKind(TEXT_INPUTS, TtsService.parse, TtsService.speak, AUDIO_OUTPUTS),
    "generator": ModelKind(
        TEXT_INPUTS, TtsService.parse, TtsService.generate, ("MEL", "MEL_LENGTH"), vocodes=False
    ),
    "vocoder": ModelKind(
        ("MEL", "MEL_LENGTH"), TtsService.parse_mels, TtsService.vocode, AUDIO_OUTPUTS
    ),
    "tts_stream": ModelKind(
        TEXT_INPUTS, TtsService.parse, TtsService.stream, ("AUDIO",), streaming=True
    ),
}
STREAM_FINISH_TIMEOUT_S = 60.0  # on unload, how long streams in flight may take to finish


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
        vocoder = _vocoder(version, parameters.get("vocoder", ""))
        # Griffin-Lim costs nothing to load: a model that never vocodes skips a neural vocoder
        voice = load_voice(voice_path, vocoder if self.kind.vocodes else GRIFFIN_LIM)
        self.service = TtsService(
            voice,
            batch_size=int(parameters.get("batch_size", "8")),
            max_text_chars=int(parameters.get("max_text_chars", "10000")),
        )
        self.streams: set[threading.Thread] = set()

    def execute(self, requests: list[Any]) -> list[Any] | None:
        import triton_python_backend_utils as pb_utils  # provided by Triton's stub

        if self.kind.streaming:
            for request in requests:
                self._start_stream(pb_utils, request)
            return None  # decoupled: the responses go through each request's sender
        try:
            return self._answer(pb_utils, requests)
        finally:
            release_freed_memory()

    def _answer(self, pb_utils: Any, requests: list[Any]) -> list[Any]:
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

    def _start_stream(self, pb_utils: Any, request: Any) -> None:
        inputs = {name: _input(pb_utils, request, name) for name in self.kind.inputs}
        sender = request.get_response_sender()
        thread = threading.Thread(target=self._stream, args=(pb_utils, sender, inputs), daemon=True)
        self.streams.add(thread)
        thread.start()

    def _stream(self, pb_utils: Any, sender: Any, inputs: dict[str, np.ndarray | None]) -> None:
        """One request's chunks, each sent when made; then the final flag. A client that went
        away (cancelled) stops the stream; nothing else is disturbed."""
        try:
            chunks: Iterator[np.ndarray] = self.kind.run(
                self.service, self.kind.parse(self.service, inputs)
            )
            for audio in chunks:
                if sender.is_cancelled():
                    _send_final_error(pb_utils, sender, RequestError("cancelled by the client"))
                    return
                tensor = pb_utils.Tensor(self.kind.outputs[0], audio.astype(np.float32))
                sender.send(pb_utils.InferenceResponse(output_tensors=[tensor]))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        except SpeechSynthError as error:
            _send_final_error(pb_utils, sender, error)
        except Exception as error:  # a bug: answer the request, keep the model serving
            log.exception("stream failed")
            _send_final_error(pb_utils, sender, error)
        finally:
            self.streams.discard(threading.current_thread())
            release_freed_memory()

    def finalize(self) -> None:
        for thread in list(self.streams):
            thread.join(timeout=STREAM_FINISH_TIMEOUT_S)
        log.info("speechsynth model unloaded")


_MALLOC_TRIM = libc_function("malloc_trim")


def release_freed_memory() -> None:
    """Hand the heap's freed pages back to the system (glibc's malloc_trim). Batches of
    different shapes otherwise leave the heap fragmented at its high-water mark: measured here,
    a served voice grew 534 -> 817 MB over 400 batches without it, and stayed within 604-624 MB
    from batch 100 to 400 with it."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _send_final_error(pb_utils: Any, sender: Any, error: Exception) -> None:
    try:
        sender.send(_error(pb_utils, error), flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
    except Exception:  # the client is gone (cancelled): nobody to tell
        log.info("stream error not delivered: %s", error)


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
