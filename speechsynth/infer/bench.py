"""Inference benchmarks. Tacotron 2: time per decoder step, end-to-end latency, mel frames/s.
Vocoders (WaveGlow): latency of vocoding a random mel, audio samples/s, real-time factor.

Tacotron 2: each repeat synthesises a batch of random texts for exactly `steps` decoder steps
(the gate is ignored, so every run does the same work, as NVIDIA's latency tests with their
fixed-length inputs roughly do), with the prenet dropout on, as NVIDIA's inference. The
decoder's share of each run is timed between the encoder's end and the postnet's start (module
hooks), so "ms per step" excludes the encoder and the postnet, and "latency" includes them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.precision import model_dtype, prepare_for_inference
from speechsynth.infer.vocoders import Vocoder
from speechsynth.models.overrides import config_overridden
from speechsynth.models.tacotron2 import Tacotron2

WARMUP_STEPS = 20


@dataclass(frozen=True)
class LatencyStats:
    """Seconds over repeats: mean, standard deviation and the 90/95/99th percentiles
    (NVIDIA's "latency confidence intervals")."""

    mean: float
    std: float
    p90: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples: list[float]) -> LatencyStats:
        values = np.asarray(samples, dtype=np.float64)
        p90, p95, p99 = np.percentile(values, [90, 95, 99])
        return cls(float(values.mean()), float(values.std()), float(p90), float(p95), float(p99))


@dataclass(frozen=True)
class InferenceBenchResult:
    precision: str
    batch_size: int
    text_length: int
    decoder_steps: int
    repeats: int
    threads: int
    ms_per_step_mean: float
    ms_per_step_std: float
    latency: LatencyStats  # a whole `infer` call: encoder + decoder + postnet
    mel_frames_per_s: float  # batch_size * decoder_steps / mean latency
    mel_relative_error: float | None  # RMS(mel - fp32 mel) / RMS(fp32 mel); None for fp32

    def to_dict(self) -> dict:
        return asdict(self)


class DecoderTimer:
    """Times the stretch of a Tacotron 2 call between the encoder's end and the postnet's start."""

    def __init__(self, model: Tacotron2):
        self.encoded_at = self.postnet_at = 0.0
        self._handles = [
            model.encoder.register_forward_hook(self._on_encoded),
            model.postnet.register_forward_pre_hook(self._on_postnet),
        ]

    def _on_encoded(self, *_: object) -> None:
        self.encoded_at = time.perf_counter()

    def _on_postnet(self, *_: object) -> None:
        self.postnet_at = time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.postnet_at - self.encoded_at

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def relative_rms_error(actual: Tensor, expected: Tensor) -> float:
    """RMS(actual - expected) / RMS(expected): how far a lower precision strays from fp32."""
    return float((actual - expected).pow(2).mean().sqrt() / expected.pow(2).mean().sqrt())


