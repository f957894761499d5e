"""Which ONNX Runtime execution providers run an exported graph, and with what options.

`--providers tensorrt,cuda,cpu` lists them in order of preference (ONNX Runtime gives each node
to the first that can run it); the default is the best one this onnxruntime build has. TensorRT
runs in fp16 with an engine cache (the first run builds the engines, later runs load them) and
NVIDIA's optimisation profiles for the dynamic axes: text 4 / 128 / 256 symbols, mels 32 / 768 /
1664 frames (min / opt / max), batch 1 / 1 / max_batch. The CPU provider is what runs here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError

PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
# NVIDIA's TensorRT profiles (min, opt, max) by the name our exports give each dynamic axis.
AXIS_PROFILES = {
    "text_len": (4, 128, 256),
    "seq_len": (4, 128, 256),
    "mel_len": (32, 768, 1664),
}
DEFAULT_MAX_BATCH = 8
ENGINE_CACHE_NAME = "tensorrt_cache"
_SCALED_AXIS_RE = re.compile(r"^(?:(\d+)\*)?([A-Za-z_]\w*)(?:\*(\d+))?$")  # "32*mel_len"


@dataclass(frozen=True)
class ProviderSettings:
    names: tuple[str, ...] | None = None  # in order of preference; None: the best installed
    engine_cache: Path | None = None  # TensorRT engines; None: tensorrt_cache beside the graph
    fp16: bool = True  # TensorRT
    max_batch: int = DEFAULT_MAX_BATCH  # TensorRT profiles' largest batch


def parse_provider_names(text: str) -> tuple[str, ...]:
    """ "tensorrt,cuda,cpu" -> ("tensorrt", "cuda", "cpu"); unknown names are an error."""
    names = tuple(name.strip().lower() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in PROVIDERS]
    if not names or unknown:
        raise SpeechSynthError(
            f"--providers {text!r}: choose from {', '.join(PROVIDERS)} (comma-separated, "
            "in order of preference)"
        )
    return names


def choose_providers(requested: Sequence[str] | None, available: Iterable[str]) -> list[str]:
    """Our provider names to use: `requested` (each must be in this onnxruntime build), or every
    one installed, best first (ONNX Runtime hands a node the others can run to the next)."""
    installed = [name for name, ort_name in PROVIDERS.items() if ort_name in set(available)]
    if requested is None:
        return installed or ["cpu"]
    missing = [name for name in requested if name not in installed]
    if missing:
        raise SpeechSynthError(
            f"this onnxruntime has no {', '.join(missing)} provider (it has: "
            f"{', '.join(installed)}); TensorRT and CUDA need the onnxruntime-gpu package and an "
            "NVIDIA GPU"
        )
    return list(requested)


def tensorrt_profiles(
    inputs: dict[str, list[int | str]], max_batch: int = DEFAULT_MAX_BATCH
) -> dict[str, str]:
    """TensorRT's trt_profile_{min,opt,max}_shapes for a graph's inputs ({name: dims, each a
    size or an axis name}); {} when an axis has no known profile (TensorRT then picks)."""
    profiles: dict[str, list[str]] = {"min": [], "opt": [], "max": []}
    for name, dims in inputs.items():
        shapes: dict[str, list[int]] = {"min": [], "opt": [], "max": []}
        for dim in dims:
            sizes = _axis_sizes(dim, max_batch)
            if sizes is None:
                return {}
            for level, size in zip(shapes, sizes, strict=True):
                shapes[level].append(size)
        for level, sizes in shapes.items():
            profiles[level].append(f"{name}:{'x'.join(map(str, sizes))}")
    return {f"trt_profile_{level}_shapes": ",".join(shapes) for level, shapes in profiles.items()}


def _axis_sizes(dim: int | str, max_batch: int) -> tuple[int, int, int] | None:
    if isinstance(dim, int) and dim > 0:
        return dim, dim, dim
    if dim == "batch":
        return 1, 1, max_batch
    match = _SCALED_AXIS_RE.match(str(dim))
    if match is None or match.group(2) not in AXIS_PROFILES:
        return None
    factor = int(match.group(1) or match.group(3) or 1)
    low, opt, high = AXIS_PROFILES[match.group(2)]
    return low * factor, opt * factor, high * factor


def provider_options(
    names: Sequence[str], graph: Path, settings: ProviderSettings
) -> list[tuple[str, dict[str, Any]]]:
    """(onnxruntime provider name, its options) for each of `names`, for the graph at `graph`."""
    chosen = []
    for name in names:
        options: dict[str, Any] = {}
        if name == "tensorrt":
            options = _tensorrt_options(graph, settings)
        chosen.append((PROVIDERS[name], options))
    return chosen


def _tensorrt_options(graph: Path, settings: ProviderSettings) -> dict[str, Any]:
    cache = settings.engine_cache or graph.parent / ENGINE_CACHE_NAME
    return {
        "trt_fp16_enable": settings.fp16,
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache),
        **tensorrt_profiles(graph_inputs(graph), settings.max_batch),
    }


def graph_inputs(graph: Path) -> dict[str, list[int | str]]:
    """Each input of the ONNX graph at `graph` with its dims (sizes, or axis names)."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    return {
        value.name: [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]
        for value in model.graph.input
    }
