"""A tiny FastPitch and four real clips with mels, pitch and simple durations on disk."""

from __future__ import annotations

from pathlib import Path

import torch

from speechsynth.audio.config import MelConfig
from speechsynth.audio.io import load_audio
from speechsynth.audio.pitch import estimate_pitch
from speechsynth.audio.stft import MelSpectrogram
from speechsynth.data.formats import Utterance, read_ljspeech
from speechsynth.text import TextProcessor

SHORTEST_CLIPS = ("LJ001-0008", "LJ001-0002", "LJ001-0013", "LJ001-0011")  # 1.8 to 4.5 s

TINY_FASTPITCH = [
    "model.symbols_embedding_dim=32",
    "model.in_fft_n_layers=2",
    "model.in_fft_d_head=16",
    "model.in_fft_conv1d_filter_size=64",
    "model.in_fft_output_size=32",
    "model.out_fft_n_layers=2",
    "model.out_fft_d_head=16",
    "model.out_fft_conv1d_filter_size=64",
    "model.out_fft_output_size=32",
    "model.dur_predictor_filter_size=32",
    "model.pitch_predictor_filter_size=32",
    "model.energy_predictor_filter_size=32",
    "train.num_workers=0",
    "train.batch_size=4",
    "train.grad_accumulation=1",
    "data.p_arpabet=0",
]


def even_durations(symbols: int, frames: int) -> torch.Tensor:
    """Frames spread as evenly as possible over the symbols, in order (a stand-in teacher)."""
    edges = torch.linspace(0, frames, symbols + 1).round().long()
    return edges[1:] - edges[:-1]


def prepared_clips(ljspeech_mini: Path, directory: Path) -> tuple[list[Utterance], Path, Path]:
    """The four shortest clips, with `<dir>/mels`, `<dir>/pitch` (Praat, Hz, [1, T]) and
    `<dir>/durations` (even, for the english_cleaners symbols) -> (utterances, pitch, durations)."""
    by_id = {utterance.utterance_id: utterance for utterance in read_ljspeech(ljspeech_mini)}
    mel_config = MelConfig()
    mel_spectrogram = MelSpectrogram(mel_config)
    processor = TextProcessor(("english_cleaners",), 0.0)
    folders = {name: directory / name for name in ("mels", "pitch", "durations")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    utterances = []
    for clip_id in SHORTEST_CLIPS:
        utterance = by_id[clip_id]
        audio = load_audio(utterance.audio_path, mel_config.sampling_rate)
        mel = mel_spectrogram(torch.from_numpy(audio))
        frames = mel.size(1)
        pitch = estimate_pitch(audio, mel_config.sampling_rate, frames, "praat")
        symbols = len(processor.encode(utterance.text))
        torch.save(mel, folders["mels"] / f"{clip_id}.pt")
        torch.save(torch.from_numpy(pitch).unsqueeze(0), folders["pitch"] / f"{clip_id}.pt")
        torch.save(even_durations(symbols, frames), folders["durations"] / f"{clip_id}.pt")
        utterances.append(utterance)
    return utterances, folders["pitch"], folders["durations"]
