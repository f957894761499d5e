"""Writing ONNX files: the exporter call, quietened, and all-or-nothing output directories."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

DEFAULT_OPSET = 18  # the oldest opset torch's exporter writes natively
EXPORTER_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")


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
