"""The acoustic-model interface: symbol ids and the controls a model declares -> log-mels.

Every backend (a PyTorch checkpoint, ours or NVIDIA's; an ONNX export run by ONNX Runtime)
implements `AcousticModel`; the synthesizer, benchmarks, evaluation and the server use only this
interface. Arrays cross it as numpy, so a runtime without torch implements it too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.pitch_transforms import PitchTransformSpec
from speechsynth.models.text_setup import TextSetup


@dataclass(frozen=True)
class Controls:
    """What a caller may ask of an acoustic model; each model declares the ones it takes."""

    pace: float = 1.0  # FastPitch: > 1 speaks faster (durations are divided by it)
    pitch: PitchTransformSpec | None = None  # FastPitch: NVIDIA's pitch transforms
    alpha: float = 1.0  # FastSpeech: > 1 speaks slower (durations are multiplied by it)
    max_decoder_steps: int | None = None  # Tacotron 2; None: the model config's
    gate_threshold: float | None = None  # Tacotron 2; None: the model config's
    speaker: int | None = None  # multi-speaker FastPitch; None: speaker 0

    def __post_init__(self) -> None:
        for name in ("pace", "alpha"):
            if not getattr(self, name) > 0:
                raise SpeechSynthError(f"{name} must be greater than 0, got {getattr(self, name)}")
        if self.max_decoder_steps is not None and self.max_decoder_steps < 1:
            raise SpeechSynthError(
                f"max_decoder_steps must be at least 1, got {self.max_decoder_steps}"
            )
        if self.gate_threshold is not None and not 0 < self.gate_threshold < 1:
            raise SpeechSynthError(
                f"gate_threshold must be between 0 and 1, got {self.gate_threshold}"
            )

    def requested(self) -> tuple[str, ...]:
        """The controls set to something other than 'as the model does by itself'."""
        neutral = Controls()
        return tuple(
            field.name
            for field in fields(self)
            if not _is_neutral(field.name, getattr(self, field.name), getattr(neutral, field.name))
        )


def _is_neutral(name: str, value: Any, neutral: Any) -> bool:
    if name == "pitch":
        return value is None or value.is_identity
    return value == neutral


class AcousticOutput(NamedTuple):
    """What every acoustic model returns for a batch."""

    mels: np.ndarray  # [B, n_mels, T] float32 log-mel, padded
    mel_lengths: np.ndarray  # [B] int64: valid frames per utterance
    hit_max_decoder_steps: np.ndarray  # [B] bool: never signalled its end (audio may be cut)
    # [B, L] float32 frames per symbol as predicted (before pace / alpha); None: not predicted
    durations: np.ndarray | None = None


class AcousticModel(ABC):
    """A text-to-mel model ready for inference, whatever runs it."""

    name: ClassVar[str]  # the model registry's name
    runtime: ClassVar[str]  # "pytorch", "onnx", ...
    controls: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: Any, text_setup: TextSetup, source: Path) -> None:
        self.config = config
        self.text_setup = text_setup
        self.source = Path(source)

    def check_controls(self, controls: Controls) -> None:
        """A one-line error for controls this model does not take."""
        unknown = [name for name in controls.requested() if name not in self.controls]
        if unknown:
            takes = ", ".join(sorted(self.controls)) or "none"
            raise SpeechSynthError(
                f"{self.source}: a {self.name} model has no {' / '.join(unknown)} control "
                f"(its controls: {takes})"
            )

    def decoder_step_limit(self, controls: Controls) -> int | None:
        """The decoder step limit in force (None: the model has no such limit)."""
        return None

    def gate_threshold(self, controls: Controls) -> float | None:
        """The stop gate's threshold in force (None: the model has no stop gate)."""
        return None

    @abstractmethod
    def generate(
        self,
        ids: np.ndarray,
        lengths: np.ndarray,
        controls: Controls,
        seed: int | None = None,
    ) -> AcousticOutput:
        """Padded symbol ids [B, T_in] int64 (pad id 0) and lengths [B] -> mels. `seed` makes
        any random draws (Tacotron 2's prenet dropout) repeatable where the runtime can."""

    def describe(self) -> dict[str, Any]:
        return {"model_name": self.name, "runtime": self.runtime}


def pad_ids(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad with the pad id 0 -> (ids [B, T_in] int64, lengths [B] int64)."""
    lengths = np.array([len(ids) for ids in sequences], dtype=np.int64)
    padded = np.zeros((len(sequences), int(lengths.max())), dtype=np.int64)
    for row, ids in enumerate(sequences):
        padded[row, : len(ids)] = ids
    return padded, lengths