def random_text(batch_size: int, text_length: int, n_symbols: int, seed: int) -> Tensor:
    """[batch_size, text_length] symbol ids, none of them the pad symbol 0."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(1, n_symbols, (batch_size, text_length), generator=generator)


def fixed_prenet_masks(seed: int, keep_probability: float):
    """A prenet mask provider that gives the same masks to every model it is passed to."""

    def keep_mask(step: int, layer: int, shape: torch.Size) -> Tensor:
        generator = torch.Generator().manual_seed(seed + 1000 * layer + step)
        return torch.rand(shape, generator=generator) < keep_probability

    return keep_mask


def mel_relative_error(
    reference: Tacotron2, candidate: Tacotron2, text: Tensor, frames: int, seed: int
) -> float:
    """How far `candidate`'s teacher-forced postnet mel is from `reference`'s (relative RMS),
    with the same random target mel and the same prenet dropout masks."""
    generator = torch.Generator().manual_seed(seed)
    mels = torch.randn(text.size(0), reference.config.n_mel_channels, frames, generator=generator)
    lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long)
    masks = fixed_prenet_masks(seed, 1.0 - reference.config.prenet_dropout)
    with torch.inference_mode():
        expected = reference(text, lengths, mels, prenet_masks=masks).mel_outputs_postnet
        actual = candidate(
            text, lengths, mels.to(model_dtype(candidate)), prenet_masks=masks
        ).mel_outputs_postnet.float()
    return relative_rms_error(actual, expected)


def _timed_infer(
    model: Tacotron2, text: Tensor, steps: int, generator: torch.Generator
) -> tuple[float, float]:
    """One forced-length synthesis -> (total seconds, decoder seconds)."""
    lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long)
    timer = DecoderTimer(model)
    try:
        with torch.inference_mode(), config_overridden(model, decoder_no_early_stopping=True):
            started = time.perf_counter()
            model.infer(text, lengths, max_decoder_steps=steps, generator=generator)
            total = time.perf_counter() - started
    finally:
        timer.remove()
    return total, timer.seconds


def bench_tacotron2_inference(
    model: Tacotron2,
    *,
    precision: str = "fp32",
    steps: int = 600,
    batch_size: int = 1,
    text_length: int = 128,
    repeats: int = 3,
    accuracy_frames: int = 50,
    seed: int = 0,
) -> InferenceBenchResult:
    """Time `repeats` syntheses of `steps` decoder steps each by `model` (fp32) at `precision`.

    `accuracy_frames` > 0 also compares a teacher-forced pass of that many frames with the
    fp32 model (for precisions other than fp32).
    """
    fast = prepare_for_inference(model, precision)
    text = random_text(batch_size, text_length, model.config.n_symbols, seed)
    generator = torch.Generator().manual_seed(seed)
    result = bench_decoder_runs(
        lambda text, steps: _timed_infer(fast, text, steps, generator),
        text,
        precision=precision,
        steps=steps,
        repeats=repeats,
    )
    if precision != "fp32" and accuracy_frames > 0:
        error = mel_relative_error(model, fast, text, accuracy_frames, seed)
        result = dataclasses.replace(result, mel_relative_error=error)
    return result


# (text [B, T_in], decoder steps) -> (seconds of the whole call, seconds of its decoder loop)
TimedRun = Callable[[Tensor, int], tuple[float, float]]


def bench_decoder_runs(
    timed_run: TimedRun, text: Tensor, *, precision: str, steps: int, repeats: int
) -> InferenceBenchResult:
    """A short warm-up, then `repeats` forced-length runs of `timed_run` -> the statistics.
    Any Tacotron 2 runtime (PyTorch at some precision, ONNX Runtime) is timed the same way."""
    batch_size, text_length = text.shape
    if min(steps, batch_size, text_length, repeats) < 1:
        raise SpeechSynthError("steps, batch size, text length and repeats must be at least 1")
    timed_run(text, min(steps, WARMUP_STEPS))
    runs = [timed_run(text, steps) for _ in range(repeats)]
    ms_per_step = np.asarray([decoder / steps * 1e3 for _, decoder in runs])
    latency = LatencyStats.of([total for total, _ in runs])
    return InferenceBenchResult(
        precision=precision,
        batch_size=batch_size,
        text_length=text_length,
        decoder_steps=steps,
        repeats=repeats,
        threads=torch.get_num_threads(),
        ms_per_step_mean=float(ms_per_step.mean()),
        ms_per_step_std=float(ms_per_step.std()),
        latency=latency,
        mel_frames_per_s=batch_size * steps / latency.mean,
        mel_relative_error=None,
    )


# ----------------------------------------------------------------------------- WaveGlow


@dataclass(frozen=True)
class VocoderBenchResult:
    precision: str
    batch_size: int
    mel_frames: int
    samples: int  # audio samples per utterance (hop_length * mel_frames)
    repeats: int
    threads: int
    latency: LatencyStats  # a whole `vocode` call (chunks, denoiser)
    samples_per_s: float  # batch_size * samples / mean latency
    real_time_factor: float  # seconds of audio per second of compute (NVIDIA's RTF; > 1 is faster)
    audio_relative_error: float | None  # RMS(audio - fp32 audio) / RMS(fp32 audio); None for fp32

    def to_dict(self) -> dict:
        return asdict(self)


def random_log_mel(batch_size: int, frames: int, n_mels: int, seed: int) -> Tensor:
    """Speech-like log-mels: values in [-9, -1] (between silence at -11.5 and loud speech)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch_size, n_mels, frames, generator=generator) * 8 - 9


def _timed_vocode(vocoder: Vocoder, mels: Tensor) -> tuple[float, Tensor]:
    with torch.inference_mode():
        started = time.perf_counter()
        audio = vocoder.vocode(mels)
        return time.perf_counter() - started, audio


