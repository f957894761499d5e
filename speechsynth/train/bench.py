"""Training-step benchmarks: seconds per step and mel frames per second.

One step is what the trainer does per batch, on random mels and texts of fixed sizes (NVIDIA
reports training speed in mel frames per second). Tacotron 2: teacher-forced forward, NVIDIA's
loss, backward, clipping at 1.0 and an Adam step (lr 1e-3, weight decay 1e-6). FastPitch: see
`bench_fastpitch_training`. WaveGlow (`waveglow_subject`, audio samples): the flow's NLL on
random mels and audio segments, Adam (lr 1e-4), no clipping.

The pieces are shared with the multi-process benchmark (`train.scaling`): a `TrainingSubject`
(random batch, loss, optimizer, clipping) per model in `TRAINING_SUBJECTS`, and `training_step`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from speechsynth.audio.pitch import frame_energy
from speechsynth.data.audio_mel import AudioMelBatch
from speechsynth.data.text_mel import TextMelBatch
from speechsynth.data.text_mel_pitch import FastPitchBatch, TextMelDurationBatch, cached_prior
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.bench import (
    bench_model,
    forced_durations,
    random_log_mel,
    random_text,
    set_threads,
)
from speechsynth.models.tacotron2 import Tacotron2
from speechsynth.train.fastpitch import FASTPITCH_RECIPE, FastPitchTask
from speechsynth.train.fastspeech import FASTSPEECH_RECIPE, FastSpeechTask
from speechsynth.train.optimizers import build_optimizer
from speechsynth.train.tacotron2 import forward_with_loss
from speechsynth.train.waveglow import WaveGlowTask


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


def mixed_precision(device: torch.device, enabled: bool) -> torch.autocast:
    """The trainer's --amp: fp16 autocast on CUDA (with a GradScaler), bf16 autocast on CPU."""
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype, enabled=enabled)


def training_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[nn.Module], Tensor],
    clip: float = 1.0,
    amp: bool = False,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """One optimizer step as the trainer takes it; `scaler`: fp16 loss scaling (CUDA --amp)."""
    optimizer.zero_grad(set_to_none=True)
    with mixed_precision(next(model.parameters()).device, amp):
        loss = loss_fn(model)
    if scaler is None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    scaler.step(optimizer)
    scaler.update()


def _time_training(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[nn.Module], Tensor],
    clip: float,
    steps: int,
    warmup_steps: int,
    amp: bool = False,
) -> list[float]:
    for _ in range(warmup_steps):
        training_step(model, optimizer, loss_fn, clip, amp)
    seconds = []
    for _ in range(steps):
        started = time.perf_counter()
        training_step(model, optimizer, loss_fn, clip, amp)
        seconds.append(time.perf_counter() - started)
    return seconds


def _result(batch_size, mel_frames, text_length, seconds: list[float]) -> TrainingBenchResult:
    mean = float(np.mean(seconds))
    return TrainingBenchResult(
        batch_size=batch_size,
        mel_frames=mel_frames,
        text_length=text_length,
        steps=len(seconds),
        threads=torch.get_num_threads(),
        seconds_per_step_mean=mean,
        seconds_per_step_std=float(np.std(seconds)),
        mel_frames_per_s=batch_size * mel_frames / mean,
    )


class TrainingSubject(NamedTuple):
    """What `training_step` needs to train one model on one random batch."""

    loss_fn: Callable[[nn.Module], Tensor]  # (the model or its DDP wrapper) -> the loss
    optimizer: torch.optim.Optimizer
    clip: float  # the gradient-norm clipping threshold
    items: int  # mel frames (WaveGlow: audio samples) in the batch


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_sizes(*sizes: int) -> None:
    if min(sizes) < 1:
        raise SpeechSynthError("batch size, mel frames, text length and steps must be at least 1")


