"""Writing ONNX files: the exporter call, quietened, and all-or-nothing output directories."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from speechsynth import __version__
from speechsynth.errors import SpeechSynthError
from speechsynth.export.providers import ProviderSettings, choose_providers, provider_options
from speechsynth.models.registry import LoadedModel

DEFAULT_OPSET = 18  # the oldest opset torch's exporter writes natively
EXPORTER_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")
# The manifest of an exported acoustic model (every model that reads text has the same schema).
MANIFEST_NAME = "speechsynth_onnx.json"
MANIFEST_FORMAT = 1


def acoustic_manifest(
    loaded: LoadedModel, files: dict[str, str], opset: int, **extra: Any
) -> dict[str, Any]:
    """What `speechsynth synthesize --model DIR` needs besides the graphs: the model's name and
    config, how it reads text, the files, and `extra` (the model's own export options)."""
    return {
        "format": MANIFEST_FORMAT,
        "model_name": loaded.name,
        "model_config": loaded.model.config.to_dict(),
        "text_cleaners": list(loaded.text_cleaners),
        "p_arpabet": loaded.p_arpabet,
        "text_rules": loaded.text_rules,
        **extra,
        "opset": opset,
        "files": dict(files),
        "source": str(loaded.source),
        "speechsynth_version": __version__,
    }


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of an export directory, with one-line errors for a missing, unreadable or
    newer one."""
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise SpeechSynthError(
            f"{directory}: no {MANIFEST_NAME}; is it a directory written by `speechsynth export`?"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SpeechSynthError(
            f"{path}: not valid JSON ({error}); export the model again"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format", 0) > MANIFEST_FORMAT:
        raise SpeechSynthError(
            f"{path}: not an export format this speechsynth reads; export the model again"
        )
    return manifest


def export_graph(
    module: nn.Module,
    inputs: tuple[Tensor, ...],
    path: Path,
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    dynamic_shapes: dict[str, Any],
    opset: int = DEFAULT_OPSET,
) -> None:
    """`torch.onnx.export` (the dynamo exporter) of `module` in eval mode, weights inside."""
    with warnings.catch_warnings(), torch.no_grad(), _quiet_loggers(EXPORTER_LOGGERS):
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracing chatter
        torch.onnx.export(
            module.eval(),
            inputs,
            str(path),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            dynamo=True,
            external_data=False,
            verbose=False,
            # onnxscript's graph optimiser doubles the export time (WaveGlow: 26 s vs 16 s);
            # ONNX Runtime folds the same constants when it loads the model.
            optimize=False,
        )


@contextlib.contextmanager
def staged_directory(output_dir: str | Path, manifest_name: str) -> Iterator[Path]:
    """A staging directory inside `output_dir`; on success its files move into `output_dir`,
    the manifest last (and the old manifest goes first), so a directory with a manifest
    always has every file it names. On failure nothing in `output_dir` changes."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".export.") as staging_name:
        staging = Path(staging_name)
        yield staging
        (output_dir / manifest_name).unlink(missing_ok=True)
        files = sorted(staging.iterdir(), key=lambda path: path.name == manifest_name)
        for path in files:
            shutil.move(path, output_dir / path.name)


@contextlib.contextmanager
def _quiet_loggers(names: tuple[str, ...]) -> Iterator[None]:
    """Errors only from these loggers for a while (the exporter logs each graph pass)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


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


def require_model(manifest: dict[str, Any], name: str, directory: Path) -> None:
    if manifest.get("model_name") != name:
        raise SpeechSynthError(
            f"{directory / MANIFEST_NAME}: an export of {manifest.get('model_name')!r}, "
            f"not {name}; export the model again"
        )
