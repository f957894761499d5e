"""`speechsynth client`: a phrase file spoken by a Triton server, as NVIDIA's Triton client
(`1.wav ... N.wav`, then the totals it prints)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
        parameters = self._parameters()  # one config request for both
        self.sampling_rate = int(self._parameter(parameters, "sampling_rate"))
        # mel frames per second of audio (NVIDIA's "mels generated": 22,050 / 256 = 86.1)
        hop_length = int(self._parameter(parameters, "hop_length", "256"))
        self.frames_per_second = self.sampling_rate / hop_length

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

    def _parameters(self) -> dict[str, Any]:
        """The `parameters` of the model's config (`export triton` writes them)."""
        config = self._call("get_model_config", self.options.model)
        config = config.get("config", config) if isinstance(config, dict) else _grpc_dict(config)
        return config.get("parameters", {})

    def _parameter(self, parameters: dict[str, Any], name: str, default: str | None = None) -> str:
        value = parameters.get(name, {}).get("string_value") or default
        if value is None:
            raise SpeechSynthError(
                f"{self.options.url}: model {self.options.model} has no {name!r} parameter; "
                "serve a repository written by speechsynth export triton"
            )
        return value

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


BENCHMARK_PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog while the early bird catches the worm, and "
    "a stitch in time saves nine when every cloud has a silver lining for those who wait in "
    "patience for the morning light to come over the hills and the quiet sea."
)


