"""Vocoder training data: random fixed-length audio segments and their log-mels (NVIDIA's
`MelAudioLoader`): a clip longer than the segment gives a random window of it, a shorter one
is zero-padded at the end."""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from speechsynth.audio.config import MelConfig
from speechsynth.audio.io import load_audio
from speechsynth.audio.stft import MelSpectrogram
from speechsynth.data.formats import Utterance
from speechsynth.errors import SpeechSynthError


@dataclass
class AudioMelBatch:
    mels: Tensor  # [B, n_mels, 1 + segment_length // hop]
    audio: Tensor  # [B, segment_length] in [-1, 1]

    def to(self, device: torch.device | str) -> AudioMelBatch:
        return AudioMelBatch(self.mels.to(device), self.audio.to(device))

    @property
    def n_samples(self) -> int:
        return self.audio.numel()


class AudioMelDataset(Dataset):
    def __init__(
        self,
        utterances: list[Utterance],
        segment_length: int,
        mel_config: MelConfig | None = None,
        random_segments: bool = True,
    ):
        missing = [u.origin or u.utterance_id for u in utterances if u.audio_path is None]
        if missing:
            raise SpeechSynthError(f"{missing[0]}: vocoder training needs audio files, not mels")
        self.utterances = utterances
        self.segment_length = segment_length
        self.mel_config = mel_config or MelConfig()
        self.random_segments = random_segments
        self._mel_spectrogram: MelSpectrogram | None = None

    def __len__(self) -> int:
        return len(self.utterances)

    def segment(self, audio: Tensor) -> Tensor:
        """A `segment_length` window: random while training, the clip's start otherwise."""
        if audio.size(0) < self.segment_length:
            return F.pad(audio, (0, self.segment_length - audio.size(0)))
        last_start = audio.size(0) - self.segment_length
        start = random.randint(0, last_start) if self.random_segments else 0
        return audio[start : start + self.segment_length]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        utterance = self.utterances[index]
        audio = torch.from_numpy(load_audio(utterance.audio_path, self.mel_config.sampling_rate))
        segment = self.segment(audio)
        if self._mel_spectrogram is None:
            self._mel_spectrogram = MelSpectrogram(self.mel_config)
        return self._mel_spectrogram(segment), segment


def collate_audio_mel(items: list[tuple[Tensor, Tensor]]) -> AudioMelBatch:
    mels, audio = zip(*items, strict=True)
    return AudioMelBatch(torch.stack(mels), torch.stack(audio))
