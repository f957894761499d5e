"""Which utterances a training run uses for training and for validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from speechsynth.data.formats import Utterance, load_dataset, read_filelist
from speechsynth.data.splits import split_utterances
from speechsynth.errors import SpeechSynthError
from speechsynth.train.config import DataConfig


def _filelist(dataset: Path, configured: str, default_name: str) -> Path | None:
    if configured:
        return Path(configured)
    candidate = dataset / "filelists" / default_name
    return candidate if dataset.is_dir() and candidate.is_file() else None


def select_utterances(
    dataset: Path, config: DataConfig, seed: int
) -> tuple[list[Utterance], list[Utterance]]:
    """(train, validation) utterances.

    Filelists named in the config win; then `DATASET/filelists/{train,val}.txt` (written by
    `prepare split`); otherwise the whole dataset with `val_size` clips held out, seeded.
    Paths in filelists are read relative to `dataset` when it is a directory.
    """
    if not dataset.exists():
        raise SpeechSynthError(f"{dataset}: dataset not found; give an LJSpeech dir or a filelist")
    root = dataset if dataset.is_dir() else None
    train_list = _filelist(dataset, config.train_filelist, "train.txt")
    val_list = _filelist(dataset, config.val_filelist, "val.txt")
    if train_list is not None:
        train = read_filelist(train_list, root)
        val = read_filelist(val_list, root) if val_list is not None else []
    else:
        everything = load_dataset(dataset)
        if val_list is not None:
            train, val = everything, read_filelist(val_list, root)
        else:
            splits = split_utterances(everything, config.val_size, 0, seed)
            train, val = splits["train"], splits["val"]
    if config.mel_dir:
        train, val = _with_mels(train, Path(config.mel_dir)), _with_mels(val, Path(config.mel_dir))
    if not train:
        raise SpeechSynthError(
            f"{dataset}: no training utterances; check the dataset and filelists"
        )
    return train, val


def _with_mels(utterances: list[Utterance], mel_dir: Path) -> list[Utterance]:
    """Point each utterance at its precomputed mel `<mel_dir>/<id>.pt`."""
    with_mels = []
    for utterance in utterances:
        mel_path = mel_dir / f"{utterance.utterance_id}.pt"
        if not mel_path.is_file():
            raise SpeechSynthError(
                f"{mel_path}: precomputed mel missing; run `speechsynth prepare mels "
                f"DATASET --output {mel_dir}` or drop data.mel_dir"
            )
        with_mels.append(replace(utterance, mel_path=mel_path))
    return with_mels
