"""NVIDIA's vocoder denoiser (WaveGlow's, and HiFi-GAN's, which is the same): subtract the
vocoder's own bias spectrum (what it renders for a silent mel) from every frame's magnitude,
keeping the phase.

WaveGlow adds a faint constant hiss; its spectrum is estimated once from `infer(zeros, sigma=0)`
and taken off at `strength` (NVIDIA's inference uses 0.01).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.models.waveglow import WaveGlow

DEFAULT_STRENGTH = 0.01
BIAS_MEL_FRAMES = 88  # NVIDIA's zero mel: [1, 80, 88]
STFT_SETTINGS = (1024, 256, 1024)  # NVIDIA's: filter_length, hop_length (a quarter), win_length


class Denoiser(nn.Module):
    """`forward(audio [B, N], strength)` -> denoised audio [B, N].

    `stft` is NVIDIA's conv-based STFT, `audio.stft.STFT(*STFT_SETTINGS)`, given by the caller
    (models/ sits beside audio/, not above it): `transform(audio)` -> (magnitude, phase) and
    `inverse(magnitude, phase)` -> audio, with `hop_length` and `filter_length`.
    """

    def __init__(
        self,
        render: Callable[[Tensor], Tensor],
        n_mel_channels: int,
        stft: nn.Module,
        device: torch.device | str = "cpu",
    ):
        """`render(silent_mel [1, n_mels, 88]) -> audio [1, N]`: the vocoder, noise off."""
        super().__init__()
        self.stft = stft.to(device)
        silent_mel = torch.zeros(1, n_mel_channels, BIAS_MEL_FRAMES, device=device)
        with torch.no_grad():
            bias_audio = render(silent_mel).float()
            bias_magnitude, _ = self.stft.transform(bias_audio)
        self.register_buffer("bias_spec", bias_magnitude[:, :, 0:1])  # first frame: [1, bins, 1]

    @torch.no_grad()
    def forward(self, audio: Tensor, strength: float | Tensor = DEFAULT_STRENGTH) -> Tensor:
        """`strength` may be a tensor [1] (the exported graph's input)."""
        n_samples = audio.size(1)
        padded = F.pad(audio.float(), (0, self._padding(n_samples)))
        magnitude, phase = self.stft.transform(padded)
        denoised = torch.clamp(magnitude - self.bias_spec * strength, min=0.0)
        return self.stft.inverse(denoised, phase).squeeze(1)[:, :n_samples]

    def _padding(self, n_samples: int | torch.SymInt) -> int | torch.SymInt:
        """Zeros to append so the STFT round trip returns every sample: a whole number of
        hops, and more than half a filter (the reflection padding needs it). None for
        WaveGlow's outputs of three frames or more, so NVIDIA's results are unchanged.
        (`sym_max`: a symbolic length stays symbolic when the denoiser is exported.)"""
        hop = self.stft.hop_length
        shortest = self.stft.filter_length // 2 + 1
        padded = torch.sym_max(-(-n_samples // hop), -(-shortest // hop)) * hop
        return padded - n_samples


def waveglow_denoiser(waveglow: WaveGlow, stft: nn.Module) -> Denoiser:
    """NVIDIA's `Denoiser(waveglow)`: its bias is `infer(zeros, sigma=0)`."""
    return Denoiser(
        lambda mel: waveglow.infer(mel, sigma=0.0),
        waveglow.config.n_mel_channels,
        stft,
        waveglow.upsample.weight.device,
    )
