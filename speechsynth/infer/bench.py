"""Inference benchmarks. Tacotron 2: time per decoder step, end-to-end latency, mel frames/s.
Vocoders (WaveGlow): latency of vocoding a random mel, audio samples/s, real-time factor.
FastPitch / FastSpeech: latency of a whole call and mel frames/s, with durations forced (one
PyTorch model) or predicted (any `AcousticModel`: PyTorch and ONNX Runtime side by side).
The models benchmarked are built here too (`bench_model`: random weights or a checkpoint), so
the inference (`evaluate.speed`) and training (`train.bench`) benchmarks time the same model.

Tacotron 2: each repeat synthesises a batch of random texts for exactly `steps` decoder steps
(the gate is ignored, so every run does the same work, as NVIDIA's latency tests with their
fixed-length inputs roughly do), with the prenet dropout on, as NVIDIA's inference. The
decoder's share of each run is timed between the encoder's end and the postnet's start (module
hooks), so "ms per step" excludes the encoder and the postnet, and "latency" includes them.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, AcousticOutput, Controls
from speechsynth.infer.latency import LatencyStats
from speechsynth.infer.precision import model_dtype, prepare_for_inference
from speechsynth.infer.vocoder_interface import Vocoder
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import LoadedModel, get_spec, load_model
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config
from speechsynth.models.text_setup import NVIDIA_CLEANERS
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig

WARMUP_STEPS = 20


def set_threads(threads: int | None) -> int:
    """torch's intra-op threads set to `threads` (None: torch's default, one per core) -> the
    number in use."""
    if threads is not None:
        if threads < 1:
            raise SpeechSynthError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


# ------------------------------------------------------------------------ what is measured


@dataclass(frozen=True)
class SubjectSize:
    """What shapes a random model: WaveGlow's WN channels; FastPitch / FastSpeech's predicted
    durations (`text_length` symbols lasting `mel_frames` frames in all)."""

    channels: int | None = None
    text_length: int = 128
    mel_frames: int = 600


def bench_model(
    name: str, checkpoint: Path | None, seed: int, size: SubjectSize | None = None
) -> tuple[LoadedModel, str]:
    """The model to time: `checkpoint`'s, else random weights from `seed` in the default
    config -> (the model, a description of its weights)."""
    if checkpoint is not None:
        return load_model(checkpoint, expected_name=name), str(checkpoint)
    if name not in RANDOM_MODELS:
        raise SpeechSynthError(f"no benchmark for {name!r}; choose {', '.join(RANDOM_MODELS)}")
    torch.manual_seed(seed)
    model, weights = RANDOM_MODELS[name](size or SubjectSize())
    source = Path(f"random-{name}")
    loaded = LoadedModel(name, model.config, model.eval(), source, "speechsynth", NVIDIA_CLEANERS)
    return loaded, weights


def _random_tacotron2(size: SubjectSize) -> tuple[nn.Module, str]:
    return Tacotron2(Tacotron2Config()), "random (default config)"


def _random_waveglow(size: SubjectSize) -> tuple[nn.Module, str]:
    """The coupling's zero-initialised end layers drawn from N(0, 0.02): every flow works."""
    model = WaveGlow(WaveGlowConfig(WN_config={"n_channels": size.channels or 512}))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0.0, 0.02)
    return model, "random (default config, end layers N(0, 0.02))"


def _random_parallel(name: str) -> Callable[[SubjectSize], tuple[nn.Module, str]]:
    def build(size: SubjectSize) -> tuple[nn.Module, str]:
        spec = get_spec(name)
        model = spec.build(spec.make_config())
        frames = size.mel_frames / max(size.text_length, 1)
        predict_even_durations(model, frames)
        return model, f"random (default config, predicted durations {frames:.2f} frames/symbol)"

    return build


def predict_even_durations(model: nn.Module, frames_per_symbol: float) -> None:
    """Make a random FastPitch / FastSpeech predict `frames_per_symbol` frames for every symbol
    (both predict log(1 + frames)): the duration predictor's output weights zeroed, its bias
    log(1 + frames_per_symbol). Random weights otherwise predict about one frame per symbol."""
    output_layer = model.duration_predictor.fc
    with torch.no_grad():
        output_layer.weight.zero_()
        output_layer.bias.fill_(math.log1p(frames_per_symbol))


def _random_hifigan(size: SubjectSize) -> tuple[nn.Module, str]:
    """NVIDIA's V1 generator (its default config), weight norm in place as a checkpoint has it."""
    spec = get_spec("hifigan")
    return spec.build(spec.make_config()), "random (V1 config)"


RANDOM_MODELS: dict[str, Callable[[SubjectSize], tuple[nn.Module, str]]] = {
    "tacotron2": _random_tacotron2,
    "waveglow": _random_waveglow,
    "hifigan": _random_hifigan,
    "fastpitch": _random_parallel("fastpitch"),
    "fastspeech": _random_parallel("fastspeech"),
}


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


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


def _timed_vocode(vocoder: Vocoder, mels: np.ndarray) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    audio = vocoder.vocode(mels)
    return time.perf_counter() - started, audio