def bench_vocoder(
    vocoder: Vocoder,
    *,
    mel_frames: int = 600,
    batch_size: int = 1,
    repeats: int = 3,
    reference_audio: Tensor | None = None,
    seed: int = 0,
) -> tuple[VocoderBenchResult, Tensor]:
    """Time `repeats` vocodings (after one shorter warm-up) of `batch_size` random log-mels of
    `mel_frames` frames -> (result, the last run's audio). `reference_audio` (what the fp32
    model made of the same mels and noise) gives the audio error of a lower precision."""
    if min(mel_frames, batch_size, repeats) < 1:
        raise SpeechSynthError("mel frames, batch size and repeats must be at least 1")
    mels = random_log_mel(batch_size, mel_frames, vocoder.mel_config.n_mel_channels, seed)
    _timed_vocode(vocoder, mels[:, :, : min(mel_frames, WARMUP_STEPS)])
    runs = [_timed_vocode(vocoder, mels) for _ in range(repeats)]
    latency = LatencyStats.of([seconds for seconds, _ in runs])
    samples = mel_frames * vocoder.hop_length
    samples_per_s = batch_size * samples / latency.mean
    audio = runs[-1][1]
    error = None
    if reference_audio is not None:
        error = relative_rms_error(audio.float(), reference_audio)
    result = VocoderBenchResult(
        precision=getattr(vocoder, "precision", "fp32"),
        batch_size=batch_size,
        mel_frames=mel_frames,
        samples=samples,
        repeats=repeats,
        threads=torch.get_num_threads(),
        latency=latency,
        samples_per_s=samples_per_s,
        real_time_factor=samples_per_s / vocoder.sampling_rate,
        audio_relative_error=error,
    )
    return result, audio


# ----------------------------------------------------------------------- FastPitch, FastSpeech


@dataclass(frozen=True)
class ParallelBenchResult:
    precision: str
    batch_size: int
    text_length: int
    mel_frames: int  # per utterance (durations forced to add up to it)
    repeats: int
    threads: int
    latency: LatencyStats  # a whole `infer` call
    mel_frames_per_s: float  # batch_size * mel_frames / mean latency
    mel_relative_error: float | None  # RMS(mel - fp32 mel) / RMS(fp32 mel); None for fp32

    def to_dict(self) -> dict:
        return asdict(self)


def forced_durations(batch_size: int, text_length: int, mel_frames: int) -> Tensor:
    """[batch_size, text_length] int64 durations as even as possible, each row summing to
    `mel_frames` (600 frames over 128 symbols: 88 symbols of 5 frames and 40 of 4)."""
    base, extra = divmod(mel_frames, text_length)
    row = torch.full((text_length,), base, dtype=torch.long)
    row[:extra] += 1
    return row.expand(batch_size, -1).clone()


def _timed_parallel_infer(
    model: torch.nn.Module, text: Tensor, durations: Tensor
) -> tuple[float, Tensor]:
    lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long)
    with torch.inference_mode():
        started = time.perf_counter()
        output = model.infer(text, lengths, durations=durations)
        return time.perf_counter() - started, output.mels


def bench_parallel_inference(
    model: torch.nn.Module,
    *,
    precision: str = "fp32",
    mel_frames: int = 600,
    batch_size: int = 1,
    text_length: int = 128,
    repeats: int = 10,
    seed: int = 0,
) -> ParallelBenchResult:
    """Time `repeats` `infer` calls of FastPitch or FastSpeech (`model`, fp32) at `precision`
    on random texts whose durations are forced to add up to `mel_frames` (NVIDIA's protocol:
    the same work every run whatever the weights predict)."""
    if min(mel_frames, batch_size, text_length, repeats) < 1:
        raise SpeechSynthError("mel frames, batch size, text length and repeats must be >= 1")
    fast = prepare_for_inference(model, precision)
    text = random_text(batch_size, text_length, model.config.n_symbols, seed)
    durations = forced_durations(batch_size, text_length, mel_frames)
    _timed_parallel_infer(fast, text, durations)  # warm-up
    runs = [_timed_parallel_infer(fast, text, durations) for _ in range(repeats)]
    latency = LatencyStats.of([seconds for seconds, _ in runs])
    error = None
    if precision != "fp32":
        expected = _timed_parallel_infer(model, text, durations)[1]
        actual = runs[-1][1].float()
        error = relative_rms_error(actual, expected)
    return ParallelBenchResult(
        precision=precision,
        batch_size=batch_size,
        text_length=text_length,
        mel_frames=mel_frames,
        repeats=repeats,
        threads=torch.get_num_threads(),
        latency=latency,
        mel_frames_per_s=batch_size * mel_frames / latency.mean,
        mel_relative_error=error,
    )
