"""`speechsynth bench inference`: text in, audio out, timed as NVIDIA's seeds time it.

For every runtime x precision x batch size, a `Synthesizer` of the generator and the vocoder
reads `batch_size` copies of one English text of `text_length` characters, `warmup` untimed
times then `repeats` timed times. The latency of a run is the whole `synthesize` call (text
front end, generator, vocoder, denoiser: the seeds' "from text in to audio out"); a
`StageClock` splits it by stage. Each row reports the seeds' columns: average latency, its
standard deviation, 90 / 95 / 99 % intervals, throughput in audio samples per second, the
speed-up over the fp32 row of the same runtime and batch size, average mels generated, average
audio length and the average real-time factor (audio seconds per second of latency, per
utterance, as the seeds compute it).

Generators and vocoders are model names (random weights at NVIDIA's default size, written as
checkpoints to a scratch directory), `bundled` (the demo voice: its checkpoint for torch, the
export it ships for onnx), `griffin-lim`,
checkpoint files or export directories. The onnx runtime exports a checkpoint once, as
`speechsynth export` does; an export directory runs on ONNX Runtime only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.export.exporters import export_checkpoint
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.bench import (
    RANDOM_MODELS,
    machine_description,
    set_threads,
    write_random_checkpoint,
)
from speechsynth.infer.griffin_lim_vocoder import GRIFFIN_LIM
from speechsynth.infer.latency import LatencyStats
from speechsynth.infer.runtimes import RuntimeOptions, load_vocoder, open_acoustic_model
from speechsynth.infer.stage_clock import StageClock
from speechsynth.infer.synthesizer import SynthesisResult, Synthesizer
from speechsynth.infer.vocoder_interface import Vocoder, VocoderOptions
from speechsynth.infer.voice import bundled_checkpoint_path, bundled_voice_path
from speechsynth.text.benchmark import benchmark_text

BUNDLED = "bundled"
PRECISIONS = ("fp32", "bf16", "int8", "auto")
STAGES = ("text", "generator", "vocoder", "denoiser")
# An ONNX export describes its precision as the bench's ONNX options are named
EXPORT_PRECISION_NAMES = {"onnx": "fp32", "onnx-int8": "int8"}
# A vocoder has no int8: an int8 row runs its vocoder at fp32.
VOCODER_PRECISION = {"int8": "fp32"}


@dataclass(frozen=True)
class InferenceBenchOptions:
    generator: str = BUNDLED
    vocoder: str = GRIFFIN_LIM
    batch_sizes: tuple[int, ...] = (1, 4, 8)
    precisions: tuple[str, ...] = ("fp32", "auto")
    runtimes: tuple[str, ...] = ("torch",)
    text_length: int = 128
    repeats: int = 3
    warmup: int = 1
    max_decoder_steps: int | None = None  # models with a decoder step limit (Tacotron 2)
    seed: int = 0
    threads: int | None = None

    def check(self) -> None:
        for name, values, known in (
            ("--runtime", self.runtimes, tuple(BENCH_RUNTIMES)),
            ("--precision", self.precisions, PRECISIONS),
        ):
            unknown = [value for value in values if value not in known]
            if unknown or not values:
                raise SpeechSynthError(
                    f"{name} {','.join(unknown)}: choose from {', '.join(known)}"
                )
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise SpeechSynthError("--batch-sizes must be positive counts, e.g. 1,4,8")
        if self.repeats < 1 or self.warmup < 0:
            raise SpeechSynthError("--repeats must be at least 1 and --warmup at least 0")


@dataclass(frozen=True)
class PipelineConfig:
    """One row's pipeline, before it is built."""

    runtime: str
    precision: str
    batch_size: int


def measure_pipeline_speed(options: InferenceBenchOptions) -> dict[str, Any]:
    """Every runtime x precision x batch size of the pipeline, timed in one process."""
    options.check()
    threads = set_threads(options.threads)
    text = benchmark_text(options.text_length)
    with _scratch() as scratch:
        files = ModelFiles(options, scratch)
        rows = [
            _row_or_skip(files, config, text, options)
            for runtime in options.runtimes
            for precision in _precisions_for(runtime, options.precisions)
            for config in (PipelineConfig(runtime, precision, size) for size in options.batch_sizes)
        ]
    return {
        "report": "inference",
        "generator": options.generator,
        "vocoder": options.vocoder,
        "text_length": options.text_length,
        "repeats": options.repeats,
        "warmup": options.warmup,
        "machine": machine_description(threads),
        "rows": with_mixed_precision_speedups(rows),
    }


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="speechsynth-bench-") as name:
        yield Path(name)


