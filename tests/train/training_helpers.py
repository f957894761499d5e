"""Shared pieces of the trainer tests: a tiny Tacotron 2 config and dataset helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile
import torch

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


def assert_same_first_adam_step(
    first: tuple[dict, dict], second: tuple[dict, dict], learning_rate: float
) -> None:
    """Two runs of one Adam step, each given as (model state_dict, optimizer state_dict), took the
    same step: equal gradients (Adam's first moment, 0.1 g, to float32 summation order) and
    weights within 1 % of the learning rate. (Not weights within 1e-6: Adam's first update is
    lr * g / (|g| + eps), so a gradient near eps turns float32 rounding of the sum into update
    differences of ~1e-6 on some CPUs; a gradient of the wrong sign would still be off by 2 lr.)"""
    (weights_a, optimizer_a), (weights_b, optimizer_b) = first, second
    moments_a, moments_b = optimizer_a["state"], optimizer_b["state"]
    assert moments_a.keys() == moments_b.keys() and moments_a
    for index, moments in moments_a.items():
        expected = moments["exp_avg"]
        tolerance = 1e-5 * float(expected.abs().max()) + 1e-12
        torch.testing.assert_close(
            moments_b[index]["exp_avg"], expected, atol=tolerance, rtol=1e-4, msg=f"grad {index}"
        )
    for name, value in weights_a.items():
        torch.testing.assert_close(
            weights_b[name], value, atol=0.01 * learning_rate, rtol=1e-5, msg=name
        )


class DeterministicTacotron2Task(Tacotron2Task):
    """Runs the forward pass in eval mode (no dropout, BatchNorm on running statistics) with
    the prenet dropout off, so equal data must give equal gradients however it is batched."""

    def compute_loss(self, model, batch):
        model.eval()
        return super().compute_loss(model, batch)


DETERMINISTIC = ["model.prenet_dropout_at_inference=false"]
