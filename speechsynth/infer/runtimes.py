"""The runtime registry: what runs a model file, and which backend class serves each model.

A runtime recognises the files it runs (a PyTorch checkpoint, ours or NVIDIA's; an ONNX export
directory) and keeps two registries keyed by model name, from the checkpoint or the export's
manifest: acoustic models and vocoders. `open_acoustic_model(path)` and `open_vocoder(path)` ask
each runtime in turn, so adding a model is one backend class plus one entry in its runtime's
registry, and adding a runtime is one module plus one entry in `RUNTIMES`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechsynth.errors import SpeechSynthError
from speechsynth.models.text_setup import TextSetup

if TYPE_CHECKING:
    from speechsynth.infer.acoustic import AcousticModel
    from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions


@dataclass(frozen=True)
class RuntimeOptions:
    """Where and how a model runs; each runtime reads the options that apply to it."""

    device: str | None = None  # PyTorch: cpu, cuda, cuda:N (None: cuda when available)
    # PyTorch acoustic models: auto (the fastest safe one here), fp32, bf16, int8 (Tacotron 2)
    precision: str = "auto"
    providers: tuple[str, ...] | None = None  # ONNX Runtime, best first (None: best installed)
    engine_cache: Path | None = None  # ONNX Runtime's TensorRT engines
    threads: int | None = None  # ONNX Runtime intra-op threads (None: as many as torch uses)


AcousticBuilder = Callable[[Any, RuntimeOptions], "AcousticModel"]
VocoderBuilder = Callable[[Any, "VocoderOptions", RuntimeOptions], "Vocoder"]


class Runtime(ABC):
    """One way of running model files, with its registries of backends by model name."""

    name: str

    @abstractmethod
    def recognises(self, path: Path) -> bool:
        """Whether `path` is a file this runtime runs."""

    @abstractmethod
    def open(self, path: Path, options: RuntimeOptions) -> tuple[str, Any]:
        """(model name, what the backends are built from) for the model at `path`."""

    @abstractmethod
    def text_setup(self, path: Path) -> TextSetup:
        """How the model at `path` reads text, without building it."""

    @abstractmethod
    def acoustic_models(self) -> dict[str, AcousticBuilder]:
        """Backends of the text-to-mel models this runtime runs, by model name."""

    @abstractmethod
    def vocoders(self) -> dict[str, VocoderBuilder]:
        """Backends of the vocoders this runtime runs, by model name."""

    def refuse_options(self, path: Path, options: RuntimeOptions) -> None:
        """A one-line error for options that belong to another runtime (default: none)."""
        return None


def runtime_for(path: Path) -> Runtime:
    from speechsynth.infer.onnx_runtime import OnnxRuntime
    from speechsynth.infer.torch_runtime import TorchRuntime

    if not path.exists():
        raise SpeechSynthError(f"{path}: checkpoint not found; check the path")
    # The order of preference: an export directory is never a checkpoint.
    for runtime in (OnnxRuntime(), TorchRuntime()):
        if runtime.recognises(path):
            return runtime
    raise SpeechSynthError(
        f"{path}: neither a checkpoint file nor a `speechsynth export` directory; check the path"
    )


def text_setup_of(path: str | Path) -> TextSetup:
    """How the model at `path` reads text: a checkpoint (ours or NVIDIA's) or an export."""
    path = Path(path)
    return runtime_for(path).text_setup(path)


def open_acoustic_model(path: str | Path, options: RuntimeOptions | None = None) -> AcousticModel:
    """The text-to-mel model at `path` (a checkpoint or an export), ready for synthesis."""
    path, options = Path(path), options or RuntimeOptions()
    runtime = runtime_for(path)
    runtime.refuse_options(path, options)
    name, opened = runtime.open(path, options)
    builders = runtime.acoustic_models()
    if name in builders:
        return builders[name](opened, options)
    if name in runtime.vocoders():
        raise SpeechSynthError(
            f"{path}: a {name} model is a vocoder (mel -> audio), not a text model; pass it "
            f"with --vocoder, and a {', '.join(builders)} model as the voice"
        )
    raise SpeechSynthError(
        f"{path}: synthesis with {name} is not supported by the {runtime.name} runtime "
        f"(text models: {', '.join(builders)})"
    )


def open_vocoder(
    path: str | Path, vocoder_options: VocoderOptions, options: RuntimeOptions | None = None
) -> Vocoder:
    """The vocoder at `path` (a checkpoint or an export)."""
    path, options = Path(path), options or RuntimeOptions()
    runtime = runtime_for(path)
    name, opened = runtime.open(path, options)
    builders = runtime.vocoders()
    if name not in builders:
        raise SpeechSynthError(
            f"{path}: is a {name} model, not a vocoder; give a "
            f"{', '.join(builders) or 'vocoder'} checkpoint or export, or griffin-lim"
        )
    return builders[name](opened, vocoder_options, options)


def load_vocoder(
    spec: str | Path,
    options: VocoderOptions | None = None,
    runtime_options: RuntimeOptions | None = None,
) -> Vocoder:
    """The vocoder `spec` names: `griffin-lim` (numpy), or the path of a vocoder checkpoint (ours
    or NVIDIA's) or export directory; `runtime_options` say where a checkpoint runs."""
    from speechsynth.infer.griffin_lim_vocoder import GRIFFIN_LIM, GriffinLimVocoder
    from speechsynth.infer.vocoder_interface import VocoderOptions

    options = options or VocoderOptions()
    if str(spec) == GRIFFIN_LIM:
        return GriffinLimVocoder(n_iter=options.griffin_lim_iters)
    if _looks_like_path(str(spec)):
        return open_vocoder(Path(spec), options, runtime_options)
    raise SpeechSynthError(
        f"unknown vocoder {spec!r}: give {GRIFFIN_LIM} or the path of a vocoder checkpoint "
        "or export"
    )


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or "/" in spec or spec.endswith((".pt", ".pth", ".ckpt"))
