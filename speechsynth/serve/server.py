"""`speechsynth serve`: NVIDIA Triton Inference Server on a model repository of a voice.

The server is Triton's own `tritonserver`, as the nvidia-pytriton wheel ships it (with the
Python backend and one backend stub per Python version). We run it as PyTriton does, from a
private copy with the stub for this Python, and with an environment that lets the stub load
this interpreter's libpython (not a system one of another patch release, which fails with
`'_thread.RLock' object has no attribute '_recursion_count'`) and import speechsynth.
SIGTERM / SIGINT are passed on: Triton stops taking requests, finishes those in flight
(up to --exit-timeout-secs) and exits.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.serve.libc import libc_function
from speechsynth.serve.repository import MODEL_NAMES, RepositoryOptions, write_repository

NOISE = re.compile(r"Cuda|CUDA|NVML|DCGM|pinned memory")
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)
INSTALL_HINT = "pip install 'speechsynth[serve]' (it brings nvidia-pytriton, Triton's server)"


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 8001
    metrics_port: int = 8002
    exit_timeout_s: int = 30
    start_timeout_s: float = 900.0  # default-size PyTorch models load slowly on 2 cores
    verbose: bool = False


def triton_distribution() -> tuple[Path, Path]:
    """(pytriton's tritonserver folder, its bundled libraries folder)."""
    try:
        import pytriton
        from pytriton.utils.distribution import get_libs_path
    except ImportError:
        raise SpeechSynthError(
            f"Triton Inference Server is not installed: {INSTALL_HINT}"
        ) from None
    return Path(pytriton.__file__).parent / "tritonserver", Path(get_libs_path())


def prepare_server(workspace: Path) -> tuple[Path, dict[str, str]]:
    """A runnable copy of Triton in `workspace` -> (its folder, the environment to run it)."""
    distribution, libraries = triton_distribution()
    server = workspace / "tritonserver"
    shutil.copytree(
        distribution, server, ignore=shutil.ignore_patterns("python_backend_stubs", "__pycache__")
    )
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = distribution / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        raise SpeechSynthError(f"Triton's Python backend has no stub for Python {version}")
    shutil.copy(stub, server / "backends" / "python" / "triton_python_backend_stub")
    return server, server_environment(libraries)


def server_environment(libraries: Path) -> dict[str, str]:
    environment = dict(os.environ)
    library_dirs = [str(libraries), sysconfig.get_config_var("LIBDIR") or ""]
    library_dirs.append(environment.get("LD_LIBRARY_PATH", ""))
    environment["LD_LIBRARY_PATH"] = os.pathsep.join(part for part in library_dirs if part)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment["PATH"]])
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    # models and requests share the cores: threads that wait sleep instead of spinning
    environment.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return environment


class TritonServer:
    """A running `tritonserver` on a model repository."""

    def __init__(self, repository: Path, workspace: Path, options: ServerOptions) -> None:
        self.options = options
        server, environment = prepare_server(workspace)
        self.log_path = workspace / "tritonserver.log"
        command = [
            str(server / "bin" / "tritonserver"),
            f"--model-repository={repository}",
            f"--backend-directory={server / 'backends'}",
            f"--cache-directory={workspace / 'cache'}",
            f"--http-address={options.host}",
            f"--http-port={options.http_port}",
            f"--grpc-address={options.host}",
            f"--grpc-port={options.grpc_port}",
            f"--metrics-address={options.host}",
            f"--metrics-port={options.metrics_port}",
            f"--exit-timeout-secs={options.exit_timeout_s}",
            "--disable-auto-complete-config",
            f"--log-verbose={1 if options.verbose else 0}",
        ]
        log = None if options.verbose else open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_stop_with_parent,
        )

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.http_port}"

    def wait_ready(self) -> None:
        """Until Triton and its models are ready; a one-line error with Triton's own if not."""
        deadline = time.monotonic() + self.options.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SpeechSynthError(f"Triton exited while starting: {self.last_error()}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/health/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise SpeechSynthError(
            f"Triton was not ready after {self.options.start_timeout_s:.0f} s: {self.last_error()}"
        )

    def last_error(self) -> str:
        """Triton's last error line (its log), for one-line messages."""
        if not self.log_path.is_file():
            return "see the log above"
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        # the model table's row says why a model failed; CUDA / NVML / DCGM lines are noise here
        reasons = [line for line in lines if "UNAVAILABLE:" in line]
        errors = [line for line in lines if line.startswith("E") and not NOISE.search(line)]
        return (reasons or errors or lines or ["no log"])[-1].strip(" |")[:500]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Ask Triton to finish what is in flight and exit -> its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=self.options.exit_timeout_s + 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def wait(self) -> int:
        """Until Triton exits; SIGTERM / SIGINT to this process are passed on -> exit status."""

        def pass_on(signum: int, frame: FrameType | None) -> None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)

        previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            status = self.process.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0 if status == 0 or self.drained() else status

    def drained(self) -> bool:
        """Whether Triton, stopping, found no inference still in flight: its non-zero exit then
        only says that idle client connections outlived --exit-timeout-secs."""
        if not self.log_path.is_file():
            return False
        log = self.log_path.read_text(encoding="utf-8", errors="replace")
        counts = re.findall(r"Found (\d+) model versions that have in-flight inferences", log)
        return bool(counts) and counts[-1] == "0"


# looked up here: the child between fork and exec only calls it
_PRCTL = libc_function("prctl", use_errno=True)


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM it when the process that started it dies, even by
    SIGKILL, so that no Triton outlives `serve` or `bench serve --start-server` (Linux; elsewhere
    the caller's own cleanup stops it)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def serve_voice(
    repository: RepositoryOptions,
    options: ServerOptions,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Serve the voice until SIGTERM / SIGINT -> the exit status (0: stopped cleanly, every
    request in flight answered). `on_ready` gets the endpoints once the model is ready."""
    with started_server(repository, options) as server:
        if on_ready is not None:
            on_ready(endpoints(options))
        return server.wait()


@contextmanager
def started_server(repository: RepositoryOptions, options: ServerOptions) -> Iterator[TritonServer]:
    """Triton serving the voice's repository (written to a temporary workspace), ready; stopped
    (SIGTERM) and its workspace removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="speechsynth-serve-") as workspace_name:
        workspace = Path(workspace_name)
        repository_path = write_repository(workspace / "model_repository", repository)
        server = TritonServer(repository_path, workspace, options)
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()


def free_port_options(host: str = "127.0.0.1") -> ServerOptions:
    """Server options with three ports free on `host` now (HTTP, gRPC, metrics)."""
    sockets = [socket.socket() for _ in range(3)]
    for sock in sockets:
        sock.bind((host, 0))
    http_port, grpc_port, metrics_port = (sock.getsockname()[1] for sock in sockets)
    for sock in sockets:
        sock.close()
    return ServerOptions(host, http_port, grpc_port, metrics_port)


def endpoints(options: ServerOptions) -> dict[str, Any]:
    host = options.host
    return {
        "models": list(MODEL_NAMES),
        "http": f"http://{host}:{options.http_port}",
        "grpc": f"{host}:{options.grpc_port}",
        "metrics": f"http://{host}:{options.metrics_port}/metrics",
    }
