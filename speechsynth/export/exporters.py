"""Which exporter writes which model: one entry per model that can leave PyTorch; and the
optional int8 quantization of the graphs an export wrote."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import (
    DEFAULT_OPSET,
    check_quantization,
    publish_staged,
    quantize_graph,
)
from speechsynth.export.parallel import export_parallel
from speechsynth.export.tacotron2 import export_tacotron2
from speechsynth.export.waveglow import DEFAULT_SIGMA, export_waveglow
from speechsynth.models.registry import LoadedModel, load_model


@dataclass(frozen=True)
class ExportOptions:
    opset: int = DEFAULT_OPSET
    prenet_dropout: bool = True  # Tacotron 2: keep NVIDIA's inference-time prenet dropout
    sigma: float = DEFAULT_SIGMA  # WaveGlow: the noise scale fixed in the graph
    quantize: str | None = None  # "int8": ONNX Runtime dynamic quantization of every graph


Exporter = Callable[[LoadedModel, Path, ExportOptions], dict[str, Any]]

EXPORTERS: dict[str, Exporter] = {
    "tacotron2": lambda loaded, output, options: export_tacotron2(
        loaded, output, prenet_dropout=options.prenet_dropout, opset=options.opset
    ),
    "waveglow": lambda loaded, output, options: export_waveglow(
        loaded, output, sigma=options.sigma, opset=options.opset
    ),
    "fastpitch": lambda loaded, output, options: export_parallel(loaded, output, options.opset),
    "fastspeech": lambda loaded, output, options: export_parallel(loaded, output, options.opset),
}


def export_model(
    loaded: LoadedModel, output_dir: str | Path, options: ExportOptions | None = None
) -> dict[str, Any]:
    """Export `loaded` with its model's exporter -> the exporter's summary (directory, files,
    opset, ..., and the quantization when asked). All or nothing: `output_dir` changes only
    when every graph exported (and quantized)."""
    options = options or ExportOptions()
    check_quantization(options.quantize)
    if loaded.name not in EXPORTERS:
        raise SpeechSynthError(
            f"{loaded.source}: ONNX export of {loaded.name} is not implemented; "
            f"models that export: {', '.join(EXPORTERS)}"
        )
    output_dir = Path(output_dir)
    exporter = EXPORTERS[loaded.name]
    if options.quantize is None:
        return exporter(loaded, output_dir, options)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".quantize.") as scratch_name:
        scratch = Path(scratch_name)
        summary = exporter(loaded, scratch, options)
        manifest_name = quantize_export(scratch, options.quantize)
        publish_staged(scratch, output_dir, manifest_name)
    return {**summary, "directory": str(output_dir), "quantization": options.quantize}


def export_checkpoint(
    checkpoint: str | Path, output_dir: str | Path, options: ExportOptions | None = None
) -> dict[str, Any]:
    """`speechsynth export`: load `checkpoint` (ours or NVIDIA's) and export it."""
    check_quantization((options or ExportOptions()).quantize)  # before the slow load
    return export_model(load_model(checkpoint), output_dir, options)


def quantize_export(directory: Path, quantization: str) -> str:
    """Quantize, in place, every graph of the export in `directory` and record it in its
    manifest ("quantization") -> the manifest's file name."""
    manifest_path = _manifest_path(directory)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name in manifest["files"].values():
        quantize_graph(directory / name, quantization)
    manifest["quantization"] = quantization
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest_path.name


def _manifest_path(directory: Path) -> Path:
    """The one JSON manifest an exporter writes beside its graphs."""
    manifests = sorted(directory.glob("*.json"))
    if len(manifests) != 1:
        raise SpeechSynthError(
            f"{directory}: expected one export manifest, found {len(manifests)}; export again"
        )
    return manifests[0]
