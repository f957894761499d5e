"""Parallel text-to-mel training data: symbols, mel and durations (FastSpeech), plus pitch,
energy or an alignment prior (FastPitch).

FastSpeech's items are (symbols, mel, Tacotron 2 teacher durations): `TextMelDurationDataset`
and `collate_text_mel_durations`. FastPitch builds on the same dataset. Two ways to learn its
durations, as NVIDIA's two FastPitch versions:
- `aligner` (FastPitch 1.1): the model's learned aligner finds durations itself; an item holds
  the dense per-frame pitch [1, T] and the beta-binomial alignment prior [T, L];
- `teacher` (FastPitch 1.0): durations come from a Tacotron 2 teacher (`prepare durations`);
  an item holds them [L] and the pitch averaged per symbol over them [L].
Pitch files come from `prepare pitch` (Hz per mel frame, 0 where unvoiced) and are normalised
here with the dataset's mean and std, zeros kept at 0 (NVIDIA's `normalize_pitch`). Energy is
the L2 norm of each log-mel frame over its channels (NVIDIA 1.1's data loader).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from speechsynth.audio.config import MelConfig
from speechsynth.audio.pitch import frame_energy, normalise_pitch
from speechsynth.data.formats import Utterance
from speechsynth.data.text_mel import TextMelDataset
from speechsynth.errors import SpeechSynthError
from speechsynth.models.aligner import average_per_symbol, beta_binomial_prior
from speechsynth.text import TextProcessor

DURATION_SOURCES = ("aligner", "teacher")


@dataclass
class TextMelDurationItem:
    utterance_id: str
    text_ids: Tensor  # [L] int64
    mel: Tensor  # [n_mels, T]
    durations: Tensor  # [L] int64, sums to T


@dataclass
class TextMelDurationBatch:
    """Zero-padded, sorted by decreasing text length (as FastPitch's batches)."""

    utterance_ids: list[str]
    text: Tensor  # [B, L_max]
    text_lengths: Tensor  # [B]
    mels: Tensor  # [B, n_mels, T_max]
    mel_lengths: Tensor  # [B]
    durations: Tensor  # [B, L_max] int64, 0 on padded symbols

    def to(self, device: torch.device | str) -> TextMelDurationBatch:
        return _batch_to(self, device)

    @property
    def n_frames(self) -> int:
        return int(self.mel_lengths.sum())


@dataclass
class FastPitchItem:
    utterance_id: str
    text_ids: Tensor  # [L] int64
    mel: Tensor  # [n_mels, T]
    pitch: Tensor  # normalised; aligner: [1, T] per frame; teacher: [L] per symbol
    energy: Tensor  # [T] per frame
    durations: Tensor | None  # teacher: [L] int64, sums to T
    attn_prior: Tensor | None  # aligner: [T, L]


@dataclass
class FastPitchBatch:
    """Zero-padded, sorted by decreasing text length (as NVIDIA's TTSCollate)."""

    utterance_ids: list[str]
    text: Tensor  # [B, L_max]
    text_lengths: Tensor  # [B]
    mels: Tensor  # [B, n_mels, T_max]
    mel_lengths: Tensor  # [B]
    pitch: Tensor  # aligner: [B, 1, T_max]; teacher: [B, L_max]
    energy: Tensor  # [B, T_max]
    durations: Tensor | None  # [B, L_max]
    attn_prior: Tensor | None  # [B, T_max, L_max]

    def to(self, device: torch.device | str) -> FastPitchBatch:
        return _batch_to(self, device)

    @property
    def n_frames(self) -> int:
        return int(self.mel_lengths.sum())


def _batch_to(batch: Any, device: torch.device | str) -> Any:
    """A copy of dataclass `batch` with its tensors on `device`."""
    moved = {
        field.name: value.to(device, non_blocking=True)
        if isinstance(value := getattr(batch, field.name), Tensor)
        else value
        for field in fields(batch)
    }
    return type(batch)(**moved)


@functools.lru_cache(maxsize=4096)
def cached_prior(text_length: int, mel_length: int) -> Tensor:
    return beta_binomial_prior(text_length, mel_length).float()


class TextMelDurationDataset(TextMelDataset):
    """Symbols, mel and teacher durations (`prepare durations`, one `<id>.pt` per clip) that
    count the same symbols (data.cleaners, no ARPAbet) and add up to the mel's frames."""

    def __getitem__(self, index: int) -> TextMelDurationItem:
        utterance = self.utterances[index]
        text_ids = torch.tensor(self.text_processor.encode(utterance.text), dtype=torch.long)
        mel = self.load_mel(utterance)
        durations = self._load_durations(utterance, len(text_ids), mel.size(1))
        return TextMelDurationItem(utterance.utterance_id, text_ids, mel, durations)

    def _load_durations(self, utterance: Utterance, symbols: int, frames: int) -> Tensor:
        if utterance.duration_path is None:
            raise SpeechSynthError(
                f"{utterance.origin or utterance.utterance_id}: no durations; run `speechsynth "
                "prepare durations --tacotron2 CKPT DATASET` and set data.durations_dir"
            )
        durations = _load_tensor(utterance.duration_path, "durations", "prepare durations")
        durations = durations.long().flatten()
        if durations.numel() != symbols:
            raise SpeechSynthError(
                f"{utterance.duration_path}: {durations.numel()} durations for {symbols} "
                "symbols; durations must come from the same cleaners (data.cleaners) and "
                "data.p_arpabet=0"
            )
        if int(durations.sum()) != frames:
            raise SpeechSynthError(
                f"{utterance.duration_path}: durations sum to {int(durations.sum())}, the mel "
                f"has {frames} frames; rerun `speechsynth prepare durations` on these mels"
            )
        return durations


class FastPitchDataset(TextMelDurationDataset):
    def __init__(
        self,
        utterances: list[Utterance],
        text_processor: TextProcessor,
        pitch_mean: float,
        pitch_std: float,
        duration_source: str = "aligner",
        mel_config: MelConfig | None = None,
    ):
        super().__init__(utterances, text_processor, mel_config)
        if duration_source not in DURATION_SOURCES:
            raise SpeechSynthError(
                f"unknown duration source {duration_source!r}; choose one of {DURATION_SOURCES}"
            )
        if pitch_std <= 0:
            raise SpeechSynthError(f"pitch std must be positive, got {pitch_std}")
        self.pitch_mean, self.pitch_std = pitch_mean, pitch_std
        self.duration_source = duration_source

    def __getitem__(self, index: int) -> FastPitchItem:
        utterance = self.utterances[index]
        text_ids = torch.tensor(self.text_processor.encode(utterance.text), dtype=torch.long)
        mel = self.load_mel(utterance)
        frames = mel.size(1)
        pitch = normalise_pitch(
            self._load_pitch(utterance, frames), self.pitch_mean, self.pitch_std
        )
        energy = frame_energy(mel.float())
        if self.duration_source == "aligner":
            prior = cached_prior(len(text_ids), frames)
            return FastPitchItem(
                utterance.utterance_id, text_ids, mel, pitch.unsqueeze(0), energy, None, prior
            )
        durations = self._load_durations(utterance, len(text_ids), frames)
        symbol_pitch = average_per_symbol(pitch.view(1, 1, -1), durations.unsqueeze(0))[0, 0]
        return FastPitchItem(
            utterance.utterance_id, text_ids, mel, symbol_pitch, energy, durations, None
        )

    def _load_pitch(self, utterance: Utterance, frames: int) -> Tensor:
        if utterance.pitch_path is None:
            raise SpeechSynthError(
                f"{utterance.origin or utterance.utterance_id}: no pitch file; run `speechsynth "
                "prepare pitch DATASET` and set data.pitch_dir (or use a filelist with pitch)"
            )
        pitch = _load_tensor(utterance.pitch_path, "pitch", "prepare pitch").float().flatten()
        if abs(pitch.numel() - frames) > 1:  # NVIDIA tolerates one frame of difference too
            raise SpeechSynthError(
                f"{utterance.pitch_path}: {pitch.numel()} pitch frames for a {frames}-frame mel; "
                "rerun `speechsynth prepare pitch` with the same mel settings"
            )
        return torch.nn.functional.pad(pitch, (0, max(0, frames - pitch.numel())))[:frames]


def _load_tensor(path: Path, kind: str, command: str) -> Tensor:
    try:
        value = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as error:
        raise SpeechSynthError(
            f"{path}: cannot load {kind} ({str(error).splitlines()[0]}); rerun "
            f"`speechsynth {command}`"
        ) from None
    if not isinstance(value, Tensor):
        raise SpeechSynthError(f"{path}: expected a {kind} tensor; rerun `speechsynth {command}`")
    return value


def _pad_text_and_mels(items: list) -> tuple[list, Tensor, Tensor, Tensor, Tensor]:
    """Items sorted by decreasing text length -> (items, text, text_lengths, mels, mel_lengths),
    zero-padded."""
    items = sorted(items, key=lambda item: len(item.text_ids), reverse=True)
    text_lengths = torch.tensor([len(item.text_ids) for item in items], dtype=torch.long)
    mel_lengths = torch.tensor([item.mel.size(1) for item in items], dtype=torch.long)
    batch, max_text, max_frames = len(items), int(text_lengths.max()), int(mel_lengths.max())
    text = torch.zeros(batch, max_text, dtype=torch.long)
    mels = torch.zeros(batch, items[0].mel.size(0), max_frames)
    for row, item in enumerate(items):
        text[row, : len(item.text_ids)] = item.text_ids
        mels[row, :, : item.mel.size(1)] = item.mel
    return items, text, text_lengths, mels, mel_lengths


def collate_text_mel_durations(items: list[TextMelDurationItem]) -> TextMelDurationBatch:
    items, text, text_lengths, mels, mel_lengths = _pad_text_and_mels(items)
    durations = torch.zeros(text.shape, dtype=torch.long)
    for row, item in enumerate(items):
        durations[row, : len(item.durations)] = item.durations
    return TextMelDurationBatch(
        [item.utterance_id for item in items], text, text_lengths, mels, mel_lengths, durations
    )


def collate_fastpitch(items: list[FastPitchItem]) -> FastPitchBatch:
    items, text, text_lengths, mels, mel_lengths = _pad_text_and_mels(items)
    batch, max_text, max_frames = len(items), text.size(1), mels.size(2)
    energy = torch.zeros(batch, max_frames)
    teacher = items[0].durations is not None
    pitch = torch.zeros(batch, max_text) if teacher else torch.zeros(batch, 1, max_frames)
    durations = torch.zeros(batch, max_text, dtype=torch.long) if teacher else None
    prior = None if teacher else torch.zeros(batch, max_frames, max_text)
    for row, item in enumerate(items):
        symbols, frames = len(item.text_ids), item.mel.size(1)
        energy[row, :frames] = item.energy
        if teacher:
            pitch[row, :symbols] = item.pitch
            durations[row, :symbols] = item.durations
        else:
            pitch[row, :, :frames] = item.pitch
            prior[row, :frames, :symbols] = item.attn_prior
    return FastPitchBatch(
        [item.utterance_id for item in items],
        text,
        text_lengths,
        mels,
        mel_lengths,
        pitch,
        energy,
        durations,
        prior,
    )
