"""`speechsynth serve` against the real Triton server on 127.0.0.1: answers, errors that name
the problem while the server keeps serving, concurrent clients without cross-talk, gRPC,
metrics, a repository from `export triton`, and SIGTERM under load."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytriton", reason="the server needs pip install 'speechsynth[serve]'")
http = pytest.importorskip("tritonclient.http")
grpc = pytest.importorskip("tritonclient.grpc")
from tritonclient.utils import InferenceServerException  # noqa: E402

from speechsynth.infer.voice import load_voice  # noqa: E402
from speechsynth.serve.repository import RepositoryOptions, write_repository  # noqa: E402
from speechsynth.serve.server import TritonServer, free_port_options  # noqa: E402
from speechsynth.serve.tts_service import TtsService  # noqa: E402

MAX_TEXT_CHARS = 500


class Served:
    """A `speechsynth serve` process and its ports."""

    def __init__(self, *extra: str) -> None:
        ports = free_port_options()
        self.http_port, self.grpc_port, self.metrics_port = (
            ports.http_port,
            ports.grpc_port,
            ports.metrics_port,
        )
        command = [sys.executable, "-m", "speechsynth.cli", "serve", "--json"]
        command += [f"--http-port={self.http_port}", f"--grpc-port={self.grpc_port}"]
        command += [f"--metrics-port={self.metrics_port}", f"--max-text-chars={MAX_TEXT_CHARS}"]
        self.process = subprocess.Popen(
            [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.process.stdout.readline()  # printed once the model is ready
        if not line:
            raise AssertionError(f"serve did not start: {self.process.stderr.read()[-2000:]}")
        self.endpoints = json.loads(line)

    def http_client(self) -> http.InferenceServerClient:
        return http.InferenceServerClient(f"127.0.0.1:{self.http_port}", concurrency=4)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def served():
    server = Served("--exit-timeout-secs=5")
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def service() -> TtsService:
    return TtsService(load_voice(), max_text_chars=MAX_TEXT_CHARS)


def text_input(module, texts: list[bytes], name: str = "TEXT"):
    tensor = module.InferInput(name, [len(texts), 1], "BYTES")
    tensor.set_data_from_numpy(np.array([[text] for text in texts], dtype=object))
    return tensor


def speak(client, texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    result = client.infer("tts", [text_input(http, texts)])
    return result.as_numpy("AUDIO"), result.as_numpy("AUDIO_LENGTH")


def expected_lengths(service: TtsService, texts: list[bytes]) -> list[int]:
    _, lengths = service.speak([service.parse({"TEXT": np.array([[t] for t in texts], object)})])[0]
    return lengths.ravel().tolist()


def test_serves_audio_for_each_text(served, service):
    assert served.endpoints["models"] == ["tts", "generator", "vocoder", "tts_stream"]
    texts = [b"Hello there.", b"Serving on Triton, one text at a time."]
    audio, lengths = speak(served.http_client(), texts)
    assert audio.dtype == np.float32 and lengths.shape == (2, 1)
    assert lengths.ravel().tolist() == expected_lengths(service, texts)
    reference, _ = service.speak([service.parse({"TEXT": np.array([[texts[1]]], object)})])[0]
    assert np.corrcoef(audio[1, : lengths[1, 0]], reference[0])[0, 1] > 0.9999


@pytest.mark.parametrize(
    ("make_inputs", "model", "message"),
    [
        (lambda: [text_input(http, [b"  "])], "tts", "TEXT[0]: empty"),
        (lambda: [text_input(http, [b"\xff\xfeoops"])], "tts", "TEXT[0]: not valid UTF-8"),
        (lambda: [text_input(http, [b"a" * 100_000])], "tts", "over this server's limit of 500"),
        (lambda: [text_input(http, ["你好".encode()])], "tts", "TEXT[0]: nothing to say"),
        (lambda: [_fp32("TEXT", [[1.0]])], "tts", "TEXT"),  # wrong type: Triton refuses
        (lambda: [_fp32("PACE", [[1.0]])], "tts", "TEXT"),  # missing input
        (lambda: [text_input(http, [b"Hi."])], "vits", "vits"),  # unknown model
    ],
)
def test_a_bad_request_is_named_and_the_next_one_is_served(served, make_inputs, model, message):
    client = served.http_client()
    with pytest.raises(InferenceServerException, match=_escaped(message)):
        client.infer(model, make_inputs())
    audio, lengths = speak(client, [b"Still serving."])
    assert lengths[0, 0] > 0 and np.abs(audio).max() > 0


def _fp32(name: str, values: list[list[float]]):
    tensor = http.InferInput(name, [len(values), 1], "FP32")
    tensor.set_data_from_numpy(np.array(values, dtype=np.float32))
    return tensor


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_grpc_and_metrics(served):
    client = grpc.InferenceServerClient(f"127.0.0.1:{served.grpc_port}")
    assert client.is_server_ready() and client.is_model_ready("tts")
    result = client.infer("tts", [text_input(grpc, [b"Over gRPC."])])
    assert result.as_numpy("AUDIO_LENGTH")[0, 0] > 0
    import urllib.request

    with urllib.request.urlopen(served.endpoints["metrics"], timeout=10) as reply:
        metrics = reply.read().decode()
    assert 'nv_inference_request_success{model="tts"' in metrics


def test_an_exported_repository_runs_on_tritonserver(tmp_path, service, tiny_hifigan):
    vocoder = tmp_path / "vocoder.pt"
    shutil.copyfile(tiny_hifigan, vocoder)
    options = RepositoryOptions(vocoder=str(vocoder), max_batch_size=4)
    repository = write_repository(tmp_path / "repo", options)
    vocoder.unlink()  # the voice and its vocoder travel with the repository
    assert (repository / "tts" / "1" / "voice").is_dir()
    assert (repository / "tts" / "1" / "vocoder.pt").is_file()
    config = (repository / "tts" / "config.pbtxt").read_text()
    assert "max_batch_size: 4" in config and 'name: "PACE"' in config
    stream_config = (repository / "tts_stream" / "config.pbtxt").read_text()
    assert "decoupled: true" in stream_config and "max_batch_size: 0" in stream_config
    options = free_port_options()
    http_port = options.http_port
    server = TritonServer(repository, tmp_path / "workspace", options)
    try:
        server.wait_ready()
        client = http.InferenceServerClient(f"127.0.0.1:{http_port}")
        _, lengths = speak(client, [b"From a repository."])
        assert lengths.ravel().tolist() == expected_lengths(service, [b"From a repository."])
        client.close()
    finally:
        server.stop()


def test_sigterm_under_load_answers_every_request_then_exits_0():
    server = Served("--exit-timeout-secs=20")
    text = b"A request that is in flight when the server is told to stop. " * 3
    outcomes: list[object] = []

    def one_request() -> None:
        client = server.http_client()
        try:
            outcomes.append(speak(client, [text])[1][0, 0])
        except Exception as error:
            outcomes.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=one_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the requests are queued or running
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=120)
    assert server.process.wait(timeout=60) == 0
    assert len(outcomes) == 4 and all(isinstance(length, np.integer) for length in outcomes)
    assert len(set(int(length) for length in outcomes)) == 1  # whole, not truncated


def test_serve_without_triton_installed_is_one_line(monkeypatch):
    env = {**os.environ, "PYTHONPATH": str(_shadow_pytriton())}
    result = subprocess.run(
        [sys.executable, "-m", "speechsynth.cli", "serve"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "pip install 'speechsynth[serve]'" in result.stderr
    assert "Traceback" not in result.stderr


def _shadow_pytriton() -> Path:
    folder = Path(tempfile.mkdtemp()) / "pytriton"
    folder.mkdir()
    (folder / "__init__.py").write_text("raise ImportError('no pytriton here')\n")
    return folder.parent


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_client_writes_one_wav_per_phrase(served, service, tmp_path, capsys, protocol):
    import soundfile

    from speechsynth.cli import main

    texts = ["First phrase.", "The second phrase is a little longer.", "Third."]
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("\n".join(texts) + "\n", encoding="utf-8")
    port = served.http_port if protocol == "http" else served.grpc_port
    arguments = ["client", str(phrases), "-o", str(tmp_path / "audio"), "--batch-size", "2"]
    arguments += ["--url", f"127.0.0.1:{port}", "--protocol", protocol, "--json"]
    assert main(arguments) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sequences"] == 3 and summary["samples_per_second"] > 0
    lengths = expected_lengths(service, [text.encode() for text in texts])
    for index, length in enumerate(lengths, start=1):
        audio, rate = soundfile.read(tmp_path / "audio" / f"{index}.wav")
        assert rate == 22050 and len(audio) == length


def test_client_without_a_server_is_one_line(tmp_path, capsys):
    from speechsynth.cli import main

    phrases = tmp_path / "phrases.txt"
    phrases.write_text("Hello.\n", encoding="utf-8")
    port = free_port_options().http_port
    arguments = ["client", str(phrases), "-o", str(tmp_path / "out"), "--url", f"127.0.0.1:{port}"]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert "cannot reach the server" in error and "Traceback" not in error


def test_generator_then_vocoder_is_tts(served, service):
    client = served.http_client()
    text = [b"Two models, as NVIDIA splits them."]
    generated = client.infer("generator", [text_input(http, text)])
    mels, mel_lengths = generated.as_numpy("MEL"), generated.as_numpy("MEL_LENGTH")
    assert mels.shape[:2] == (1, 80) and mel_lengths[0, 0] == mels.shape[2]
    mel_input = http.InferInput("MEL", list(mels.shape), "FP32")
    mel_input.set_data_from_numpy(mels)
    vocoded = client.infer("vocoder", [mel_input])
    audio, lengths = speak(client, text)
    assert vocoded.as_numpy("AUDIO_LENGTH")[0, 0] == lengths[0, 0] == 256 * mel_lengths[0, 0]
    np.testing.assert_allclose(vocoded.as_numpy("AUDIO")[0], audio[0], atol=1e-4)
    bad = http.InferInput("MEL", [1, 80, 4], "FP32")
    bad.set_data_from_numpy(np.full((1, 80, 4), np.nan, np.float32))
    with pytest.raises(InferenceServerException, match="MEL: holds NaN"):
        client.infer("vocoder", [bad])


def test_bench_serve_prints_the_seeds_lines(served, capsys):
    from speechsynth.cli import main
    from speechsynth.cli.bench_cmd import format_serve_report

    arguments = ["bench", "serve", "--url", f"127.0.0.1:{served.http_port}", "--runs", "2"]
    arguments += ["--text-length", "40", "--batch-size", "2", "--concurrency", "1,2", "--json"]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["average_real_time_factor"] > 0 and len(report["throughput"]) == 2
    seconds = report["average_audio_generated_s"]
    assert report["average_mels_generated"] == pytest.approx(seconds * 22050 / 256)
    assert [level["requests"] for level in report["throughput"]] == [2, 2]
    text = format_serve_report(report)  # what the command prints without --json
    for line in [
        "batch size = 2",
        "input size = 40",
        "avg latency (s) = ",
        "latency std (s) = ",
        "latency interval 99% (s) = ",
        "average mels generated = ",
        "average audio generated (s) = ",
        "average real-time factor = ",
        "concurrency 2: ",
    ]:
        assert line in text


def test_bench_serve_in_process_needs_no_server(capsys):
    from speechsynth.cli import main

    arguments = ["bench", "serve", "--in-process", "--runs", "2", "--text-length", "40"]
    assert main([*arguments, "--concurrency", "1,2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["in_process"] is True and report["average_real_time_factor"] > 0
    assert [level["concurrency"] for level in report["throughput"]] == [1, 2]


# A fast vocoder (a tiny HiFi-GAN with fixed random weights, ~10 ms per sentence) so that the
# load test measures the server, not Griffin-Lim: 16 clients x 50 requests in well under a minute.
LOAD_CLIENTS, LOAD_REQUESTS, WARM_REQUESTS = 16, 50, 4
# Batched with longer texts, a text's last 3 mel frames may sound different from the same text
# served alone: the vocoder's receptive field reaches the silence that pads it to the longest.
TAIL = 4 * 256
LOAD_TEXTS = [
    f"Client {index} says {'more ' * (index % 5)}words.".encode() for index in range(LOAD_CLIENTS)
]


@pytest.fixture(scope="module")
def tiny_hifigan(tmp_path_factory) -> Path:
    import dataclasses

    import torch

    from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator

    config = HiFiGanConfig(
        upsample_initial_channel=16, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1]]
    )
    torch.manual_seed(0)
    generator = HiFiGanGenerator(config)
    path = tmp_path_factory.mktemp("vocoder") / "hifigan_gen_checkpoint_1.pt"
    conf = {key: value for key, value in dataclasses.asdict(config).items()}
    torch.save({"generator": generator.state_dict(), "config": conf}, path)
    return path


def served_tree_rss_kib(root: int) -> int:
    """Resident memory of `root` and every process under it (tritonserver, the backend stubs)."""
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            total += sum(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        pending += children.get(pid, [])
    return total


def test_16_clients_x_50_requests_no_failure_no_cross_talk_no_growth(tiny_hifigan):
    server = Served(f"--vocoder={tiny_hifigan}", "--max-batch-size=16", "--exit-timeout-secs=5")
    try:
        client = server.http_client()
        alone = {text: speak(client, [text]) for text in LOAD_TEXTS}  # each text served alone
        assert len({int(lengths[0, 0]) for _, lengths in alone.values()}) > 4
        failures: list[str] = []
        warmed = threading.Barrier(LOAD_CLIENTS + 1, timeout=300)

        def client_loop(first: int) -> None:
            client = server.http_client()
            for request in range(LOAD_REQUESTS):
                if request == WARM_REQUESTS:
                    warmed.wait()  # the main thread reads the memory here
                text = LOAD_TEXTS[(first + request) % LOAD_CLIENTS]
                try:
                    audio, lengths = speak(client, [text])
                    expected_audio, expected_lengths = alone[text]
                    if lengths[0, 0] != expected_lengths[0, 0]:
                        failures.append(f"{text!r}: {lengths[0, 0]} samples")
                    elif not np.allclose(audio[0, :-TAIL], expected_audio[0, :-TAIL], atol=1e-4):
                        failures.append(f"{text!r}: not the audio of its text served alone")
                except Exception as error:
                    failures.append(f"{text!r}: {error}")
            client.close()

        threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(LOAD_CLIENTS)]
        for thread in threads:
            thread.start()
        warmed.wait()
        memory_warm = served_tree_rss_kib(server.process.pid)  # after 16 x 4 = 64 requests
        for thread in threads:
            thread.join(timeout=600)
        memory_after = served_tree_rss_kib(server.process.pid)  # after 800 (+16) requests
        assert not failures, failures[:5]
        assert memory_after <= 1.10 * memory_warm, (memory_warm, memory_after)
        client.close()
    finally:
        assert server.stop() == 0


# --- streaming: the decoupled tts_stream model over gRPC ------------------------------------

STREAM_TEXT = (
    "Streaming sends the audio of a long text piece by piece, so that a listener hears the "
    "first words while the rest is still being made, which matters most for long paragraphs. "
    "This second sentence comes in later chunks."
)


def grpc_client(served, **options):
    from speechsynth.serve.client import ClientOptions, TtsClient

    return TtsClient(ClientOptions(f"127.0.0.1:{served.grpc_port}", "grpc", **options))


def in_process_chunks(service: TtsService, text: str) -> list[np.ndarray]:
    request = service.parse({"TEXT": np.array([[text.encode()]], object)})
    return list(service.stream(request))


def test_tts_stream_sends_the_in_process_chunks_in_order(served, service):
    from speechsynth.infer.voice import STREAM_CHUNK_CHARS
    from speechsynth.text import split_sentences

    chunks = list(grpc_client(served).stream(STREAM_TEXT))
    expected = in_process_chunks(service, STREAM_TEXT)
    assert len(chunks) == len(expected) == len(split_sentences(STREAM_TEXT, STREAM_CHUNK_CHARS))
    assert len(chunks) > 2
    for got, want in zip(chunks, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize(("text", "message"), [("  ", "TEXT[0]: empty"), ("?!", "TEXT[0]: empty")])
def test_a_bad_stream_is_an_error_and_no_chunk(served, text, message):
    from speechsynth.errors import SpeechSynthError

    client, received = grpc_client(served), []
    with pytest.raises(SpeechSynthError, match=_escaped(message)):
        for chunk in client.stream(text):
            received.append(chunk)
    assert received == []
    assert len(list(client.stream("Still streaming."))) == 1


def test_a_client_that_leaves_mid_stream_does_not_disturb_the_server(served):
    client = grpc_client(served)
    for _ in client.stream(STREAM_TEXT):
        break  # the generator closes: the stream is stopped and the request cancelled
    client.close()
    assert len(list(grpc_client(served).stream(STREAM_TEXT))) > 2
    _, lengths = speak(served.http_client(), [b"And plain requests still work."])
    assert lengths[0, 0] > 0


def test_streaming_needs_grpc(served):
    from speechsynth.errors import SpeechSynthError
    from speechsynth.serve.client import ClientOptions, TtsClient

    client = TtsClient(ClientOptions(f"127.0.0.1:{served.http_port}", "http"))
    with pytest.raises(SpeechSynthError, match="--protocol grpc"):
        next(client.stream("Hello."))


def test_client_stream_and_bench_serve_stream_report_time_to_first_audio(served, tmp_path, capsys):
    import soundfile

    from speechsynth.cli import main
    from speechsynth.cli.bench_cmd import format_serve_report

    phrases = tmp_path / "phrases.txt"
    phrases.write_text(f"Hello there.\n{STREAM_TEXT}\n", encoding="utf-8")
    url = f"127.0.0.1:{served.grpc_port}"
    arguments = ["client", str(phrases), "-o", str(tmp_path / "out"), "--url", url, "--stream"]
    assert main([*arguments, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sequences"] == 2 and summary["avg_time_to_first_audio_s"] > 0
    assert soundfile.info(tmp_path / "out" / "2.wav").frames > 0
    arguments = ["bench", "serve", "--url", url, "--stream", "--runs", "1", "--warmup", "0"]
    assert main([*arguments, "--text-length", "200", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    text = format_serve_report(report)
    assert "avg time to first audio (s) = " in text
    assert "time to first audio interval 99% (s) = " in text
    assert "longest stall after the first audio (s) = " in text
    assert report["avg_time_to_first_audio_s"] < report["avg_latency_s"]  # two chunks


def test_bench_serve_start_server_times_server_and_in_process_in_one_run(capsys):
    from speechsynth.cli import main
    from speechsynth.cli.bench_cmd import format_side_by_side

    arguments = ["bench", "serve", "--start-server", "--runs", "2", "--text-length", "30"]
    assert main([*arguments, "--warmup", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    server, local = report["server"], report["in_process"]
    assert server["average_mels_generated"] == local["average_mels_generated"] > 0
    assert report["server_overhead_s"] == pytest.approx(
        server["avg_latency_s"] - local["avg_latency_s"]
    )
    assert server["throughput"] == local["throughput"] == []  # only when --concurrency is given
    table = format_side_by_side(report)
    assert "| server (HTTP) | 1 | " in table and "| in-process | 1 | " in table


def test_a_model_name_becomes_random_default_size_weights(tmp_path):
    from speechsynth.models.registry import load_model
    from speechsynth.serve.client import _checkpoint_or_random

    assert _checkpoint_or_random(None, tmp_path) is None
    assert _checkpoint_or_random("griffin-lim", tmp_path) == "griffin-lim"
    path = _checkpoint_or_random("fastspeech", tmp_path)
    assert load_model(path).name == "fastspeech"
    assert _checkpoint_or_random(path, tmp_path) == path  # a file stays itself
