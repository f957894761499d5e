"""The vocoder interface: log-mel batches in, waveforms out, numpy at the boundary. No torch
here: an exported vocoder (`onnx_waveglow`) implements it without torch; the PyTorch vocoders
are in `vocoders`, Griffin-Lim (numpy) in `griffin_lim_vocoder`, `load_vocoder` in `runtimes`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from speechsynth.audio.config import MelConfig
from speechsynth.errors import SpeechSynthError

# log(1e-5): the log-mel of silence (NVIDIA's clamp floor). Frames past an utterance's length are
# set to it, so a vocoder never renders the batch padding (zeros, i.e. loud) into the real audio.
SILENCE_LOG_MEL = math.log(1e-5)


@dataclass(frozen=True)
class VocoderOptions:
    """How to run a vocoder; each one reads the options that apply to it."""

    griffin_lim_iters: int = 60  # Griffin-Lim
    # WaveGlow, None for the model's default (a checkpoint: 0.6 and 0.01; an export: its own)
    sigma: float | None = None  # the noise scale (an export's is fixed in its graph)
    denoiser_strength: float | None = None  # 0 turns the denoiser off
    precision: str = "auto"  # PyTorch vocoders: auto (bf16 where native and safe), fp32, bf16
    seed: int | None = 0  # WaveGlow's noise (None: a new draw every call)


class Vocoder(ABC):
    """Log-mels [B, n_mels, T] plus lengths [B] -> one float32 waveform per utterance."""

    name: ClassVar[str] = ""
    runtime: ClassVar[str] = ""
    # True: each utterance is vocoded alone at its own length, so a batch gives it exactly what
    # it gets alone (for vocoders whose output depends on the whole input, like Griffin-Lim).
    vocodes_each_alone: ClassVar[bool] = False

    def __init__(self, mel_config: MelConfig | None = None) -> None:
        self.mel_config = mel_config or MelConfig()

    @property
    def sampling_rate(self) -> int:
        return self.mel_config.sampling_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    @abstractmethod
    def vocode(self, mels: np.ndarray) -> np.ndarray:
        """Padded log-mels [B, n_mels, T] float32 (silence past each length) -> audio
        [B, hop_length * T] float32 in [-1, 1]."""

    def __call__(self, mels: Any, mel_lengths: Sequence[int] | Any) -> list[np.ndarray]:
        """Each utterance's audio, trimmed to `hop_length * mel_lengths[i]` samples. `mels` is
        a numpy array (or a CPU tensor)."""
        mels = _as_float32_array(mels)
        lengths = [int(length) for length in mel_lengths]
        if mels.ndim != 3 or mels.shape[0] != len(lengths):
            raise SpeechSynthError(
                f"expected mels [B, n_mels, T] and B lengths, got {tuple(mels.shape)} "
                f"and {len(lengths)} lengths"
            )
        if mels.shape[1] != self.mel_config.n_mel_channels:
            raise SpeechSynthError(
                f"the mels have {mels.shape[1]} channels; this vocoder takes "
                f"{self.mel_config.n_mel_channels}"
            )
        if self.vocodes_each_alone:
            return [
                self._vocode_alone(mels[i : i + 1, :, :length]) for i, length in enumerate(lengths)
            ]
        audio = self.vocode(silence_padding(mels, lengths))
        return [audio[i, : self.hop_length * length].copy() for i, length in enumerate(lengths)]

    def _vocode_alone(self, mel: np.ndarray) -> np.ndarray:
        if mel.shape[2] == 0:
            return np.zeros(0, np.float32)
        return self.vocode(mel)[0]

    def describe(self) -> dict[str, Any]:
        return {"vocoder": self.name, "runtime": self.runtime}


def _as_float32_array(mels: Any) -> np.ndarray:
    if hasattr(mels, "detach"):  # a torch tensor, recognised without importing torch
        mels = mels.detach().float().cpu().numpy()
    return np.asarray(mels, dtype=np.float32)


def silence_padding(mels: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """`mels` with every frame past its utterance's length set to silence."""
    past_end = np.arange(mels.shape[2])[None, :] >= np.asarray(lengths)[:, None]
    return np.where(past_end[:, None, :], np.float32(SILENCE_LOG_MEL), mels).astype(np.float32)
