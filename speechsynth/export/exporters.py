"""Which exporter writes which model: one entry per model that can leave PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import DEFAULT_OPSET
from speechsynth.export.parallel import export_parallel
from speechsynth.export.tacotron2 import export_tacotron2
from speechsynth.export.waveglow import DEFAULT_SIGMA, export_waveglow
from speechsynth.models.registry import LoadedModel


@dataclass(frozen=True)
class ExportOptions:
    opset: int = DEFAULT_OPSET
    prenet_dropout: bool = True  # Tacotron 2: keep NVIDIA's inference-time prenet dropout
    sigma: float = DEFAULT_SIGMA  # WaveGlow: the noise scale fixed in the graph


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
    opset, ...)."""
    if loaded.name not in EXPORTERS:
        raise SpeechSynthError(
            f"{loaded.source}: ONNX export of {loaded.name} is not implemented; "
            f"models that export: {', '.join(EXPORTERS)}"
        )
    return EXPORTERS[loaded.name](loaded, Path(output_dir), options or ExportOptions())