def tacotron2_subject(
    model: nn.Module, batch_size: int, mel_frames: int, text_length: int, seed: int
) -> TrainingSubject:
    """Tacotron 2, teacher-forced on random mels: NVIDIA's loss, clipping at 1.0 and Adam
    (lr 1e-3, weight decay 1e-6)."""
    config = model.config
    batch = _random_batch(
        batch_size, mel_frames, text_length, config.n_mel_channels, config.n_symbols, seed
    ).to(_device_of(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)

    def loss_fn(trainee: nn.Module) -> Tensor:
        return forward_with_loss(trainee, batch)[1][0]

    return TrainingSubject(loss_fn, optimizer, 1.0, batch_size * mel_frames)


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
    _check_sizes(batch_size, mel_frames, text_length, steps)
    trainee = copy.deepcopy(model).train()
    subject = tacotron2_subject(trainee, batch_size, mel_frames, text_length, seed)
    seconds = _time_training(
        trainee, subject.optimizer, subject.loss_fn, subject.clip, steps, warmup_steps
    )
    return _result(batch_size, mel_frames, text_length, seconds)


def random_fastpitch_batch(
    config, batch_size: int, mel_frames: int, text_length: int, seed: int
) -> FastPitchBatch:
    """Random symbols, speech-like log-mels and pitch; with the model's duration source
    (aligner: beta-binomial priors; teacher: even durations adding up to `mel_frames`)."""
    generator = torch.Generator().manual_seed(seed)
    mels = random_log_mel(batch_size, mel_frames, config.n_mel_channels, seed)
    teacher = not config.learned_aligner
    shape = (batch_size, text_length) if teacher else (batch_size, 1, mel_frames)
    return FastPitchBatch(
        utterance_ids=[f"random{index}" for index in range(batch_size)],
        text=random_text(batch_size, text_length, config.n_symbols, seed),
        text_lengths=torch.full((batch_size,), text_length, dtype=torch.long),
        mels=mels,
        mel_lengths=torch.full((batch_size,), mel_frames, dtype=torch.long),
        pitch=torch.randn(shape, generator=generator),
        energy=frame_energy(mels),
        durations=forced_durations(batch_size, text_length, mel_frames) if teacher else None,
        attn_prior=None
        if teacher
        else cached_prior(text_length, mel_frames).expand(batch_size, -1, -1).clone(),
    )


def _task_subject(
    task: Any, model: nn.Module, batch: Any, recipe: dict, items: int
) -> TrainingSubject:
    """`task`'s loss on `batch`, with the optimizer, betas, eps, weight decay and clipping of
    the model's recipe (`recipe`: its `train` section)."""
    optimizer = build_optimizer(
        recipe.get("optimizer", "adam"),
        model.parameters(),
        1e-3,
        tuple(recipe["betas"]),
        recipe["eps"],
        recipe["weight_decay"],
    )

    def loss_fn(trainee: nn.Module) -> Tensor:
        return task.compute_loss(trainee, batch)[0]

    return TrainingSubject(loss_fn, optimizer, recipe["grad_clip_thresh"], items)


def fastpitch_subject(
    model: nn.Module, batch_size: int, mel_frames: int, text_length: int, seed: int
) -> TrainingSubject:
    """FastPitch with NVIDIA's recipe: its loss (with the learned aligner and its alignment
    search when the model has one), clipping at 1000 and a LAMB step."""
    batch = random_fastpitch_batch(model.config, batch_size, mel_frames, text_length, seed)
    return _task_subject(
        FastPitchTask(),
        model,
        batch.to(_device_of(model)),
        FASTPITCH_RECIPE["train"],
        batch_size * mel_frames,
    )


def fastspeech_subject(
    model: nn.Module, batch_size: int, mel_frames: int, text_length: int, seed: int
) -> TrainingSubject:
    """FastSpeech with NVIDIA's recipe: teacher durations (even ones adding up to
    `mel_frames`), its loss, the gradient norm (no clipping: NVIDIA clips none) and Adam."""
    config = model.config
    batch = TextMelDurationBatch(
        utterance_ids=[f"random{index}" for index in range(batch_size)],
        text=random_text(batch_size, text_length, config.n_symbols, seed),
        text_lengths=torch.full((batch_size,), text_length, dtype=torch.long),
        mels=random_log_mel(batch_size, mel_frames, config.n_mels, seed),
        mel_lengths=torch.full((batch_size,), mel_frames, dtype=torch.long),
        durations=forced_durations(batch_size, text_length, mel_frames),
    ).to(_device_of(model))
    return _task_subject(
        FastSpeechTask(), model, batch, FASTSPEECH_RECIPE["train"], batch_size * mel_frames
    )


def waveglow_subject(
    model: nn.Module, batch_size: int, segment_length: int, text_length: int, seed: int
) -> TrainingSubject:
    """WaveGlow with NVIDIA's recipe on random audio segments of `segment_length` samples and
    speech-like log-mels covering them: the flow's NLL, Adam (lr 1e-4, no weight decay) and no
    clipping (NVIDIA's threshold is float32's max). `text_length` is unused (no text)."""
    if segment_length < model.config.n_group:
        raise SpeechSynthError(
            f"WaveGlow trains on segments of at least {model.config.n_group} audio samples, "
            f"got {segment_length}"
        )
    generator = torch.Generator().manual_seed(seed)
    hop_length = model.upsample.stride[0]
    frames = 1 + segment_length // hop_length  # as AudioMelDataset cuts them
    batch = AudioMelBatch(
        mels=random_log_mel(batch_size, frames, model.config.n_mel_channels, seed),
        audio=torch.rand(batch_size, segment_length, generator=generator) - 0.5,
    ).to(_device_of(model))
    recipe = WaveGlowTask.default_overrides["train"]
    optimizer = torch.optim.Adam(
        model.parameters(), lr=recipe["learning_rate"], weight_decay=recipe["weight_decay"]
    )
    task = WaveGlowTask()

    def loss_fn(trainee: nn.Module) -> Tensor:
        return task.compute_loss(trainee, batch)[0]

    return TrainingSubject(loss_fn, optimizer, recipe["grad_clip_thresh"], batch.n_samples)


# (model, batch size, mel frames or audio samples per utterance, text length, seed) -> subject
TRAINING_SUBJECTS: dict[str, Callable[[nn.Module, int, int, int, int], TrainingSubject]] = {
    "tacotron2": tacotron2_subject,
    "fastpitch": fastpitch_subject,
    "fastspeech": fastspeech_subject,
    "waveglow": waveglow_subject,
}


def _bench_subject(
    subject: TrainingSubject, trainee: nn.Module, steps: int, warmup_steps: int, amp: bool
) -> list[float]:
    return _time_training(
        trainee, subject.optimizer, subject.loss_fn, subject.clip, steps, warmup_steps, amp
    )


def bench_fastpitch_training(
    model: nn.Module,
    *,
    batch_size: int = 4,
    mel_frames: int = 600,
    text_length: int = 128,
    steps: int = 3,
    warmup_steps: int = 1,
    seed: int = 0,
    amp: bool = False,
) -> TrainingBenchResult:
    """Time FastPitch training steps as the trainer takes them with NVIDIA's recipe
    (`fastpitch_subject`) on a copy of `model`; `amp`: bf16 autocast (the trainer's --amp on
    CPU)."""
    _check_sizes(batch_size, mel_frames, text_length, steps)
    trainee = copy.deepcopy(model).train()
    subject = fastpitch_subject(trainee, batch_size, mel_frames, text_length, seed)
    seconds = _bench_subject(subject, trainee, steps, warmup_steps, amp)
    return _result(batch_size, mel_frames, text_length, seconds)


def bench_fastspeech_training(
    model: nn.Module,
    *,
    batch_size: int = 4,
    mel_frames: int = 600,
    text_length: int = 128,
    steps: int = 3,
    warmup_steps: int = 1,
    seed: int = 0,
    amp: bool = False,
) -> TrainingBenchResult:
    """Time FastSpeech training steps as the trainer takes them with NVIDIA's recipe
    (`fastspeech_subject`) on a copy of `model`."""
    _check_sizes(batch_size, mel_frames, text_length, steps)
    trainee = copy.deepcopy(model).train()
    subject = fastspeech_subject(trainee, batch_size, mel_frames, text_length, seed)
    seconds = _bench_subject(subject, trainee, steps, warmup_steps, amp)
    return _result(batch_size, mel_frames, text_length, seconds)


class TrainingBenchmark(NamedTuple):
    run: Callable[..., TrainingBenchResult]  # (model, *, batch_size, mel_frames, ...) -> result
    default_frames: int  # mel frames per utterance when none are asked for
    takes_amp: bool  # whether it can time steps under bf16 autocast


TRAINING_BENCHMARKS: dict[str, TrainingBenchmark] = {
    "tacotron2": TrainingBenchmark(bench_tacotron2_training, 400, False),
    "fastpitch": TrainingBenchmark(bench_fastpitch_training, 600, True),
    "fastspeech": TrainingBenchmark(bench_fastspeech_training, 600, True),
}


def training_report(
    name: str,
    checkpoint: Path | None = None,
    *,
    steps: int = 3,
    batch_size: int = 4,
    mel_frames: int | None = None,
    text_length: int = 128,
    amp: bool = False,
    seed: int = 0,
    threads: int | None = None,
) -> dict | None:
    """`speechsynth bench`'s training part for model `name` (random weights from `seed`, or
    `checkpoint`'s) as a plain dict; None when `steps` is 0 or the model has no training
    benchmark (WaveGlow)."""
    if steps < 1 or name not in TRAINING_BENCHMARKS:
        return None
    set_threads(threads)
    benchmark = TRAINING_BENCHMARKS[name]
    loaded, _ = bench_model(name, checkpoint, seed)
    amp = amp and benchmark.takes_amp
    result = benchmark.run(
        loaded.model,
        batch_size=batch_size,
        mel_frames=mel_frames or benchmark.default_frames,
        text_length=text_length,
        steps=steps,
        seed=seed,
        **({"amp": True} if amp else {}),
    )
    return {**result.to_dict(), "amp": amp}