def _precisions_for(runtime: str, precisions: tuple[str, ...]) -> tuple[str, ...]:
    """The precisions asked for, or the runtime's own (ONNX Runtime: the fp32 export)."""
    return BENCH_RUNTIMES[runtime].precisions or precisions


class ModelFiles:
    """The generator's and vocoder's files per runtime: random checkpoints written once,
    ONNX exports made once."""

    def __init__(self, options: InferenceBenchOptions, scratch: Path) -> None:
        self.scratch = scratch
        self.seed = options.seed
        self.generator = self._source(options.generator, "generator")
        self.vocoder = (
            options.vocoder
            if options.vocoder == GRIFFIN_LIM
            else self._source(options.vocoder, "vocoder")
        )
        # the demo voice ships its export: the onnx runtime runs what `say` runs
        self.exports: dict[Path, Path] = {bundled_checkpoint_path(): bundled_voice_path()}

    def _source(self, spec: str, role: str) -> Path:
        if spec == BUNDLED:
            return bundled_checkpoint_path()
        if spec in RANDOM_MODELS:
            return write_random_checkpoint(spec, self.scratch / f"{spec}.pt", self.seed)
        path = Path(spec)
        if not path.exists():
            names = ", ".join(
                [BUNDLED, *RANDOM_MODELS] + ([GRIFFIN_LIM] if role == "vocoder" else [])
            )
            raise SpeechSynthError(
                f"--{role} {spec}: no such file or directory, and not a model name ({names})"
            )
        return path

    def for_runtime(self, source: Path, runtime: str) -> Path:
        """`source` as `runtime` runs it (`BENCH_RUNTIMES`)."""
        return BENCH_RUNTIMES[runtime].file(self, source)

    def checkpoint(self, source: Path) -> Path:
        if source.is_dir():
            raise SpeechSynthError(
                f"{source}: an export directory runs on ONNX Runtime only; "
                "use --runtime onnx for it"
            )
        return source

    def export(self, source: Path) -> Path:
        """An export directory as it is; a checkpoint exported once, as `speechsynth export`."""
        if source.is_dir():
            return source
        if source not in self.exports:
            directory = self.scratch / f"onnx-{len(self.exports)}-{source.stem}"
            export_checkpoint(source, directory)
            self.exports[source] = directory
        return self.exports[source]


class BenchRuntime(NamedTuple):
    file: Callable[[ModelFiles, Path], Path]  # the model file this runtime runs
    precisions: tuple[str, ...] | None  # the precisions it runs (None: every one asked)
    providers: tuple[str, ...] | None  # ONNX Runtime's (None: not ONNX Runtime)


# A new runtime is one entry here (and its backends in `infer.runtimes`).
BENCH_RUNTIMES: dict[str, BenchRuntime] = {
    "torch": BenchRuntime(ModelFiles.checkpoint, None, None),
    "onnx": BenchRuntime(ModelFiles.export, ("fp32",), ("cpu",)),  # the fp32 graphs, on the CPU
}


def _row_or_skip(
    files: ModelFiles, config: PipelineConfig, text: str, options: InferenceBenchOptions
) -> dict[str, Any]:
    """The row's measurements, or why it cannot run here (bf16 without native bf16, ...)."""
    try:
        synthesizer = build_pipeline(files, config, options)
        if config.precision != "fp32" and set(ran_precisions(synthesizer)) <= {"fp32", "-"}:
            return {**_row_keys(config), "skipped": "every model runs fp32 here: the fp32 row"}
        return time_pipeline(synthesizer, config, text, options)
    except SpeechSynthError as error:
        return {**_row_keys(config), "skipped": str(error)}


def ran_precisions(synthesizer: Synthesizer) -> tuple[str, str]:
    """(the generator's, the vocoder's) precision as built ("-": none to choose, Griffin-Lim)."""
    generator = synthesizer.acoustic_model.describe().get("precision", "-")
    generator = EXPORT_PRECISION_NAMES.get(generator, generator)
    return generator, getattr(synthesizer.vocoder, "precision", "-")


def _row_keys(config: PipelineConfig) -> dict[str, Any]:
    return {
        "runtime": config.runtime,
        "precision": config.precision,
        "batch_size": config.batch_size,
    }


def build_pipeline(
    files: ModelFiles, config: PipelineConfig, options: InferenceBenchOptions
) -> Synthesizer:
    runtime_options = RuntimeOptions(
        precision=config.precision,
        providers=BENCH_RUNTIMES[config.runtime].providers,
        threads=torch.get_num_threads(),
    )
    acoustic = open_acoustic_model(
        files.for_runtime(files.generator, config.runtime), runtime_options
    )
    vocoder = _vocoder(files, config, runtime_options)
    controls = _controls(acoustic, options)
    return Synthesizer(acoustic, vocoder, config.batch_size, options.seed, controls=controls)


