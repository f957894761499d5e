"""ONNX Runtime sessions for exported graphs, on the execution providers chosen (`providers`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.providers import ProviderSettings, choose_providers, provider_options


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
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    settings = providers or ProviderSettings()
    names = choose_providers(settings.names, onnxruntime.get_available_providers())
    chosen = provider_options(names, path, settings)
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own untyped exceptions
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise SpeechSynthError(
            f"{path}: not a readable ONNX model ({first_line}); export the model again"
        ) from None
