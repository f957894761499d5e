"""Text-to-mel training data: (symbol ids, log-mel) pairs and their padded batches.

Used by Tacotron 2 (and later by the parallel models, which add durations and pitch).
Mels come from `prepare mels` files when an utterance has a `mel_path`, else are computed
from the audio on the fly with the same front end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from speechsynth.audio.config import MelConfig
from speechsynth.audio.io import load_audio
from speechsynth.audio.stft import MelSpectrogram
from speechsynth.data.formats import Utterance
from speechsynth.errors import SpeechSynthError
from speechsynth.text import TextProcessor


@dataclass
class TextMelItem:
    utterance_id: str
    text_ids: Tensor  # [L] int64
    mel: Tensor  # [n_mels, T] float32


@dataclass
class TextMelBatch:
    """A padded batch, sorted by decreasing text length (the encoder packs its BiLSTM input)."""

    utterance_ids: list[str]
    text: Tensor  # [B, L_max] int64, padded with 0 (the pad symbol)
    text_lengths: Tensor  # [B] int64
    mels: Tensor  # [B, n_mels, T_max] float32, padded with 0.0
    mel_lengths: Tensor  # [B] int64
    gate_targets: Tensor  # [B, T_max] float32: 1.0 from each utterance's last frame on

    def to(self, device: torch.device | str) -> TextMelBatch:
        return TextMelBatch(
            self.utterance_ids,
            self.text.to(device, non_blocking=True),
            self.text_lengths.to(device, non_blocking=True),
            self.mels.to(device, non_blocking=True),
            self.mel_lengths.to(device, non_blocking=True),
            self.gate_targets.to(device, non_blocking=True),
        )

    @property
    def n_frames(self) -> int:
        """Real (unpadded) mel frames in the batch: the throughput unit for text-to-mel models."""
        return int(self.mel_lengths.sum())


class TextMelDataset(Dataset):
    def __init__(
        self,
        utterances: list[Utterance],
        text_processor: TextProcessor,
        mel_config: MelConfig | None = None,
    ):
        self.utterances = utterances
        self.text_processor = text_processor
        self.mel_config = mel_config or MelConfig()
        self._mel_spectrogram: MelSpectrogram | None = None

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> TextMelItem:
        utterance = self.utterances[index]
        text_ids = torch.tensor(self.text_processor.encode(utterance.text), dtype=torch.long)
        return TextMelItem(utterance.utterance_id, text_ids, self.load_mel(utterance))

    def load_mel(self, utterance: Utterance) -> Tensor:
        if utterance.mel_path is not None:
            return self._mel_from_disk(utterance)
        if utterance.audio_path is None:
            raise SpeechSynthError(f"{utterance.origin}: utterance has neither audio nor a mel")
        if self._mel_spectrogram is None:
            self._mel_spectrogram = MelSpectrogram(self.mel_config)
        audio = load_audio(utterance.audio_path, self.mel_config.sampling_rate)
        return self._mel_spectrogram(torch.from_numpy(audio))

    def _mel_from_disk(self, utterance: Utterance) -> Tensor:
        try:
            mel = torch.load(utterance.mel_path, weights_only=True)
        except (OSError, RuntimeError) as error:
            raise SpeechSynthError(
                f"{utterance.mel_path}: cannot load mel ({error}); rerun `speechsynth prepare mels`"
            ) from None
        n_mels = self.mel_config.n_mel_channels
        if not isinstance(mel, Tensor) or mel.dim() != 2 or mel.size(0) != n_mels:
            raise SpeechSynthError(
                f"{utterance.mel_path}: expected a [{n_mels}, frames] mel tensor; "
                "rerun `speechsynth prepare mels`"
            )
        return mel.float()


def collate_text_mel(items: list[TextMelItem]) -> TextMelBatch:
    """Sort by text length (longest first) and zero-pad text, mels and gate targets."""
    items = sorted(items, key=lambda item: len(item.text_ids), reverse=True)
    text_lengths = torch.tensor([len(item.text_ids) for item in items], dtype=torch.long)
    mel_lengths = torch.tensor([item.mel.size(1) for item in items], dtype=torch.long)
    n_mels = items[0].mel.size(0)
    text = torch.zeros(len(items), int(text_lengths.max()), dtype=torch.long)
    mels = torch.zeros(len(items), n_mels, int(mel_lengths.max()))
    gate_targets = torch.zeros(len(items), int(mel_lengths.max()))
    for row, item in enumerate(items):
        text[row, : len(item.text_ids)] = item.text_ids
        mels[row, :, : item.mel.size(1)] = item.mel
        gate_targets[row, item.mel.size(1) - 1 :] = 1.0
    return TextMelBatch(
        [item.utterance_id for item in items], text, text_lengths, mels, mel_lengths, gate_targets
    )