def benchmark_text(length: int) -> str:
    """An English text of exactly `length` characters ending in a period (the seed's
    benchmark sends one 128-character text)."""
    if length < 2:
        raise SpeechSynthError("--text-length must be at least 2")
    repeated = (BENCHMARK_PARAGRAPH + " ") * (length // len(BENCHMARK_PARAGRAPH) + 1)
    return repeated[: length - 1].rstrip().ljust(length - 1, "a") + "."


@dataclass(frozen=True)
class ServerBenchOptions:
    runs: int = 1000
    batch_size: int = 1
    text_length: int = 128
    concurrency: tuple[int, ...] = (1,)
    warmup: int = 1  # untimed requests per client first


class LocalSpeaker:
    """The served pipeline in this process (`TtsService`), with the client's interface: what
    `bench serve --in-process` times, so the server's overhead shows beside it."""

    def __init__(self, voice_path: Path | None = None, vocoder: str | None = None) -> None:
        from speechsynth.infer.voice import load_voice
        from speechsynth.serve.tts_service import TtsService

        self.service = TtsService(load_voice(voice_path, vocoder))
        self.sampling_rate = self.service.sampling_rate
        self.frames_per_second = self.sampling_rate / self.service.voice.vocoder.hop_length

    def speak(self, texts: list[str]) -> list[np.ndarray]:
        request = self.service.parse({"TEXT": np.array([[t.encode()] for t in texts], object)})
        audio, lengths = self.service.speak([request])[0]
        return [audio[row, :length] for row, length in enumerate(lengths.reshape(-1))]


def benchmark_server(make_client: Callable[[], Any], options: ServerBenchOptions) -> dict[str, Any]:
    """NVIDIA's Triton benchmark client: `runs` requests of `batch_size` copies of one text,
    one at a time (latency statistics, mels and audio generated, real-time factor), then the
    throughput with each `concurrency` of clients sending `runs` requests in all.
    `make_client()` gives a client (`TtsClient` for a server, `LocalSpeaker` in-process); each
    thread makes its own (tritonclient's HTTP client stays on the thread that made it)."""
    return benchmark_side_by_side({"only": make_client}, options)["only"]


def benchmark_side_by_side(
    make_clients: dict[str, Callable[[], Any]], options: ServerBenchOptions
) -> dict[str, dict[str, Any]]:
    """`benchmark_server` for several clients in one run, their requests interleaved (one
    request each in turn) so that a noisy moment on the machine slows them all alike: what
    `bench serve --start-server` compares (the server beside the same pipeline in-process)."""
    if min(options.runs, options.batch_size, *options.concurrency) < 1 or options.warmup < 0:
        raise SpeechSynthError(
            "--runs, --batch-size and --concurrency must be at least 1, --warmup at least 0"
        )
    clients = {label: make() for label, make in make_clients.items()}
    texts = [benchmark_text(options.text_length)] * options.batch_size
    for _ in range(options.warmup):
        for client in clients.values():
            client.speak(texts)
    latencies: dict[str, list[float]] = {label: [] for label in clients}
    audio_seconds: dict[str, list[float]] = {label: [] for label in clients}
    for _ in range(options.runs):
        for label, client in clients.items():
            started = time.perf_counter()
            audio = client.speak(texts)
            latencies[label].append(time.perf_counter() - started)
            samples = float(np.mean([len(a) for a in audio]))
            audio_seconds[label].append(samples / client.sampling_rate)
    return {
        label: {
            **_latency_report(latencies[label], audio_seconds[label], client, options),
            "throughput": [
                _throughput(make_clients[label], texts, options.runs, level)
                for level in options.concurrency
            ],
        }
        for label, client in clients.items()
    }


def benchmark_started_server(
    voice: str | None, vocoder: str | None, options: ServerBenchOptions, protocol: str = "http"
) -> dict[str, Any]:
    """`speechsynth serve` started for `voice` and `vocoder` on free local ports, and the same
    pipeline in this process, timed side by side (`benchmark_side_by_side`): the server's
    overhead from one run. A voice or vocoder given as a model name (fastpitch, fastspeech,
    waveglow) gets random weights at NVIDIA's default size (`write_random_checkpoint`)."""
    from speechsynth.serve.repository import RepositoryOptions
    from speechsynth.serve.server import free_port_options, started_server

    with tempfile.TemporaryDirectory(prefix="speechsynth-bench-") as directory:
        voice_file = _checkpoint_or_random(voice, Path(directory))
        vocoder_file = _checkpoint_or_random(vocoder, Path(directory))
        speaker = LocalSpeaker(Path(voice_file) if voice_file else None, vocoder_file)
        server_options = free_port_options()
        port = server_options.http_port if protocol == "http" else server_options.grpc_port
        client_options = ClientOptions(
            f"{server_options.host}:{port}", protocol, options.batch_size
        )
        repository = RepositoryOptions(
            voice=Path(voice_file) if voice_file else None,
            vocoder=vocoder_file,
            max_batch_size=max(32, options.batch_size),
        )
        with started_server(repository, server_options):
            reports = benchmark_side_by_side(
                {"server": lambda: TtsClient(client_options), "in_process": lambda: speaker},
                options,
            )
    server, local = reports["server"], reports["in_process"]
    return {
        "voice": voice or "bundled",
        "vocoder": vocoder or "the voice's own",
        "protocol": protocol,
        "server": server,
        "in_process": local,
        "server_overhead_s": server["avg_latency_s"] - local["avg_latency_s"],
    }


def _checkpoint_or_random(spec: str | None, directory: Path) -> str | None:
    """`spec` itself, unless it names a model with random weights and is not a file: then a
    checkpoint of that model written in `directory`."""
    if spec is None or Path(spec).exists():
        return spec
    from speechsynth.infer.bench import RANDOM_MODELS, write_random_checkpoint  # torch

    if spec not in RANDOM_MODELS:
        return spec  # a vocoder name, or a path that load_voice reports as missing
    return str(write_random_checkpoint(spec, directory / f"random-{spec}.pt"))


def _latency_report(
    latencies: list[float], audio_seconds: list[float], client: Any, options: ServerBenchOptions
) -> dict[str, Any]:
    """The seed's benchmark lines for one client's requests."""
    values = np.asarray(latencies)
    p50, p90, p95, p99 = (float(v) for v in np.percentile(values, [50, 90, 95, 99]))
    seconds = float(np.mean(audio_seconds))
    return {
        "batch_size": options.batch_size,
        "input_size": options.text_length,
        "avg_latency_s": float(values.mean()),
        "latency_std_s": float(values.std()),
        "latency_interval_s": {"50%": p50, "90%": p90, "95%": p95, "99%": p99},
        "average_mels_generated": seconds * client.frames_per_second,
        "average_audio_generated_s": seconds,
        "average_real_time_factor": seconds / float(values.mean()),
    }


def _throughput(
    make_client: Callable[[], Any], texts: list[str], runs: int, concurrency: int
) -> dict[str, Any]:
    """`runs` requests from `concurrency` clients at once -> requests and audio per second."""
    shares = [runs // concurrency + (index < runs % concurrency) for index in range(concurrency)]
    samples = [0] * concurrency
    rates: list[int] = []

    def work(index: int) -> None:
        client = make_client()
        rates.append(client.sampling_rate)
        for _ in range(shares[index]):
            samples[index] += sum(len(audio) for audio in client.speak(texts))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(work, range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": runs,
        "requests_per_s": runs / seconds,
        "audio_seconds_per_s": sum(samples) / rates[0] / seconds,
    }
