"""ONNX Runtime sessions for exported graphs, on the execution providers chosen (`providers`).

Optimising a graph when its session starts takes most of the start (0.15 s of 0.18 s for the
demo voice). On the CPU provider the optimised graph is therefore kept in the user's cache,
keyed by the graph file, its size and time, and the ONNX Runtime version (an optimised graph is
specific to the machine and the version), and later sessions load it with the optimisers off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import cache_dir
from speechsynth.infer.providers import ProviderSettings, choose_providers, provider_options

CPU_ONLY = [("CPUExecutionProvider", {})]


def onnx_session(path: Path, threads: int | None, providers: ProviderSettings | None = None) -> Any:
    """An ONNX Runtime session for `path` on the chosen execution providers (default: the best
    installed), with one-line errors for a missing or unreadable file."""
    try:
        import onnxruntime
    except ImportError:
        raise SpeechSynthError(
            "onnxruntime is not installed: pip install onnxruntime (it comes with speechsynth)"
        ) from None
    if not path.is_file():
        raise SpeechSynthError(f"{path}: missing; export the model again (speechsynth export)")
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    if os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE":
        # ONNX Runtime's threads otherwise spin after each run, taking the cores from whatever
        # runs next on a shared machine (a server's other models, a benchmark's other side)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    settings = providers or ProviderSettings()
    names = choose_providers(settings.names, onnxruntime.get_available_providers())
    chosen = provider_options(names, path, settings)
    try:
        if chosen == CPU_ONLY:
            return _cached_cpu_session(onnxruntime, path, options)
        return onnxruntime.InferenceSession(str(path), options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own untyped exceptions
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise SpeechSynthError(
            f"{path}: not a readable ONNX model ({first_line}); export the model again"
        ) from None


def optimized_graph_path(path: Path, version: str) -> Path:
    stat = path.stat()
    identity = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{version}"
    return cache_dir() / "onnx" / f"{hashlib.sha1(identity.encode()).hexdigest()[:16]}.onnx"


def _cached_cpu_session(onnxruntime: Any, path: Path, options: Any) -> Any:
    """A CPU session from the cached optimised graph, optimising and caching it when absent."""
    cached = optimized_graph_path(path, onnxruntime.__version__)
    if cached.is_file():
        try:
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
            return onnxruntime.InferenceSession(str(cached), options, providers=CPU_ONLY)
        except Exception:  # a damaged cache entry: optimise the graph again
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    staging = cached.with_name(f".{cached.stem}.{os.getpid()}.tmp.onnx")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(staging)
    except OSError:
        pass  # no cache: this session optimises as usual
    session = onnxruntime.InferenceSession(str(path), options, providers=CPU_ONLY)
    if staging.is_file():
        os.replace(staging, cached)
    return session
