"""Vocoders: batches of log-mel spectrograms to waveforms, behind one interface.

Every consumer (synthesis, and later benchmarking and serving) goes through `Vocoder.__call__`
and `load_vocoder(spec)`, so a new vocoder is one subclass plus one branch in `load_vocoder`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from speechsynth.audio.config import MelConfig
from speechsynth.audio.griffin_lim import GriffinLim
from speechsynth.errors import SpeechSynthError

GRIFFIN_LIM = "griffin-lim"
VOCODER_NAMES = (GRIFFIN_LIM,)

# log(1e-5): the log-mel of silence (NVIDIA's clamp floor). Frames past an utterance's length are
# set to it, so a vocoder never renders the batch padding (zeros, i.e. loud) into the real audio.
SILENCE_LOG_MEL = math.log(1e-5)


class Vocoder(ABC):
    """Log-mel [B, n_mels, T] plus lengths [B] -> one float32 waveform per utterance."""

    def __init__(self, mel_config: MelConfig | None = None) -> None:
        self.mel_config = mel_config or MelConfig()

    @property
    def sampling_rate(self) -> int:
        return self.mel_config.sampling_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    @abstractmethod
    def vocode(self, mels: Tensor) -> Tensor:
        """Padded log-mels [B, n_mels, T] -> audio [B, hop_length * T] in [-1, 1]."""

    def to(self, device: torch.device) -> Vocoder:
        """Move any weights to `device` (where the mels are); nothing to move by default."""
        return self

    def __call__(self, mels: Tensor, mel_lengths: Tensor) -> list[np.ndarray]:
        """Each utterance's audio, trimmed to `hop_length * mel_lengths[i]` samples."""
        if mels.dim() != 3 or mels.size(0) != len(mel_lengths):
            raise ValueError(
                f"expected mels [B, n_mels, T] and B lengths, got {tuple(mels.shape)} "
                f"and {len(mel_lengths)} lengths"
            )
        lengths = [int(length) for length in mel_lengths]
        self.to(mels.device)  # outside inference mode: moved weights stay ordinary tensors
        with torch.inference_mode():
            audio = self.vocode(_silence_padding(mels, lengths)).float().cpu().numpy()
        return [audio[i, : self.hop_length * length].copy() for i, length in enumerate(lengths)]


def _silence_padding(mels: Tensor, lengths: list[int]) -> Tensor:
    frames = torch.arange(mels.size(2), device=mels.device)
    past_end = frames.unsqueeze(0) >= torch.tensor(lengths, device=mels.device).unsqueeze(1)
    return mels.masked_fill(past_end.unsqueeze(1), SILENCE_LOG_MEL)


class GriffinLimVocoder(Vocoder):
    """Griffin-Lim phase reconstruction: no trained weights, robotic but dependable."""

    def __init__(
        self,
        n_iter: int = 60,
        mel_config: MelConfig | None = None,
        momentum: float = 0.99,
        seed: int | None = 0,
    ) -> None:
        super().__init__(mel_config)
        if n_iter < 1:
            raise SpeechSynthError(f"Griffin-Lim needs at least 1 iteration, got {n_iter}")
        self.griffin_lim = GriffinLim(self.mel_config, n_iter=n_iter, momentum=momentum, seed=seed)

    def vocode(self, mels: Tensor) -> Tensor:
        return self.griffin_lim(mels)

    def to(self, device: torch.device) -> GriffinLimVocoder:
        self.griffin_lim.to(device)
        return self


def load_vocoder(spec: str, *, griffin_lim_iters: int = 60) -> Vocoder:
    """The vocoder `spec` names: `griffin-lim`, or (later) the path of a vocoder checkpoint."""
    if spec == GRIFFIN_LIM:
        return GriffinLimVocoder(n_iter=griffin_lim_iters)
    if _looks_like_path(spec):
        return _load_checkpoint_vocoder(Path(spec))
    raise SpeechSynthError(
        f"unknown vocoder {spec!r}: give one of {', '.join(VOCODER_NAMES)} "
        "or the path of a vocoder checkpoint"
    )


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or "/" in spec or spec.endswith((".pt", ".pth", ".ckpt"))


def _load_checkpoint_vocoder(path: Path) -> Vocoder:
    """Extension point: recognise the checkpoint (WaveGlow, later HiFi-GAN) and build it."""
    if not path.is_file():
        raise SpeechSynthError(f"{path}: vocoder checkpoint not found; check the path")
    raise SpeechSynthError(
        f"{path}: WaveGlow vocoder not available yet; use the {GRIFFIN_LIM} vocoder for now"
    )
