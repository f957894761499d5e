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
    for directory, field_name, command in (
        (config.mel_dir, "mel_path", "prepare mels DATASET --output {dir}` or drop data.mel_dir"),
        (config.pitch_dir, "pitch_path", "prepare pitch DATASET --output {dir}`"),
        (config.durations_dir, "duration_path", "prepare durations --output {dir} ...`"),
    ):
        if directory:
            train = attach_files(train, Path(directory), field_name, command)
            val = attach_files(val, Path(directory), field_name, command)
    if not train:
        raise SpeechSynthError(
            f"{dataset}: no training utterances; check the dataset and filelists"
        )
    return train, val


def attach_files(
    utterances: list[Utterance], directory: Path, field_name: str, command: str
) -> list[Utterance]:
    """Point each utterance's `field_name` at its per-clip file `<directory>/<id>.pt`."""
    if not directory.is_dir():
        raise SpeechSynthError(
            f"{directory}: directory not found; run `speechsynth {command.format(dir=directory)}"
        )
    attached = []
    for utterance in utterances:
        path = directory / f"{utterance.utterance_id}.pt"
        if not path.is_file():
            kind = field_name.removesuffix("_path")
            raise SpeechSynthError(
                f"{path}: {kind} file missing; run `speechsynth {command.format(dir=directory)}"
            )
        attached.append(replace(utterance, **{field_name: path}))
    return attached
