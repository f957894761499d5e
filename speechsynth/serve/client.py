"""`speechsynth client`: a phrase file spoken by a Triton server, as NVIDIA's Triton client
(`1.wav ... N.wav`, then the totals it prints)."""

from __future__ import annotations

import queue
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechsynth.audio.io import save_audio
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.latency import LatencyStats
from speechsynth.serve.addresses import DEFAULT_TIMEOUT_S, PROTOCOLS
from speechsynth.serve.repository import MODEL_NAME, STREAM_MODEL_NAME
from speechsynth.serve.server import INSTALL_HINT
from speechsynth.text.benchmark import benchmark_text


@dataclass(frozen=True)
class ClientOptions:
    url: str = "127.0.0.1:8000"  # host:port (gRPC: the gRPC port, 8001)
    protocol: str = "http"
    batch_size: int = 8  # texts per request
    model: str = MODEL_NAME
    stream: bool = False  # each text from `tts_stream`, chunk by chunk (gRPC)
    timeout_s: float = DEFAULT_TIMEOUT_S


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
        url = options.url.removeprefix("http://")
        if options.protocol == "http":  # HTTP times out per connection, gRPC per call
            self.client = self.module.InferenceServerClient(
                url, connection_timeout=options.timeout_s, network_timeout=options.timeout_s
            )
            self.call_timeout: dict[str, float] = {}
        else:
            self.client = self.module.InferenceServerClient(url)
            self.call_timeout = {"client_timeout": options.timeout_s}
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
        result = self._call("infer", self.options.model, [tensor], **self.call_timeout)
        audio, lengths = result.as_numpy("AUDIO"), result.as_numpy("AUDIO_LENGTH").reshape(-1)
        return [audio[row, :length] for row, length in enumerate(lengths)]

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """`text`'s audio chunk by chunk from the decoupled `tts_stream` model, each as the
        server sends it (gRPC only: Triton streams over gRPC). Leaving the loop early cancels
        the request on the server."""
        if self.options.protocol != "grpc":
            raise SpeechSynthError(
                "--stream needs --protocol grpc (Triton streams responses over gRPC only)"
            )
        answers: queue.Queue = queue.Queue()
        self._call("start_stream", callback=lambda result, error: answers.put((result, error)))
        try:
            tensor = self.module.InferInput("TEXT", [1], "BYTES")
            tensor.set_data_from_numpy(np.array([text.encode("utf-8")], object))
            self._call(
                "async_stream_infer",
                STREAM_MODEL_NAME,
                [tensor],
                enable_empty_final_response=True,
            )
            while True:
                result, error = answers.get(timeout=self.options.timeout_s)
                if error is not None:
                    raise SpeechSynthError(f"{self.options.url}: {_message(error)}")
                response = result.get_response()
                audio = result.as_numpy("AUDIO")
                if audio is not None and audio.size:
                    yield audio
                if response.parameters["triton_final_response"].bool_param:
                    return
        except queue.Empty:
            raise SpeechSynthError(
                f"{self.options.url}: no stream response in {self.options.timeout_s:.0f} s "
                "(--timeout)"
            ) from None
        finally:
            self.client.stop_stream(cancel_requests=True)

    def close(self) -> None:
        self.client.close()


def _message(error: Any) -> str:
    return error.message() if hasattr(error, "message") else str(error)


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
    started, samples, first_audio = time.perf_counter(), 0, []
    if options.stream:
        for index, text in enumerate(texts, start=1):
            timed = timed_stream(client, text)
            save_audio(output / f"{index}.wav", timed.audio, client.sampling_rate)
            samples += len(timed.audio)
            first_audio.append(timed.first_audio_s)
    else:
        for first in range(0, len(texts), options.batch_size):
            batch = texts[first : first + options.batch_size]
            for offset, audio in enumerate(client.speak(batch)):
                save_audio(output / f"{first + offset + 1}.wav", audio, client.sampling_rate)
                samples += len(audio)
    seconds = time.perf_counter() - started
    totals = {
        "sequences": len(texts),
        "output": str(output),
        "processing_seconds": round(seconds, 3),
        "audio_seconds": round(samples / client.sampling_rate, 3),
        "symbols_per_second": round(sum(len(text) for text in texts) / seconds, 1),
        "samples_per_second": round(samples / seconds, 1),
    }
    if first_audio:
        totals["avg_time_to_first_audio_s"] = round(float(np.mean(first_audio)), 4)
    return totals


@dataclass(frozen=True)
class TimedAudio:
    audio: np.ndarray  # the whole text's audio
    first_audio_s: float  # from sending the text to its first audio (streamed: first chunk)
    latency_s: float  # from sending the text to its last audio
    stall_s: float = 0.0  # streamed, played from the first chunk on: the longest wait for audio


