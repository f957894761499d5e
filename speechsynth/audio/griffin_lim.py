"""Griffin-Lim: a log-mel spectrogram back to audio with no trained vocoder.

The fast (momentum) variant of Perraudin et al. (2013), as librosa has it, in numpy (no torch:
an exported voice vocodes with it without torch), batched: a batch of mels is inverted at once.
The STFT is centred with reflection padding and a periodic Hann window, as NVIDIA's mel front
end; the inverse divides by the overlap-added squared window, as `torch.istft` does.
"""

from __future__ import annotations

import numpy as np

from speechsynth.audio.config import MelConfig
from speechsynth.audio.mel_basis import mel_pseudo_inverse, periodic_hann

TINY = 1e-11  # below this, the window envelope counts as zero (torch.istft's bound)


class GriffinLim:
    """Log-mel [B, n_mels, T] (or [n_mels, T]) -> audio [B, hop * T] in [-1, 1], like a vocoder."""

    def __init__(
        self,
        config: MelConfig | None = None,
        n_iter: int = 60,
        momentum: float = 0.99,
        power: float = 1.0,
        seed: int | None = 0,
    ):
        if n_iter < 1:
            raise ValueError("n_iter must be at least 1")
        self.config = config or MelConfig()
        self.n_iter = n_iter
        self.momentum = momentum
        self.power = power
        self.seed = seed
        self.mel_inverse = mel_pseudo_inverse(self.config)
        self.window = periodic_hann(self.config.win_length, self.config.filter_length).astype(
            np.float32
        )

    def linear_magnitude(self, log_mel: np.ndarray) -> np.ndarray:
        """Least-squares linear magnitude [B, n_fft/2+1, T] whose mel projection is `log_mel`."""
        magnitude = np.matmul(self.mel_inverse, np.exp(log_mel))
        return np.maximum(magnitude, 0.0) ** self.power

    def __call__(self, log_mel: np.ndarray) -> np.ndarray:
        log_mel = np.asarray(log_mel, dtype=np.float32)
        single = log_mel.ndim == 2
        log_mel = log_mel[None] if single else log_mel
        magnitude = self.linear_magnitude(log_mel)
        length = self.config.hop_length * magnitude.shape[-1]
        # One phase draw shared by the batch, drawn frame-major, so an utterance starts from the
        # same phases whether it is vocoded alone or in a (padded) batch.
        n_bins, n_frames = magnitude.shape[-2:]
        random_phase = np.random.default_rng(self.seed).random((n_frames, n_bins)).T * 2 * np.pi
        angles = np.broadcast_to(np.exp(1j * random_phase), magnitude.shape).astype(np.complex64)
        previous = np.zeros_like(angles)
        for _ in range(self.n_iter):
            rebuilt = self._stft(self._istft(magnitude * angles, length))[..., :n_frames]
            angles = rebuilt - (self.momentum / (1 + self.momentum)) * previous
            angles = angles / np.maximum(np.abs(angles), 1e-16)
            previous = rebuilt
        audio = np.clip(self._istft(magnitude * angles, length), -1.0, 1.0).astype(np.float32)
        return audio[0] if single else audio

    def _stft(self, audio: np.ndarray) -> np.ndarray:
        """audio [B, N] -> complex spectrum [B, n_fft/2+1, 1 + N // hop] (centred frames)."""
        n_fft, hop = self.config.filter_length, self.config.hop_length
        padded = np.pad(audio, ((0, 0), (n_fft // 2, n_fft // 2)), mode="reflect")
        n_frames = 1 + audio.shape[-1] // hop
        frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]
        # In float64: numpy's float32 real FFT is about 5x slower than its float64 one.
        windowed = (frames[:, :n_frames] * self.window).astype(np.float64)
        spectrum = np.fft.rfft(windowed, axis=-1)
        return spectrum.transpose(0, 2, 1).astype(np.complex64)

    def _istft(self, spectrum: np.ndarray, length: int) -> np.ndarray:
        """Complex spectrum [B, bins, F] -> audio [B, length]: windowed overlap-add, divided by
        the overlap-added squared window, the centre padding removed."""
        n_fft, hop = self.config.filter_length, self.config.hop_length
        frames = np.fft.irfft(spectrum.transpose(0, 2, 1), n=n_fft, axis=-1) * self.window
        audio = _overlap_add(frames, hop)
        n_frames = spectrum.shape[-1]
        envelope = _overlap_add(np.broadcast_to(self.window**2, (1, n_frames, n_fft)), hop)[0]
        audio = audio / np.where(envelope > TINY, envelope, 1.0)
        start = n_fft // 2
        return audio[:, start : start + length].astype(np.float32)


def _overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """frames [B, F, n_fft] -> [B, n_fft + hop (F - 1)], each frame added in at `hop` steps."""
    batch, n_frames, n_fft = frames.shape
    output = np.zeros((batch, n_fft + hop * (n_frames - 1)), dtype=frames.dtype)
    if n_fft % hop == 0:  # n_fft / hop vectorised adds (4 with NVIDIA's 1024 / 256)
        blocks = frames.reshape(batch, n_frames, n_fft // hop, hop)
        view = output.reshape(batch, -1, hop)
        for k in range(n_fft // hop):
            view[:, k : k + n_frames] += blocks[:, :, k]
        return output
    for index in range(n_frames):
        output[:, index * hop : index * hop + n_fft] += frames[:, index]
    return output
