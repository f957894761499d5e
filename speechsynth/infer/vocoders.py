"""The PyTorch vocoders (WaveGlow and HiFi-GAN from a checkpoint) behind the vocoder interface
(`vocoder_interface`, which needs no torch). `runtimes.load_vocoder(spec, options)` builds any
vocoder: `griffin-lim` (numpy, `griffin_lim_vocoder`), or a checkpoint or an export.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from speechsynth.audio.config import MelConfig
from speechsynth.audio.stft import STFT
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.chunked_vocoding import Chunking, utterance_noise, vocode_utterances
from speechsynth.infer.precision import refuse_slow_bf16, resolve_precision
from speechsynth.infer.stage_clock import timed_stage
from speechsynth.infer.vocoder_interface import Vocoder
from speechsynth.models.denoiser import DEFAULT_STRENGTH, STFT_SETTINGS, Denoiser, waveglow_denoiser
from speechsynth.models.hifigan import HiFiGanGenerator
from speechsynth.models.registry import load_model
from speechsynth.models.waveglow import DEFAULT_SIGMA, WaveGlow


class TorchVocoder(Vocoder):
    """A vocoder computed with torch on `device`: numpy in and out at the interface."""

    runtime = "pytorch"

    def __init__(self, mel_config: MelConfig | None = None, device: str | None = None) -> None:
        super().__init__(mel_config)
        self.device = torch.device(device or "cpu")

    @abstractmethod
    def vocode_tensor(self, mels: Tensor) -> Tensor:
        """Padded log-mels [B, n_mels, T] on `device` -> audio [B, hop_length * T]."""

    def to(self, device: torch.device | str) -> TorchVocoder:
        """Compute on `device` from now on."""
        self.device = torch.device(device)
        return self

    def vocode(self, mels: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            audio = self.vocode_tensor(torch.from_numpy(mels).to(self.device))
            return audio.float().cpu().numpy()


# ----------------------------------------------------------------------------- precision

VOCODER_PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def check_precision(precision: str, model_label: str) -> None:
    if precision not in VOCODER_PRECISIONS:
        raise SpeechSynthError(
            f"unknown {model_label} precision {precision!r}; choose one of "
            f"{', '.join(VOCODER_PRECISIONS)}"
        )


# ----------------------------------------------------------------------------- WaveGlow


class NetworkVocoder(TorchVocoder):
    """A vocoder network (`model`) with NVIDIA's denoiser, built on first use (`_denoiser`)."""

    label: ClassVar[str]  # in messages: "WaveGlow"

    def __init__(
        self,
        model: torch.nn.Module | str | Path,
        *,
        denoiser_strength: float,
        precision: str,
        mel_config: MelConfig | None,
        copy_model: bool,
        device: str | None,
    ) -> None:
        """`model` (or the checkpoint it names) checked against the mels and folded for
        inference, in our own copy: the caller's model may still be training."""
        super().__init__(mel_config, device)
        if isinstance(model, (str, Path)):
            model, copy_model = load_model(model, expected_name=self.name).model, False
        precision = resolve_precision(model, precision, self.device)
        check_precision(precision, self.label)
        if denoiser_strength < 0:
            raise SpeechSynthError("the denoiser strength must not be negative")
        if self.samples_per_frame(model) != self.hop_length:
            raise SpeechSynthError(
                f"{self.label} upsamples by {self.samples_per_frame(model)} samples per frame, "
                f"but the mels have a hop of {self.hop_length}"
            )
        self.model = self.folded(copy.deepcopy(model) if copy_model else model, precision).eval()
        self.denoiser_strength = denoiser_strength
        self.precision = precision
        self._denoiser: Denoiser | None = None
        self.to(self.device)

    @staticmethod
    @abstractmethod
    def samples_per_frame(model: torch.nn.Module) -> int:
        """How many audio samples `model` makes of one mel frame."""

    @staticmethod
    @abstractmethod
    def folded(model: torch.nn.Module, precision: str) -> torch.nn.Module:
        """`model` (our own copy) with its weight norm folded, at `precision`."""

    def to(self, device: torch.device | str) -> NetworkVocoder:
        super().to(device)
        self.model.to(device)
        if self._denoiser is not None:
            self._denoiser.to(device)
        return self


