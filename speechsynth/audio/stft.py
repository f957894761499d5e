"""NVIDIA's `TacotronSTFT`: the STFT as a strided conv1d over a Fourier basis, and the log-mel.

Computing the STFT exactly the way NVIDIA's code does (same basis, same float32 operations) keeps
our mels within float rounding of theirs, which is what lets NVIDIA checkpoints run on our features.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from speechsynth.audio.config import MelConfig
from speechsynth.audio.mel_basis import mel_filterbank, periodic_hann

LOG_CLAMP_MIN = 1e-5


def dynamic_range_compression(
    magnitudes: torch.Tensor, clip_min: float = LOG_CLAMP_MIN
) -> torch.Tensor:
    """Natural log with a floor at ln(1e-5) = -11.5129, as NVIDIA (C = 1)."""
    return torch.log(torch.clamp(magnitudes, min=clip_min))


def dynamic_range_decompression(log_magnitudes: torch.Tensor) -> torch.Tensor:
    return torch.exp(log_magnitudes)


class STFT(torch.nn.Module):
    """Forward and inverse STFT as conv1d / conv_transpose1d, bit-compatible with NVIDIA's."""

    def __init__(self, filter_length: int = 1024, hop_length: int = 256, win_length: int = 1024):
        super().__init__()
        self.filter_length = filter_length
        self.hop_length = hop_length
        self.win_length = win_length
        self.n_bins = filter_length // 2 + 1
        fourier = np.fft.fft(np.eye(filter_length))[: self.n_bins]
        fourier_basis = np.vstack([np.real(fourier), np.imag(fourier)])
        scale = filter_length / hop_length
        inverse_basis = np.linalg.pinv(scale * fourier_basis).T
        window = torch.from_numpy(periodic_hann(win_length, filter_length)).float()
        # Basis and window are multiplied in float32, as NVIDIA does, so rounding matches theirs.
        self.register_buffer(
            "forward_basis", torch.FloatTensor(fourier_basis[:, None, :]) * window, persistent=False
        )
        self.register_buffer(
            "inverse_basis", torch.FloatTensor(inverse_basis[:, None, :]) * window, persistent=False
        )
        self.register_buffer("window", window, persistent=False)

    def transform(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """audio [B, N] -> (magnitude, phase), each [B, filter_length // 2 + 1, 1 + N // hop]."""
        half = self.filter_length // 2
        padded = F.pad(audio.unsqueeze(1), (half, half), mode="reflect")
        spectrum = F.conv1d(padded, self.forward_basis, stride=self.hop_length)
        real, imag = spectrum[:, : self.n_bins], spectrum[:, self.n_bins :]
        magnitude = torch.sqrt(real**2 + imag**2)
        phase = torch.atan2(imag, real)
        return magnitude, phase

    def inverse(self, magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """(magnitude, phase) -> audio [B, 1, hop * (frames - 1)], window-sum-square normalised."""
        spectrum = torch.cat([magnitude * torch.cos(phase), magnitude * torch.sin(phase)], dim=1)
        audio = F.conv_transpose1d(spectrum, self.inverse_basis, stride=self.hop_length)
        window_sum = self.window_sum_square(magnitude.size(-1))
        tiny = float(np.finfo(np.float32).tiny)
        audio = torch.where(window_sum > tiny, audio / window_sum.clamp(min=tiny), audio)
        audio = audio * (float(self.filter_length) / self.hop_length)
        half = self.filter_length // 2
        return audio[:, :, half:-half]

    def window_sum_square(self, n_frames: int | torch.SymInt) -> torch.Tensor:
        """librosa's `window_sumsquare` [filter_length + hop * (n_frames - 1)]: the squared
        window overlap-added once per frame. A transposed convolution rather than librosa's
        numpy loop, so the inverse also exports to ONNX with any number of frames."""
        ones = self.window.new_ones(1, 1, n_frames)
        squared = (self.window**2).view(1, 1, -1)
        return F.conv_transpose1d(ones, squared, stride=self.hop_length).view(-1)


class MelSpectrogram(torch.nn.Module):
    """Audio in [-1, 1] -> natural-log mel spectrogram, NVIDIA's `TacotronSTFT.mel_spectrogram`."""

    def __init__(self, config: MelConfig | None = None):
        super().__init__()
        self.config = config or MelConfig()
        self.stft = STFT(self.config.filter_length, self.config.hop_length, self.config.win_length)
        mel_basis = torch.from_numpy(mel_filterbank(self.config)).float()
        self.register_buffer("mel_basis", mel_basis, persistent=False)

    @torch.no_grad()
    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """audio [B, N] (or [N]) in [-1, 1] -> log-mel [B, n_mels, 1 + N // hop] (or [n_mels, T])"""
        single = audio.dim() == 1
        batch = audio.unsqueeze(0) if single else audio
        magnitude, _ = self.stft.transform(batch)
        mel = dynamic_range_compression(torch.matmul(self.mel_basis, magnitude))
        return mel[0] if single else mel