def timed_stream(client: Any, text: str) -> TimedAudio:
    """`client.stream(text)` joined, with the time to its first chunk and to its end, and how
    long a listener who starts playing the first chunk at once waits, at worst, for a later one
    (0: the stream never falls behind real time)."""
    rate = client.sampling_rate
    started = time.perf_counter()
    chunks: list[np.ndarray] = []
    first_audio_s = waited_s = stall_s = 0.0
    played_samples = 0  # the audio that plays before the chunk now arriving
    for chunk in client.stream(text):
        arrived = time.perf_counter() - started
        if not chunks:
            first_audio_s = arrived
        else:
            due = first_audio_s + waited_s + played_samples / rate
            wait = max(0.0, arrived - due)
            stall_s, waited_s = max(stall_s, wait), waited_s + wait
        played_samples += len(chunk)
        chunks.append(chunk)
    if not chunks:
        raise SpeechSynthError("the stream ended without audio")
    latency_s = time.perf_counter() - started
    return TimedAudio(np.concatenate(chunks), first_audio_s, latency_s, stall_s)


def timed_speak(client: Any, texts: list[str]) -> tuple[list[np.ndarray], float]:
    """`client.speak(texts)` and its latency."""
    started = time.perf_counter()
    audio = client.speak(texts)
    return audio, time.perf_counter() - started


@dataclass(frozen=True)
class ServerBenchOptions:
    runs: int = 1000
    batch_size: int = 1
    text_length: int = 128
    concurrency: tuple[int, ...] = (1,)
    warmup: int = 1  # untimed requests per client first
    stream: bool = False  # time `tts_stream` (one text per request): first audio and the end


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
        audio, lengths = self.service.speak([self._request(texts)])[0]
        return [audio[row, :length] for row, length in enumerate(lengths.reshape(-1))]

    def stream(self, text: str) -> Iterator[np.ndarray]:
        return self.service.stream(self._request([text]))

    def _request(self, texts: list[str]):  # -> TtsRequest
        return self.service.parse({"TEXT": np.array([[t.encode()] for t in texts], object)})


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
    if options.stream and options.batch_size != 1:
        raise SpeechSynthError("--stream sends one text per request: use --batch-size 1")
    clients = {label: make() for label, make in make_clients.items()}
    texts = [benchmark_text(options.text_length)] * options.batch_size
    for _ in range(options.warmup):
        for client in clients.values():
            _timed_request(client, texts, options.stream)
    timings: dict[str, list[RequestTiming]] = {label: [] for label in clients}
    for _ in range(options.runs):
        for label, client in clients.items():
            timings[label].append(_timed_request(client, texts, options.stream))
    return {
        label: {
            **_latency_report(timings[label], client, options),
            "throughput": [
                _throughput(make_clients[label], texts, options, level)
                for level in options.concurrency
            ],
        }
        for label, client in clients.items()
    }


def benchmark_started_server(
    voice: str | None,
    vocoder: str | None,
    options: ServerBenchOptions,
    protocol: str = "http",
    timeout_s: float = DEFAULT_TIMEOUT_S,
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
            f"{server_options.host}:{port}", protocol, options.batch_size, timeout_s=timeout_s
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


@dataclass(frozen=True)
class RequestTiming:
    samples: float  # audio samples per text (the mean over a request's texts)
    first_audio_s: float
    latency_s: float
    stall_s: float = 0.0


def _timed_request(client: Any, texts: list[str], stream: bool) -> RequestTiming:
    if stream:
        timed = timed_stream(client, texts[0])
        return RequestTiming(len(timed.audio), timed.first_audio_s, timed.latency_s, timed.stall_s)
    audio, latency_s = timed_speak(client, texts)
    return RequestTiming(float(np.mean([len(a) for a in audio])), latency_s, latency_s)


def _latency_report(
    timings: list[RequestTiming], client: Any, options: ServerBenchOptions
) -> dict[str, Any]:
    """The seed's benchmark lines for one client's requests (streamed: with the time to the
    first audio)."""
    latency = LatencyStats.of([timing.latency_s for timing in timings])
    seconds = float(np.mean([timing.samples for timing in timings])) / client.sampling_rate
    first = LatencyStats.of([timing.first_audio_s for timing in timings])
    first_audio = {
        "avg_time_to_first_audio_s": first.mean,
        "time_to_first_audio_interval_s": {"50%": first.median, "90%": first.p90, "99%": first.p99},
        "longest_stall_s": max(timing.stall_s for timing in timings),
    }
    return {
        "batch_size": options.batch_size,
        "input_size": options.text_length,
        "avg_latency_s": latency.mean,
        "latency_std_s": latency.std,
        "latency_interval_s": latency.intervals(),
        "average_mels_generated": seconds * client.frames_per_second,
        "average_audio_generated_s": seconds,
        "average_real_time_factor": seconds / latency.mean,
        **(first_audio if options.stream else {}),
    }


def _throughput(
    make_client: Callable[[], Any], texts: list[str], options: ServerBenchOptions, concurrency: int
) -> dict[str, Any]:
    """`runs` requests from `concurrency` clients at once -> requests and audio per second."""
    runs = options.runs
    shares = [runs // concurrency + (index < runs % concurrency) for index in range(concurrency)]
    samples = [0] * concurrency
    rates: list[int] = []

    def work(index: int) -> None:
        client = make_client()
        rates.append(client.sampling_rate)
        for _ in range(shares[index]):
            timing = _timed_request(client, texts, options.stream)
            samples[index] += round(timing.samples * len(texts))

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
