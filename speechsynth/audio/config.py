"""The one set of STFT / mel settings every NVIDIA TTS model in this package shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MelConfig:
    """NVIDIA's `TacotronSTFT` settings, shared by Tacotron 2, WaveGlow, FastPitch, FastSpeech."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0
    max_wav_value: float = 32768.0

    def to_dict(self) -> dict:
        return asdict(self)

    def n_frames(self, n_samples: int) -> int:
        """Mel frames for a clip: the reflect-padded, centred STFT gives 1 + floor(n / hop)."""
        return 1 + n_samples // self.hop_length