def _vocoder(files: ModelFiles, config: PipelineConfig, runtime_options: RuntimeOptions) -> Vocoder:
    precision = VOCODER_PRECISION.get(config.precision, config.precision)
    vocoder_options = VocoderOptions(precision=precision)
    if isinstance(files.vocoder, str):  # griffin-lim: numpy, the same for every runtime
        return load_vocoder(files.vocoder, vocoder_options)
    source = files.for_runtime(files.vocoder, config.runtime)
    return load_vocoder(source, vocoder_options, replace(runtime_options, precision=precision))


def _controls(acoustic: AcousticModel, options: InferenceBenchOptions) -> Controls:
    """A decoder step limit where the model has one (Tacotron 2 on random weights never stops:
    NVIDIA's benchmark runs it a fixed number of steps)."""
    if options.max_decoder_steps is not None and "max_decoder_steps" in acoustic.controls:
        return Controls(max_decoder_steps=options.max_decoder_steps)
    return Controls()


def time_pipeline(
    synthesizer: Synthesizer, config: PipelineConfig, text: str, options: InferenceBenchOptions
) -> dict[str, Any]:
    """Latency and stage seconds of `repeats` runs (after `warmup` untimed ones)."""
    utterances = [(f"utterance{index}", text) for index in range(config.batch_size)]
    for _ in range(options.warmup):
        synthesizer.synthesize(utterances)
    runs = [timed_run(synthesizer.synthesize, utterances) for _ in range(options.repeats)]
    return summarize_runs(runs, config, synthesizer)


@dataclass(frozen=True)
class TimedRun:
    latency_s: float
    stage_seconds: dict[str, float]
    frames: list[int]  # mel frames per utterance
    samples: list[int]  # audio samples per utterance


def timed_run(
    synthesize: Callable[[list[tuple[str, str]]], list[SynthesisResult]],
    utterances: list[tuple[str, str]],
) -> TimedRun:
    clock = StageClock()
    with clock.running():
        started = time.perf_counter()
        results = synthesize(utterances)
        latency = time.perf_counter() - started
    return TimedRun(
        latency,
        exclusive_stage_seconds(clock.seconds),
        [result.n_frames for result in results],
        [len(result.audio) for result in results],
    )


def exclusive_stage_seconds(seconds: dict[str, float]) -> dict[str, float]:
    """Each stage's own seconds: the vocoder's without its denoiser's."""
    own = {stage: seconds.get(stage, 0.0) for stage in STAGES}
    own["vocoder"] = max(own["vocoder"] - own["denoiser"], 0.0)
    return own


def summarize_runs(
    runs: list[TimedRun], config: PipelineConfig, synthesizer: Synthesizer
) -> dict[str, Any]:
    """One row in the seeds' columns."""
    latencies = [run.latency_s for run in runs]
    stats = LatencyStats.of(latencies)
    generator_precision, vocoder_precision = ran_precisions(synthesizer)
    sampling_rate = synthesizer.vocoder.sampling_rate
    audio_seconds = float(np.mean([np.mean(run.samples) for run in runs])) / sampling_rate
    samples_per_run = float(np.mean([sum(run.samples) for run in runs]))
    return {
        **_row_keys(config),
        "generator_precision": generator_precision,
        "vocoder_precision": vocoder_precision,
        "latencies_s": latencies,
        "latency_mean_s": stats.mean,
        "latency_std_s": stats.std,
        "latency_p90_s": stats.p90,
        "latency_p95_s": stats.p95,
        "latency_p99_s": stats.p99,
        "throughput_samples_per_s": samples_per_run / stats.mean,
        "avg_mels_generated": float(np.mean([np.mean(run.frames) for run in runs])),
        "avg_audio_s": audio_seconds,
        "avg_rtf": audio_seconds / stats.mean,
        "stage_seconds": {
            stage: float(np.mean([run.stage_seconds[stage] for run in runs])) for stage in STAGES
        },
    }


def with_mixed_precision_speedups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each measured row's speed-up: the fp32 row's mean latency (same runtime and batch size)
    over its own; None where that fp32 row is missing."""
    fp32 = {
        (row["runtime"], row["batch_size"]): row["latency_mean_s"]
        for row in rows
        if row["precision"] == "fp32" and "skipped" not in row
    }
    speedups = []
    for row in rows:
        if "skipped" in row:
            speedups.append(row)
            continue
        reference = fp32.get((row["runtime"], row["batch_size"]))
        speedup = None if reference is None else reference / row["latency_mean_s"]
        speedups.append({**row, "speedup_vs_fp32": speedup})
    return speedups
