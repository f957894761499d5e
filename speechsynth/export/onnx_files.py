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

from speechsynth import __version__
from speechsynth.audio.config import MelConfig
from speechsynth.errors import SpeechSynthError
from speechsynth.models.export_manifest import build_manifest
from speechsynth.models.registry import LoadedModel, get_spec

DEFAULT_OPSET = 18  # the oldest opset torch's exporter writes natively
EXPORTER_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")
# --quantize: ONNX Runtime's dynamic quantization (weights int8, activations quantized on the fly)
QUANTIZATIONS = ("int8",)


def model_manifest(
    loaded: LoadedModel,
    files: dict[str, str],
    opset: int,
    inference_defaults: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The manifest of `loaded`'s export (`models.export_manifest`): a text setup for models
    that read text, NVIDIA's audio setup, the files and `extra` (the model's export options)."""
    reads_text = get_spec(loaded.name).role == "acoustic"
    return build_manifest(
        model_name=loaded.name,
        model_config=loaded.model.config.to_dict(),
        source=str(loaded.source),
        files=files,
        opset=opset,
        version=__version__,
        audio=MelConfig().to_dict(),
        inference_defaults=inference_defaults or {},
        text_setup=loaded.text_setup if reads_text else None,
        **({"voice": loaded.voice} if loaded.voice else {}),
        **extra,
    )


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
        publish_staged(staging, output_dir, manifest_name)


def publish_staged(staging: Path, output_dir: Path, manifest_name: str) -> None:
    """Move every file of `staging` into `output_dir`: the old manifest goes first, the new
    one comes last."""
    (output_dir / manifest_name).unlink(missing_ok=True)
    files = sorted(staging.iterdir(), key=lambda path: path.name == manifest_name)
    for path in files:
        shutil.move(path, output_dir / path.name)


def check_quantization(quantization: str | None) -> None:
    """A one-line error for a --quantize value that is not one of QUANTIZATIONS."""
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise SpeechSynthError(
            f"--quantize {quantization}: unknown; choose {', '.join(QUANTIZATIONS)} "
            "(or leave it out for fp32 graphs)"
        )


def quantize_graph(path: Path, quantization: str = "int8") -> None:
    """Replace the ONNX graph at `path` by ONNX Runtime's dynamic quantization of it.

    First ONNX Runtime's basic graph optimisations (`quant_pre_process`): they fold the
    exporter's weight transposes into the weights, so the quantizer sees them. Then the weights
    of the matrix products (attention and linear layers) become int8 per output channel with
    7-bit range (exact on CPUs without VNNI), their inputs quantized on the fly; convolutions
    stay fp32 (ONNX Runtime's ConvInteger runs 3x slower than the fp32 Conv on CPU)."""
    check_quantization(quantization)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    folded = path.with_name(f"{path.stem}.folded.onnx")
    quantized = path.with_name(f"{path.stem}.{quantization}.onnx")
    # The quantizer logs a warning on the root logger for every tensor it leaves alone.
    with warnings.catch_warnings(), _quiet_loggers(("",)):
        warnings.simplefilter("ignore")
        quant_pre_process(str(path), str(folded), skip_symbolic_shape=True)
        quantize_dynamic(
            folded,
            quantized,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=True,
            weight_type=QuantType.QInt8,
        )
    folded.unlink()
    quantized.replace(path)


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
