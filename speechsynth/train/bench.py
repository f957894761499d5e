"""Tacotron 2 training-step benchmark: seconds per step and mel frames per second.

One step is what the trainer does per batch: teacher-forced forward, NVIDIA's loss, backward,
gradient clipping (1.0) and an Adam step (lr 1e-3, weight decay 1e-6), on random mels and texts
of fixed sizes (NVIDIA reports Tacotron 2 training speed in mel frames per second).
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from speechsynth.data.text_mel import TextMelBatch
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.bench import random_text
from speechsynth.models.tacotron2 import Tacotron2
from speechsynth.train.tacotron2 import forward_with_loss


@dataclass(frozen=True)
class TrainingBenchResult:
    batch_size: int
    mel_frames: int  # per utterance
    text_length: int
    steps: int
    threads: int
    seconds_per_step_mean: float
    seconds_per_step_std: float
    mel_frames_per_s: float  # batch_size * mel_frames / mean seconds per step

    def to_dict(self) -> dict:
        return asdict(self)


def _random_batch(
    batch_size: int, mel_frames: int, text_length: int, n_mels: int, n_symbols: int, seed: int
) -> TextMelBatch:
    generator = torch.Generator().manual_seed(seed)
    mels = torch.randn(batch_size, n_mels, mel_frames, generator=generator)
    gate_targets = torch.zeros(batch_size, mel_frames)
    gate_targets[:, -1] = 1.0
    return TextMelBatch(
        utterance_ids=[f"random{index}" for index in range(batch_size)],
        text=random_text(batch_size, text_length, n_symbols, seed),
        text_lengths=torch.full((batch_size,), text_length, dtype=torch.long),
        mels=mels,
        mel_lengths=torch.full((batch_size,), mel_frames, dtype=torch.long),
        gate_targets=gate_targets,
    )


def _training_step(model: Tacotron2, optimizer: torch.optim.Optimizer, batch: TextMelBatch):
    optimizer.zero_grad(set_to_none=True)
    _, (loss, _, _) = forward_with_loss(model, batch)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def bench_tacotron2_training(
    model: Tacotron2,
    *,
    batch_size: int = 4,
    mel_frames: int = 400,
    text_length: int = 128,
    steps: int = 3,
    warmup_steps: int = 1,
    seed: int = 0,
) -> TrainingBenchResult:
    """Time `steps` training steps (after `warmup_steps` untimed ones) on a copy of `model`;
    the model itself is left untouched."""
    if min(batch_size, mel_frames, text_length, steps) < 1:
        raise SpeechSynthError("batch size, mel frames, text length and steps must be at least 1")
    trainee = copy.deepcopy(model).train()
    config = trainee.config
    batch = _random_batch(
        batch_size, mel_frames, text_length, config.n_mel_channels, config.n_symbols, seed
    )
    optimizer = torch.optim.Adam(trainee.parameters(), lr=1e-3, weight_decay=1e-6)
    for _ in range(warmup_steps):
        _training_step(trainee, optimizer, batch)
    seconds = []
    for _ in range(steps):
        started = time.perf_counter()
        _training_step(trainee, optimizer, batch)
        seconds.append(time.perf_counter() - started)
    mean = float(np.mean(seconds))
    return TrainingBenchResult(
        batch_size=batch_size,
        mel_frames=mel_frames,
        text_length=text_length,
        steps=steps,
        threads=torch.get_num_threads(),
        seconds_per_step_mean=mean,
        seconds_per_step_std=float(np.std(seconds)),
        mel_frames_per_s=batch_size * mel_frames / mean,
    )