class WaveGlowVocoder(NetworkVocoder):
    """WaveGlow with NVIDIA's denoiser, vocoding long mels in overlapping chunks
    (`chunked_vocoding`, shared with the ONNX export's vocoder).

    Every call draws the utterances' noise once from a numpy generator seeded with `seed`
    (`utterance_noise`: the same mel gives the same audio, here and from the ONNX export);
    `seed=None` draws anew every call.
    """

    name = "waveglow"
    label = "WaveGlow"

    def __init__(
        self,
        model: WaveGlow | str | Path,
        *,
        sigma: float = DEFAULT_SIGMA,
        denoiser_strength: float = DEFAULT_STRENGTH,
        precision: str = "auto",
        chunk_frames: int = 1000,
        overlap_frames: int = 32,
        seed: int | None = 0,
        mel_config: MelConfig | None = None,
        copy_model: bool = True,
        device: str | None = None,
    ) -> None:
        if sigma < 0:
            raise SpeechSynthError("sigma must not be negative")
        self.chunking = Chunking(chunk_frames, overlap_frames)
        self.sigma = sigma
        self.seed = seed
        super().__init__(
            model,
            denoiser_strength=denoiser_strength,
            precision=precision,
            mel_config=mel_config,
            copy_model=copy_model,
            device=device,
        )

    @staticmethod
    def samples_per_frame(model: torch.nn.Module) -> int:
        return model.upsample.stride[0]

    @staticmethod
    def folded(model: torch.nn.Module, precision: str) -> torch.nn.Module:
        return model.remove_weightnorm()  # computes at `precision` per call (compute_dtype)

    @property
    def compute_dtype(self) -> torch.dtype:
        return VOCODER_PRECISIONS[self.precision]

    @property
    def denoiser(self) -> Denoiser:
        """Built on first use: its bias is one WaveGlow pass over a silent mel."""
        if self._denoiser is None:
            self._denoiser = waveglow_denoiser(self.model, STFT(*STFT_SETTINGS))
        return self._denoiser

    def vocode(self, mels: np.ndarray) -> np.ndarray:
        """The chunk loop runs on numpy arrays (shared with the ONNX vocoder); each chunk and
        the denoiser run with torch on `device`."""
        refuse_slow_bf16(self.precision, self.device)
        config = self.model.config
        noise = None
        if self.sigma > 0:
            groups = mels.shape[2] * self.hop_length // config.n_group
            noise = utterance_noise(mels.shape[0], config.n_group, groups, self.seed)
        denoise = self._denoise if self.denoiser_strength > 0 else None
        with torch.inference_mode():
            return vocode_utterances(
                np.asarray(mels, dtype=np.float32),
                noise,
                self._vocode_span,
                denoise,
                self.chunking,
                self.hop_length,
            )

    def vocode_tensor(self, mels: Tensor) -> Tensor:
        audio = self.vocode(mels.detach().float().cpu().numpy())
        return torch.from_numpy(audio).to(mels.device)

    def _vocode_span(self, mels: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
        draws = None
        if noise is not None:
            noise_tensor = torch.from_numpy(noise).to(self.device)
            draws = list(noise_tensor.split(self.model.config.noise_channels, dim=1))
        audio = self.model.infer(
            torch.from_numpy(mels).to(self.device),
            sigma=self.sigma,
            noise=draws,
            compute_dtype=self.compute_dtype,
        )
        return audio.float().cpu().numpy()

    def _denoise(self, audio: np.ndarray) -> np.ndarray:
        with timed_stage("denoiser"):
            tensor = torch.from_numpy(audio).to(self.device)
            return self.denoiser(tensor, self.denoiser_strength).cpu().numpy()


# ----------------------------------------------------------------------------- HiFi-GAN

# NVIDIA's HiFi-GAN inference.py: --denoising-strength 0.0 (no denoiser); their
# scripts/inference_example.sh passes 0.005.
HIFIGAN_DENOISER_STRENGTH = 0.0


class HiFiGanVocoder(NetworkVocoder):
    """HiFi-GAN's generator with its weight norm folded (as NVIDIA's inference), optionally
    followed by NVIDIA's denoiser (the generator's bias spectrum taken off at `strength`).
    Deterministic: HiFi-GAN draws no noise. Whole mels in one pass (fully convolutional)."""

    name = "hifigan"
    label = "HiFi-GAN"

    def __init__(
        self,
        model: HiFiGanGenerator | str | Path,
        *,
        denoiser_strength: float = HIFIGAN_DENOISER_STRENGTH,
        precision: str = "auto",
        mel_config: MelConfig | None = None,
        copy_model: bool = True,
        device: str | None = None,
    ) -> None:
        super().__init__(
            model,
            denoiser_strength=denoiser_strength,
            precision=precision,
            mel_config=mel_config,
            copy_model=copy_model,
            device=device,
        )

    @staticmethod
    def samples_per_frame(model: torch.nn.Module) -> int:
        return model.config.hop_length

    @staticmethod
    def folded(model: torch.nn.Module, precision: str) -> torch.nn.Module:
        return model.remove_weight_norm().to(VOCODER_PRECISIONS[precision])

    @property
    def denoiser(self) -> Denoiser:
        """Built on first use, from the generator's audio for a silent mel (NVIDIA's
        `hifigan.models.Denoiser`: the same STFT, bias frame and subtraction as WaveGlow's)."""
        if self._denoiser is None:
            model = self.model
            stft = STFT(*STFT_SETTINGS)
            self._denoiser = Denoiser(model.infer, model.config.n_mel_channels, stft, self.device)
        return self._denoiser

    def vocode_tensor(self, mels: Tensor) -> Tensor:
        refuse_slow_bf16(self.precision, self.device)
        if mels.size(2) == 0:  # conv_pre needs a frame
            return torch.zeros(mels.size(0), 0, device=mels.device)
        with torch.no_grad():
            audio = self.model.infer(mels.to(self.device)).float()
            if self.denoiser_strength > 0:
                with timed_stage("denoiser"):
                    audio = self.denoiser(audio, self.denoiser_strength)
        return audio.clamp(-1.0, 1.0)