def bench_vocoder(
    vocoder: Vocoder,
    *,
    mel_frames: int = 600,
    batch_size: int = 1,
    repeats: int = 3,
    reference_audio: np.ndarray | None = None,
    seed: int = 0,
    precision: str | None = None,
) -> tuple[VocoderBenchResult, np.ndarray]:
    """Time `repeats` vocodings (after one shorter warm-up) of `batch_size` random log-mels of
    `mel_frames` frames -> (result, the last run's audio). `reference_audio` (what the fp32
    model made of the same mels and noise) gives the audio error of a lower precision.
    `precision` labels the result (default: the vocoder's own precision, else fp32)."""
    if min(mel_frames, batch_size, repeats) < 1:
        raise SpeechSynthError("mel frames, batch size and repeats must be at least 1")
    mels = random_log_mel(batch_size, mel_frames, vocoder.mel_config.n_mel_channels, seed).numpy()
    _timed_vocode(vocoder, mels[:, :, : min(mel_frames, WARMUP_STEPS)])
    runs = [_timed_vocode(vocoder, mels) for _ in range(repeats)]
    latency = LatencyStats.of([seconds for seconds, _ in runs])
    samples = mel_frames * vocoder.hop_length
    samples_per_s = batch_size * samples / latency.mean
    audio = runs[-1][1]
    error = None
    if reference_audio is not None:
        error = relative_rms_error(torch.from_numpy(audio), torch.from_numpy(reference_audio))
    result = VocoderBenchResult(
        precision=precision or getattr(vocoder, "precision", "fp32"),
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
    mel_frames: int  # per utterance (forced durations: what they add up to; predicted: the mean)
    repeats: int
    threads: int
    latency: LatencyStats  # a whole `infer` / `generate` call
    mel_frames_per_s: float  # frames made per call (all utterances) / mean latency
    mel_relative_error: float | None  # RMS(mel - fp32 mel) / RMS(fp32 mel); None for fp32
    durations: str = "forced"  # or "predicted" (the model's own)
    mel_max_abs_diff: float | None = None  # max |mel - fp32 mel|; None for fp32
    # predicted durations: every symbol's rounded frames those of fp32; None: not compared
    durations_identical: bool | None = None

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
    max_diff = error = None
    if precision != "fp32":
        expected = _timed_parallel_infer(model, text, durations)[1]
        max_diff, error = mel_differences(runs[-1][1].float().numpy(), expected.numpy())
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
        mel_max_abs_diff=max_diff,
    )


def mel_differences(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """(max |actual - expected|, relative RMS error) of two padded mel batches [B, n_mels, T],
    over the frames both have (predicted durations may differ by a frame at low precision)."""
    frames = min(actual.shape[-1], expected.shape[-1])
    actual = np.asarray(actual[..., :frames], dtype=np.float32)
    expected = np.asarray(expected[..., :frames], dtype=np.float32)
    error = relative_rms_error(torch.from_numpy(actual), torch.from_numpy(expected))
    return float(np.abs(actual - expected).max()), error


def _timed_generate(model: AcousticModel, ids: np.ndarray) -> tuple[float, AcousticOutput]:
    lengths = np.full(len(ids), ids.shape[1], dtype=np.int64)
    started = time.perf_counter()
    output = model.generate(ids, lengths, Controls())
    return time.perf_counter() - started, output


def bench_predicted_durations(
    model: AcousticModel,
    ids: np.ndarray,
    *,
    precision: str,
    repeats: int = 10,
    reference: AcousticOutput | None = None,
) -> tuple[ParallelBenchResult, AcousticOutput]:
    """Time `repeats` `generate` calls (after one warm-up) of any FastPitch / FastSpeech
    backend on the texts `ids` [B, L], with the durations it predicts itself -> (result, the
    last run's output). `reference` (the fp32 PyTorch model's output) gives the mel
    differences and whether the rounded durations are the same."""
    batch_size, text_length = ids.shape
    if min(batch_size, text_length, repeats) < 1:
        raise SpeechSynthError("batch size, text length and repeats must be at least 1")
    _timed_generate(model, ids)
    runs = [_timed_generate(model, ids) for _ in range(repeats)]
    latency = LatencyStats.of([seconds for seconds, _ in runs])
    output = runs[-1][1]
    frames = int(output.mel_lengths.sum())
    max_diff = error = same_durations = None
    if reference is not None:
        max_diff, error = mel_differences(output.mels, reference.mels)
        same_durations = rounded_durations_equal(output, reference)
    result = ParallelBenchResult(
        precision=precision,
        batch_size=batch_size,
        text_length=text_length,
        mel_frames=round(frames / batch_size),
        repeats=repeats,
        threads=torch.get_num_threads(),
        latency=latency,
        mel_frames_per_s=frames / latency.mean,
        mel_relative_error=error,
        durations="predicted",
        mel_max_abs_diff=max_diff,
        durations_identical=same_durations,
    )
    return result, output


def rounded_durations_equal(output: AcousticOutput, reference: AcousticOutput) -> bool | None:
    """Whether every symbol gets as many frames (predictions rounded half to even) in both,
    and every utterance as many frames in all; None when either has no durations."""
    if output.durations is None or reference.durations is None:
        return None
    return bool(
        np.array_equal(np.rint(output.durations), np.rint(reference.durations))
        and np.array_equal(output.mel_lengths, reference.mel_lengths)
    )


def write_random_checkpoint(name: str, path: Path, seed: int = 0) -> Path:
    """A checkpoint of `name` with `bench_model`'s random weights at NVIDIA's default size, so
    that a pipeline of default-size models (`bench serve --voice fastpitch --vocoder waveglow`)
    runs anywhere a checkpoint is taken."""
    loaded, _ = bench_model(name, None, seed)
    payload = {
        "model_name": name,
        "model_config": loaded.config.to_dict(),
        "state_dict": loaded.model.state_dict(),
    }
    write_checkpoint(path, payload)
    return path


def machine_description(threads: int) -> dict[str, Any]:
    """What the figures were measured on: CPU model, cores, threads used, library versions."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": _onnxruntime_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _onnxruntime_version() -> str | None:
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime.__version__
