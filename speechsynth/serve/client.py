"""`speechsynth client`: a phrase file spoken by a Triton server, as NVIDIA's Triton client
(`1.wav ... N.wav`, then the totals it prints)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechsynth.audio.io import save_audio
from speechsynth.errors import SpeechSynthError
from speechsynth.serve.repository import MODEL_NAME
from speechsynth.serve.server import INSTALL_HINT

PROTOCOLS = ("http", "grpc")


@dataclass(frozen=True)
class ClientOptions:
    url: str = "127.0.0.1:8000"  # host:port (gRPC: the gRPC port, 8001)
    protocol: str = "http"
    batch_size: int = 8  # texts per request
    model: str = MODEL_NAME


def _module(protocol: str) -> Any:
    if protocol not in PROTOCOLS:
        raise SpeechSynthError(f"--protocol {protocol}: choose http or grpc")
    try:
        if protocol == "grpc":
            import tritonclient.grpc as module
        else:
            import tritonclient.http as module
    except ImportError:
        raise SpeechSynthError(f"tritonclient is not installed: {INSTALL_HINT}") from None
    return module


class TtsClient:
    """A Triton `tts` model over HTTP or gRPC, with one-line errors."""

    def __init__(self, options: ClientOptions) -> None:
        if options.batch_size < 1:
            raise SpeechSynthError("--batch-size must be at least 1")
        self.options = options
        self.module = _module(options.protocol)
        self.client = self.module.InferenceServerClient(options.url.removeprefix("http://"))
        self.sampling_rate = self._sampling_rate()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        from tritonclient.utils import InferenceServerException

        try:
            return getattr(self.client, method)(*args, **kwargs)
        except InferenceServerException as error:
            raise SpeechSynthError(f"{self.options.url}: {error.message()}") from None
        except (OSError, ConnectionError) as error:
            raise SpeechSynthError(
                f"{self.options.url}: cannot reach the server ({error}); "
                "is `speechsynth serve` running there?"
            ) from None

    def _sampling_rate(self) -> int:
        config = self._call("get_model_config", self.options.model)
        config = config.get("config", config) if isinstance(config, dict) else _grpc_dict(config)
        value = config.get("parameters", {}).get("sampling_rate", {}).get("string_value")
        if not value:
            raise SpeechSynthError(f"{self.options.url}: model {self.options.model} names no rate")
        return int(value)

    def speak(self, texts: list[str]) -> list[np.ndarray]:
        """The audio of each text (one request)."""
        tensor = self.module.InferInput("TEXT", [len(texts), 1], "BYTES")
        tensor.set_data_from_numpy(np.array([[text.encode("utf-8")] for text in texts], object))
        result = self._call("infer", self.options.model, [tensor])
        audio, lengths = result.as_numpy("AUDIO"), result.as_numpy("AUDIO_LENGTH").reshape(-1)
        return [audio[row, :length] for row, length in enumerate(lengths)]


def _grpc_dict(config: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(config.config, preserving_proto_field_name=True)


def speak_phrases(texts: list[str], output: Path, options: ClientOptions) -> dict[str, Any]:
    """Each text spoken by the server into `output/1.wav ... N.wav` -> the totals NVIDIA's
    client prints."""
    if not texts:
        raise SpeechSynthError("no phrases to speak")
    client = TtsClient(options)
    output.mkdir(parents=True, exist_ok=True)
    started, samples = time.perf_counter(), 0
    for first in range(0, len(texts), options.batch_size):
        batch = texts[first : first + options.batch_size]
        for offset, audio in enumerate(client.speak(batch)):
            save_audio(output / f"{first + offset + 1}.wav", audio, client.sampling_rate)
            samples += len(audio)
    seconds = time.perf_counter() - started
    return {
        "sequences": len(texts),
        "output": str(output),
        "processing_seconds": round(seconds, 3),
        "audio_seconds": round(samples / client.sampling_rate, 3),
        "symbols_per_second": round(sum(len(text) for text in texts) / seconds, 1),
        "samples_per_second": round(samples / seconds, 1),
    }
