"""Shared pieces of the trainer tests: a tiny Tacotron 2 config and dataset helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

from speechsynth.data.formats import Utterance
from speechsynth.train.tacotron2 import Tacotron2Task

TINY_TACOTRON2 = [
    "model.symbols_embedding_dim=32",
    "model.encoder_embedding_dim=32",
    "model.attention_rnn_dim=64",
    "model.decoder_rnn_dim=64",
    "model.prenet_dim=32",
    "model.postnet_embedding_dim=32",
    "model.attention_dim=32",
    "model.mask_padding=true",
    "train.num_workers=0",
    "train.batch_size=2",
]

# Two texts of equal length, so that padding cannot make a combined batch differ from its halves.
EQUAL_TEXTS = ("in being comparatively modern.", "printing is a very modern art.")
EQUAL_SAMPLES = 22050  # both clips cropped to 1 s -> 87 mel frames each


def write_dataset(utterances: list[Utterance], directory: Path) -> Path:
    """An LJSpeech-layout directory holding copies of `utterances`."""
    (directory / "wavs").mkdir(parents=True)
    lines = []
    for utterance in utterances:
        audio, rate = soundfile.read(utterance.audio_path, dtype="int16")
        soundfile.write(directory / "wavs" / f"{utterance.utterance_id}.wav", audio, rate)
        lines.append(f"{utterance.utterance_id}|{utterance.text}|{utterance.text}")
    (directory / "metadata.csv").write_text("\n".join(lines) + "\n")
    return directory


def iteration_records(run_dir: Path) -> list[dict]:
    """The per-step records of a run's train_log.jsonl."""
    lines = (run_dir / "train_log.jsonl").read_text().splitlines()
    return [record for line in lines if (record := json.loads(line))["event"] == "iteration"]


def state_dicts_equal(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(
        np.array_equal(first[key].numpy(), second[key].numpy()) for key in first
    )


class DeterministicTacotron2Task(Tacotron2Task):
    """Runs the forward pass in eval mode (no dropout, BatchNorm on running statistics) with
    the prenet dropout off, so equal data must give equal gradients however it is batched."""

    def compute_loss(self, model, batch):
        model.eval()
        return super().compute_loss(model, batch)


DETERMINISTIC = ["model.prenet_dropout_at_inference=false"]
