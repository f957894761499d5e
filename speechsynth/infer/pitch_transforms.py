"""FastPitch pitch transforms, composed in the order of NVIDIA's `build_pitch_transformation`.

A transform works on the model's predicted pitch in normalised units,
`(pitch_normalised, text_lengths, mean, std) -> pitch_normalised`, as FastPitch's `infer` calls
it. The built-in steps run in NVIDIA's order: flatten (x0), invert (x-1), amplify (xA), shift
(+Hz/std). A custom Python function sees and returns pitch in Hz: `f(pitch_hz, text_lengths)`;
it runs after the built-in steps (NVIDIA's `--pitch-transform-custom` replaces them instead).

Note that unvoiced symbols have pitch 0 in the normalised domain (the dataset mean in Hz); a
shift moves them too, as in NVIDIA's code.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from speechsynth.errors import SpeechSynthError

if TYPE_CHECKING:  # the spec is read without torch (an ONNX export takes it as numbers)
    from torch import Tensor

    from speechsynth.models.fastpitch import PitchTransform

# (pitch_hz, text_lengths) -> pitch_hz
CustomPitchFunction = Callable[["Tensor", "Tensor"], "Tensor"]


@dataclass(frozen=True)
class PitchTransformSpec:
    flatten: bool = False
    invert: bool = False
    amplify: float = 1.0
    shift_hz: float = 0.0
    custom: CustomPitchFunction | None = None

    @property
    def is_identity(self) -> bool:
        return (
            not self.flatten
            and not self.invert
            and self.amplify == 1.0
            and self.shift_hz == 0.0
            and self.custom is None
        )


@dataclass(frozen=True)
class PitchTransformation:
    """A `PitchTransform` that keeps its spec, so that a runtime without Python callables (an
    ONNX export) can take the same steps as tensors."""

    spec: PitchTransformSpec

    def __call__(self, pitch: Tensor, text_lengths: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        spec = self.spec
        if spec.flatten:
            pitch = pitch * 0.0
        if spec.invert:
            pitch = pitch * -1.0
        if spec.amplify != 1.0:
            pitch = pitch * spec.amplify
        if spec.shift_hz != 0.0:
            pitch = pitch + spec.shift_hz / std
        if spec.custom is not None:
            pitch = (spec.custom(pitch * std + mean, text_lengths) - mean) / std
        return pitch


def build_pitch_transform(spec: PitchTransformSpec) -> PitchTransform | None:
    """The composed transform, or None when `spec` changes nothing."""
    if spec.is_identity:
        return None
    return PitchTransformation(spec)


def linear_ramp(pitch_hz: Tensor, text_lengths: Tensor) -> Tensor:
    """NVIDIA's example custom transform: scale pitch from 0.5x to 1.5x along each utterance."""
    import torch

    scales = torch.zeros_like(pitch_hz)
    for row, length in enumerate(text_lengths.tolist()):
        scales[row, ..., :length] = torch.linspace(0.5, 1.5, length, device=pitch_hz.device)
    return pitch_hz * scales


def load_custom_function(reference: str) -> CustomPitchFunction:
    """`path/to/file.py:function` or `package.module:function` -> the function."""
    location, separator, name = reference.rpartition(":")
    if not separator or not location or not name:
        raise SpeechSynthError(
            f"--pitch-custom {reference!r}: expected FILE.py:FUNCTION or MODULE:FUNCTION"
        )
    module = _load_module(location, reference)
    function = getattr(module, name, None)
    if not callable(function):
        raise SpeechSynthError(f"--pitch-custom {reference!r}: {location} has no function {name!r}")
    return function


def _load_module(location: str, reference: str) -> ModuleType:
    if location.endswith(".py"):
        path = Path(location)
        if not path.is_file():
            raise SpeechSynthError(f"--pitch-custom {reference!r}: {path} not found")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    try:
        return importlib.import_module(location)
    except ImportError as error:
        raise SpeechSynthError(f"--pitch-custom {reference!r}: cannot import ({error})") from None
