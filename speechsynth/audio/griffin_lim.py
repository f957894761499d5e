"""Griffin-Lim: a log-mel spectrogram back to audio with no trained vocoder.

Uses the fast (momentum) variant of Perraudin et al. (2013), as librosa does, on torch's FFT STFT
so a batch of mels is inverted at once.
"""

from __future__ import annotations

import torch

from speechsynth.audio.config import MelConfig
from speechsynth.audio.stft import dynamic_range_decompression, mel_filterbank, periodic_hann


class GriffinLim(torch.nn.Module):
    """Log-mel [B, n_mels, T] (or [n_mels, T]) -> audio [B, hop * T] in [-1, 1], like a vocoder."""

    def __init__(
        self,
        config: MelConfig | None = None,
        n_iter: int = 60,
        momentum: float = 0.99,
        power: float = 1.0,
        seed: int | None = 0,
    ):
        super().__init__()
        if n_iter < 1:
            raise ValueError("n_iter must be at least 1")
        self.config = config or MelConfig()
        self.n_iter = n_iter
        self.momentum = momentum
        self.power = power
        self.seed = seed
        mel_inverse = torch.linalg.pinv(torch.from_numpy(mel_filterbank(self.config))).float()
        self.register_buffer("mel_inverse", mel_inverse, persistent=False)
        window = periodic_hann(self.config.win_length, self.config.filter_length)
        self.register_buffer("window", torch.from_numpy(window).float(), persistent=False)

    def linear_magnitude(self, log_mel: torch.Tensor) -> torch.Tensor:
        """Least-squares linear magnitude [B, n_fft/2+1, T] whose mel projection is `log_mel`."""
        magnitude = torch.matmul(self.mel_inverse, dynamic_range_decompression(log_mel))
        return magnitude.clamp(min=0.0) ** self.power

    def _stft(self, audio: torch.Tensor) -> torch.Tensor:
        return torch.stft(
            audio,
            n_fft=self.config.filter_length,
            hop_length=self.config.hop_length,
            win_length=self.config.filter_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )

    def _istft(self, spectrum: torch.Tensor, length: int) -> torch.Tensor:
        return torch.istft(
            spectrum,
            n_fft=self.config.filter_length,
            hop_length=self.config.hop_length,
            win_length=self.config.filter_length,
            window=self.window,
            center=True,
            length=length,
        )

    @torch.no_grad()
    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        single = log_mel.dim() == 2
        log_mel = log_mel.unsqueeze(0) if single else log_mel
        magnitude = self.linear_magnitude(log_mel.float())
        length = self.config.hop_length * magnitude.size(-1)
        generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None
        # One phase draw shared by the batch, drawn frame-major, so an utterance starts from the
        # same phases whether it is vocoded alone or in a (padded) batch.
        n_bins, n_frames = magnitude.shape[-2:]
        random_phase = torch.rand(n_frames, n_bins, generator=generator).T * 2 * torch.pi
        angles = torch.polar(torch.ones_like(magnitude), random_phase.to(magnitude.device))
        previous = torch.zeros_like(angles)
        for _ in range(self.n_iter):
            audio = self._istft(magnitude * angles, length)
            rebuilt = self._stft(audio)[..., : magnitude.size(-1)]
            angles = rebuilt - (self.momentum / (1 + self.momentum)) * previous
            angles = angles / angles.abs().clamp(min=1e-16)
            previous = rebuilt
        audio = self._istft(magnitude * angles, length).clamp(-1.0, 1.0)
        return audio[0] if single else audio
