"""Data layer: dataset and filelist formats."""

from speechsynth.data.formats import (
    Phrase,
    Utterance,
    load_dataset,
    read_filelist,
    read_ljspeech,
    read_phrases,
    write_filelist,
)

__all__ = [
    "Phrase",
    "Utterance",
    "load_dataset",
    "read_filelist",
    "read_ljspeech",
    "read_phrases",
    "write_filelist",
]
