"""Seeded train / validation / test splits of a list of utterances."""

from __future__ import annotations

import random

from speechsynth.data.formats import Utterance
from speechsynth.errors import SpeechSynthError

SPLIT_NAMES = ("train", "val", "test")


def resolve_size(size: float, n_items: int, name: str) -> int:
    """A split size given as a count (>= 1) or as a fraction of the dataset (< 1)."""
    if size < 0:
        raise SpeechSynthError(f"--{name}-size must not be negative, got {size}")
    if size < 1:
        return round(size * n_items)
    if size != int(size):
        raise SpeechSynthError(f"--{name}-size must be a whole count or a fraction < 1, got {size}")
    return int(size)


def split_utterances(
    utterances: list[Utterance], val_size: float, test_size: float, seed: int
) -> dict[str, list[Utterance]]:
    """Shuffle with `seed`, take test then validation clips, keep the rest for training.

    Each split keeps the dataset's original order, so filelists diff cleanly between runs.
    """
    n_val = resolve_size(val_size, len(utterances), "val")
    n_test = resolve_size(test_size, len(utterances), "test")
    if n_val + n_test >= len(utterances):
        raise SpeechSynthError(
            f"validation ({n_val}) + test ({n_test}) clips leave nothing to train on out of "
            f"{len(utterances)}; lower --val-size / --test-size"
        )
    order = list(range(len(utterances)))
    random.Random(seed).shuffle(order)
    test_indices = set(order[:n_test])
    val_indices = set(order[n_test : n_test + n_val])
    splits: dict[str, list[Utterance]] = {name: [] for name in SPLIT_NAMES}
    for index, utterance in enumerate(utterances):
        name = "test" if index in test_indices else "val" if index in val_indices else "train"
        splits[name].append(utterance)
    return splits
