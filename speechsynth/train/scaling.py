"""Training throughput over several processes: `speechsynth bench train`.

A driver (`measure_training_scaling`) launches this module as a worker under `torchrun`
(`python -m torch.distributed.run --standalone --nproc_per_node N -m speechsynth.train.scaling`;
one process: `python -m speechsynth.train.scaling`, the same code without a process group)
once per (processes, batch size per process, precision). Each process builds the model with
random weights, wraps it in DistributedDataParallel when there are several processes (gloo on
CPU, NCCL on CUDA, as `DistributedContext` chooses), takes untimed warm-up steps, then times
the same training step as the single-process benchmarks (`train.bench`) between two barriers;
rank 0 writes the measurement as JSON.

Strong scaling keeps the global batch (`batch_size`) and splits it over the processes; weak
scaling gives every process `batch_size`. The timed steps are `epochs_worth` epochs of a
notional dataset of `epoch_utterances` utterances at the global batch size (NVIDIA reports
throughput averaged over an epoch): steps = ceil(epochs_worth * epoch_utterances / global
batch), at least 1. Throughput is items (mel frames; WaveGlow: audio samples) per second,
summed over the processes; the scaling figures compare each run with the run of the fewest
processes (1 unless the list leaves it out) in the same mode and precision.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import speechsynth
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic
from speechsynth.infer.bench import bench_model, machine_description, set_threads
from speechsynth.models.registry import get_spec
from speechsynth.train.bench import (
    TRAINING_BENCHMARKS,
    TRAINING_SUBJECTS,
    TrainingSubject,
    training_step,
)
from speechsynth.train.distributed import DistributedContext
from speechsynth.train.registry import get_task
from speechsynth.train.waveglow import WaveGlowTask

WORKER_MODULE = "speechsynth.train.scaling"
MODES = ("strong", "weak")
PRECISIONS = ("fp32", "amp")
SIZES = ("default", "tiny")
DEFAULT_EPOCH_UTTERANCES = 32  # the LJSpeech demo subset in shared/data/ljspeech-mini
DEFAULT_TIMEOUT_S = 3600.0
TORCHRUN_VARIABLES = frozenset(
    {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}
)

# Mel frames per utterance (WaveGlow: audio samples per segment, NVIDIA's 8000) by default.
DEFAULT_ITEMS_PER_UTTERANCE: dict[str, int] = {
    **{name: benchmark.default_frames for name, benchmark in TRAINING_BENCHMARKS.items()},
    "waveglow": WaveGlowTask.default_overrides["data"]["segment_length"],
}

# `--size tiny`: the tests' tiny models (tests/train), for quick checks of the machinery.
TINY_CONFIGS: dict[str, dict[str, Any]] = {
    "tacotron2": {
        "symbols_embedding_dim": 32,
        "encoder_embedding_dim": 32,
        "attention_rnn_dim": 64,
        "decoder_rnn_dim": 64,
        "prenet_dim": 32,
        "postnet_embedding_dim": 32,
        "attention_dim": 32,
    },
    "fastpitch": {
        "symbols_embedding_dim": 32,
        "in_fft_n_layers": 2,
        "in_fft_d_head": 16,
        "in_fft_conv1d_filter_size": 64,
        "in_fft_output_size": 32,
        "out_fft_n_layers": 2,
        "out_fft_d_head": 16,
        "out_fft_conv1d_filter_size": 64,
        "out_fft_output_size": 32,
        "dur_predictor_filter_size": 32,
        "pitch_predictor_filter_size": 32,
        "energy_predictor_filter_size": 32,
    },
    "fastspeech": {
        "d_model": 32,
        "phoneme_side_n_layer": 2,
        "phoneme_side_head": 1,
        "phoneme_side_conv1d_filter_size": 64,
        "phoneme_side_output_size": 32,
        "mel_side_n_layer": 2,
        "mel_side_head": 1,
        "mel_side_conv1d_filter_size": 64,
        "mel_side_output_size": 32,
        "duration_predictor_filter_size": 32,
    },
    "waveglow": {"WN_config": {"n_channels": 16, "n_layers": 2}},
}

# ------------------------------------------------------------------------------- the math


def timed_steps(epochs_worth: float, epoch_utterances: int, global_batch_size: int) -> int:
    """The steps that make `epochs_worth` epochs of `epoch_utterances` utterances at
    `global_batch_size` utterances per step: ceil(K * U / B), at least 1."""
    if epochs_worth <= 0 or epoch_utterances < 1 or global_batch_size < 1:
        raise SpeechSynthError(
            "epochs worth must be above 0, epoch utterances and the batch size at least 1"
        )
    # The tolerance keeps a float product such as 0.1 * 30 = 3.0000000000000004 from
    # rounding up to a step more.
    return max(1, math.ceil(epochs_worth * epoch_utterances / global_batch_size - 1e-9))


def batch_size_per_process(mode: str, batch_size: int, nproc: int) -> int:
    """Strong scaling splits the global `batch_size` over `nproc` processes; weak scaling gives
    each process `batch_size`."""
    if mode == "weak":
        return batch_size
    if mode != "strong":
        raise SpeechSynthError(f"unknown scaling {mode!r}; choose {' or '.join(MODES)}")
    if batch_size % nproc:
        raise SpeechSynthError(
            f"strong scaling splits the batch size {batch_size} over {nproc} processes, which "
            "does not divide it: choose a --batch-size that every --nproc divides"
        )
    return batch_size // nproc


def items_per_second(items_per_step: float, seconds_per_step: float) -> float:
    return items_per_step / seconds_per_step


def amp_speedup(amp_items_per_s: float, fp32_items_per_s: float) -> float:
    """Mixed precision's throughput over fp32's (same processes, same mode)."""
    return amp_items_per_s / fp32_items_per_s


def scaling_speedup(items_per_s: float, base_items_per_s: float) -> float:
    """Throughput with N processes over the baseline's (1 process): NVIDIA's scaling column."""
    return items_per_s / base_items_per_s


def scaling_efficiency(speedup: float, nproc: int, base_nproc: int = 1) -> float:
    """The speed-up over the ideal one, nproc / base_nproc. Strong scaling: throughput_N /
    (N throughput_1); weak scaling the same formula: throughput_N / (N throughput_1)."""
    return speedup * base_nproc / nproc


# ----------------------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measurement:
    """What one launch (all its processes) measured; rank 0 writes it as JSON."""

    world_size: int
    batch_size_per_process: int
    precision: str  # "fp32" or "amp"
    steps: int  # timed, after the warm-up
    seconds_per_step: float  # mean over the processes of (timed seconds / steps)
    items_per_step: int  # mel frames (WaveGlow: audio samples), summed over the processes
    warmup_steps: int = 1
    threads: int = 1  # torch threads per process
    device: str = "cpu"
    backend: str | None = None  # "gloo" or "nccl"; None for one process
    autocast_dtype: str | None = None  # "bfloat16" (CPU) or "float16" (CUDA) under amp

    @property
    def items_per_s(self) -> float:
        return items_per_second(self.items_per_step, self.seconds_per_step)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Measurement:
        return cls(**values)


class Run(NamedTuple):
    mode: str  # "strong" or "weak"
    nproc: int
    measurement: Measurement


def _sort_key(run: Run) -> tuple[int, int, int]:
    return MODES.index(run.mode), run.nproc, PRECISIONS.index(run.measurement.precision)


# (mode, processes, precision) -> items per second
Throughputs = dict[tuple[str, int, str], float]


def scaling_rows(model: str, unit: str, runs: Sequence[Run]) -> list[dict[str, Any]]:
    """One row per run with its throughput, mixed precision's speed-up over fp32 (null for
    fp32 rows and without an fp32 run) and the scaling figures against the run with the
    fewest processes of the same mode and precision."""
    throughput = {
        (run.mode, run.nproc, run.measurement.precision): run.measurement.items_per_s
        for run in runs
    }
    return [_row(model, unit, run, throughput) for run in sorted(runs, key=_sort_key)]


def _base_nproc(throughput: Throughputs, mode: str, precision: str) -> int:
    return min(
        nproc
        for key_mode, nproc, key_precision in throughput
        if (key_mode, key_precision) == (mode, precision)
    )


def _row(model: str, unit: str, run: Run, throughput: Throughputs) -> dict[str, Any]:
    measured = run.measurement
    items_per_s = throughput[run.mode, run.nproc, measured.precision]
    fp32 = throughput.get((run.mode, run.nproc, "fp32"))
    base_nproc = _base_nproc(throughput, run.mode, measured.precision)
    speedup = scaling_speedup(items_per_s, throughput[run.mode, base_nproc, measured.precision])
    with_amp = measured.precision != "fp32" and fp32 is not None
    return {
        "model": model,
        "mode": run.mode,
        "nproc": run.nproc,
        "world_size": measured.world_size,
        "precision": measured.precision,
        "batch_size_per_process": measured.batch_size_per_process,
        "global_batch_size": measured.batch_size_per_process * run.nproc,
        "steps": measured.steps,
        "seconds_per_step": measured.seconds_per_step,
        "items_per_step": measured.items_per_step,
        "items_per_s": items_per_s,
        "unit": unit,
        "speedup_amp": amp_speedup(items_per_s, fp32) if with_amp else None,
        "scaling_base_nproc": base_nproc,
        "scaling_speedup": speedup,
        "scaling_efficiency": scaling_efficiency(speedup, run.nproc, base_nproc),
        "device": measured.device,
        "backend": measured.backend,
        "autocast_dtype": measured.autocast_dtype,
    }


# ----------------------------------------------------------------------------------- driver


@dataclass(frozen=True)
class ScalingOptions:
    model: str
    batch_size: int = 4  # strong: the global batch; weak: the batch of every process
    nprocs: tuple[int, ...] = (1,)
    modes: tuple[str, ...] = MODES
    amp: bool = False  # also time mixed precision (bf16 autocast on CPU, fp16 + scaler on CUDA)
    epochs_worth: float = 1.0
    epoch_utterances: int = DEFAULT_EPOCH_UTTERANCES
    frames: int | None = None  # mel frames per utterance (WaveGlow: samples); None: the default
    text_length: int = 128
    size: str = "default"  # NVIDIA's default configuration, or "tiny"
    seed: int = 0
    threads: int = 1  # torch threads per process
    warmup_steps: int = 1
    device: str | None = None  # "cpu" or "cuda"; None: CUDA where there is one
    timeout_s: float = DEFAULT_TIMEOUT_S  # per launch


def check_model(name: str) -> None:
    if name not in TRAINING_SUBJECTS:
        raise SpeechSynthError(
            f"no training benchmark for model {name!r}; choose {', '.join(TRAINING_SUBJECTS)}"
        )


def check_options(options: ScalingOptions) -> None:
    """Every mistake found before anything is launched, each as a one-line error."""
    check_model(options.model)
    if options.size not in SIZES:
        raise SpeechSynthError(f"unknown size {options.size!r}; choose {' or '.join(SIZES)}")
    if not options.nprocs or min(options.nprocs) < 1:
        raise SpeechSynthError("--nproc needs positive process counts")
    if not options.modes:
        raise SpeechSynthError(f"no scaling mode; choose {' and/or '.join(MODES)}")
    sizes = (options.batch_size, options.text_length, options.threads, options.frames or 1)
    if min(sizes) < 1 or options.warmup_steps < 0:
        raise SpeechSynthError(
            "batch size, frames, text length and threads must be at least 1, warm-up steps >= 0"
        )
    timed_steps(options.epochs_worth, options.epoch_utterances, options.batch_size)
    for mode in options.modes:
        for nproc in options.nprocs:
            batch_size_per_process(mode, options.batch_size, nproc)


def check_gpus(options: ScalingOptions) -> None:
    """On CUDA every process needs a GPU of its own (NCCL shares none between processes)."""
    use_cuda = torch.cuda.is_available() if options.device is None else options.device == "cuda"
    gpus = torch.cuda.device_count()
    if use_cuda and max(options.nprocs) > gpus:
        raise SpeechSynthError(
            f"--nproc {max(options.nprocs)} on CUDA needs a GPU per process; there are {gpus}"
        )


def planned_runs(options: ScalingOptions) -> list[tuple[str, int, int]]:
    """(mode, processes, batch size per process) of every run, in report order."""
    return [
        (mode, nproc, batch_size_per_process(mode, options.batch_size, nproc))
        for mode in MODES
        if mode in options.modes
        for nproc in sorted(set(options.nprocs))
    ]


# (options, processes, batch size per process, precision, JSON output path) -> measurement
Launcher = Callable[[ScalingOptions, int, int, str, Path], Measurement]


def measure_training_scaling(
    options: ScalingOptions, launch: Launcher | None = None
) -> dict[str, Any]:
    """Launch the worker for every planned run and precision -> the report (`results`: one
    row per (mode, processes, precision), see `scaling_rows`). Strong and weak scaling share
    the runs that are the same (one process, or any count with the same batch per process)."""
    check_options(options)
    if launch is None:
        check_gpus(options)
        launch = launch_worker
    precisions = PRECISIONS if options.amp else ("fp32",)
    measured: dict[tuple[int, int, str], Measurement] = {}
    runs = []
    with tempfile.TemporaryDirectory(prefix="speechsynth-scaling-") as scratch:
        for mode, nproc, batch_size in planned_runs(options):
            for precision in precisions:
                key = (nproc, batch_size, precision)
                if key not in measured:
                    output = Path(scratch) / f"run{len(measured)}.json"
                    measured[key] = launch(options, nproc, batch_size, precision, output)
                runs.append(Run(mode, nproc, measured[key]))
    unit = get_task(options.model).items_unit
    return {
        "report": "training-scaling",
        "model": options.model,
        "size": options.size,
        "unit": unit,
        "items_per_utterance": items_per_utterance(options),
        "text_length": options.text_length,
        "batch_size": options.batch_size,
        "epochs_worth": options.epochs_worth,
        "epoch_utterances": options.epoch_utterances,
        "warmup_steps": options.warmup_steps,
        "threads_per_process": options.threads,
        "nprocs": sorted(set(options.nprocs)),
        "modes": [mode for mode in MODES if mode in options.modes],
        "precisions": list(precisions),
        "machine": machine_description(options.threads),
        "results": scaling_rows(options.model, unit, runs),
    }


def items_per_utterance(options: ScalingOptions) -> int:
    return options.frames or DEFAULT_ITEMS_PER_UTTERANCE[options.model]


def worker_command(
    options: ScalingOptions, nproc: int, batch_size: int, precision: str, output: Path
) -> list[str]:
    """torchrun starting `nproc` workers; one process runs the same worker directly (no
    process group, no DDP), which saves starting torchrun."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command = [
        sys.executable,
        *(launcher if nproc > 1 else []),
        "-m",
        WORKER_MODULE,
        f"--model={options.model}",
        f"--batch-size={batch_size}",
        f"--epochs-worth={options.epochs_worth!r}",
        f"--epoch-utterances={options.epoch_utterances}",
        f"--frames={items_per_utterance(options)}",
        f"--text-length={options.text_length}",
        f"--size={options.size}",
        f"--seed={options.seed}",
        f"--threads={options.threads}",
        f"--warmup-steps={options.warmup_steps}",
        f"--output={output}",
    ]
    if precision == "amp":
        command.append("--amp")
    if options.device:
        command.append(f"--device={options.device}")
    return command


def worker_environment(options: ScalingOptions) -> dict[str, str]:
    """This process's environment, with this checkout first on the path (the workers run the
    code that launched them) and OpenMP's threads set (torchrun would force 1 and warn), less
    the variables of any torchrun this process runs under."""
    root = str(Path(speechsynth.__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    # Launched from a torchrun process, a lone worker would otherwise join its group.
    inherited = {key: value for key, value in os.environ.items() if key not in TORCHRUN_VARIABLES}
    return {**inherited, "PYTHONPATH": path, "OMP_NUM_THREADS": str(options.threads)}


def launch_worker(
    options: ScalingOptions, nproc: int, batch_size: int, precision: str, output: Path
) -> Measurement:
    """Run the worker in `nproc` processes (`worker_command`) and read what rank 0 wrote."""
    described = f"{options.model} on {nproc} process(es), batch {batch_size} each, {precision}"
    process = subprocess.Popen(
        worker_command(options, nproc, batch_size, precision, output),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=worker_environment(options),
        start_new_session=True,  # a process group of our own: a timeout stops every worker
    )
    try:
        log, _ = process.communicate(timeout=options.timeout_s)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise SpeechSynthError(
            f"bench train: {described} took over {options.timeout_s:g} s and was stopped"
        ) from None
    except BaseException:
        _stop(process)
        raise
    if process.returncode != 0 or not output.is_file():
        raise SpeechSynthError(
            f"bench train: {described} failed (exit {process.returncode}): {failure_summary(log)}"
        )
    return Measurement.from_dict(json.loads(output.read_text(encoding="utf-8")))


def _stop(process: subprocess.Popen) -> None:
    """Stop torchrun and its workers: the process group it leads, SIGTERM then SIGKILL."""
    for stop_signal in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, stop_signal)
        try:
            process.communicate(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


ERROR_PREFIX = "error: "
RANK_PREFIX = re.compile(r"^\[rank\d+\]:\s*")  # torch's prefix on a worker's traceback lines
EXCEPTION_LINE = re.compile(r"^([\w.]+(Error|Exception)|KeyboardInterrupt)\b")


def failure_summary(log: str, limit: int = 400) -> str:
    """One line from a failed launch's output: the worker's own error, else the last exception
    line (torchrun's closing ChildFailedError report aside), else the last lines."""
    lines = [RANK_PREFIX.sub("", line.strip()) for line in log.splitlines() if line.strip()]
    own = [line for line in lines if line.startswith(ERROR_PREFIX)]
    exceptions = [
        line for line in lines if EXCEPTION_LINE.match(line) and "ChildFailedError" not in line
    ]
    if own:
        summary = own[-1].removeprefix(ERROR_PREFIX)
    elif exceptions:
        summary = exceptions[-1]
    else:
        summary = " | ".join(lines[-3:]) or "no output"
    return summary[-limit:]


# ----------------------------------------------------------------------------------- worker


@dataclass(frozen=True)
class WorkerSettings:
    model: str
    batch_size: int  # per process
    frames: int  # mel frames per utterance (WaveGlow: audio samples per segment)
    text_length: int
    size: str
    seed: int
    amp: bool
    warmup_steps: int
    epochs_worth: float
    epoch_utterances: int


def build_training_model(name: str, size: str, seed: int) -> nn.Module:
    """Random weights from `seed`: NVIDIA's default configuration (as `bench MODEL` times it)
    or the tests' tiny one."""
    check_model(name)
    if size == "tiny":
        torch.manual_seed(seed)
        spec = get_spec(name)
        model = spec.build(spec.make_config(TINY_CONFIGS[name]))
    else:
        model = bench_model(name, None, seed)[0].model
    attention = getattr(model, "attention", None) if name == "fastpitch" else None
    if attention is not None:
        # As the trainer: the aligner's attn_proj is never used, and DDP would wait for its
        # gradients forever.
        attention.attn_proj.requires_grad_(False)
    return model.train()


def wrap_for_processes(model: nn.Module, context: DistributedContext) -> nn.Module:
    if not context.enabled:
        return model
    device_ids = [context.local_rank] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def synchronise(context: DistributedContext) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously), then for every process."""
    if context.device.type == "cuda":
        torch.cuda.synchronize(context.device)
    context.barrier()


def timed_region(
    step: Callable[[], None], warmup_steps: int, steps: int, context: DistributedContext
) -> float:
    """Seconds this process took for `steps` calls of `step` after `warmup_steps` untimed
    ones, every process starting and ending the timed region together."""
    for _ in range(warmup_steps):
        step()
    synchronise(context)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    synchronise(context)
    return time.perf_counter() - started


def measure_steps(settings: WorkerSettings, context: DistributedContext) -> Measurement:
    """This process's part of one launch: warm-up, then the timed steps between barriers."""
    model = build_training_model(settings.model, settings.size, settings.seed).to(context.device)
    subject: TrainingSubject = TRAINING_SUBJECTS[settings.model](
        model,
        settings.batch_size,
        settings.frames,
        settings.text_length,
        settings.seed + context.rank,  # every process its own batch, as a sampler would give
    )
    trainee = wrap_for_processes(model, context)
    use_scaler = settings.amp and context.device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if use_scaler else None
    global_batch_size = settings.batch_size * context.world_size
    steps = timed_steps(settings.epochs_worth, settings.epoch_utterances, global_batch_size)

    def step() -> None:
        training_step(
            trainee, subject.optimizer, subject.loss_fn, subject.clip, settings.amp, scaler
        )

    elapsed = timed_region(step, settings.warmup_steps, steps, context)
    autocast_dtype = "float16" if context.device.type == "cuda" else "bfloat16"
    return Measurement(
        world_size=context.world_size,
        batch_size_per_process=settings.batch_size,
        precision="amp" if settings.amp else "fp32",
        steps=steps,
        seconds_per_step=context.mean(elapsed) / steps,
        items_per_step=round(context.total(subject.items)),
        warmup_steps=settings.warmup_steps,
        threads=torch.get_num_threads(),
        device=context.device.type,
        backend=dist.get_backend() if context.enabled else None,
        autocast_dtype=autocast_dtype if settings.amp else None,
    )


def worker_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"torchrun ... -m {WORKER_MODULE}",
        description="One launch of `speechsynth bench train`: rank 0 writes JSON to --output.",
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch-size", type=int, default=4, help="per process (4)")
    parser.add_argument("--frames", type=int, help="per utterance (default: the model's)")
    parser.add_argument("--text-length", type=int, default=128)
    parser.add_argument("--size", choices=SIZES, default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process (1)")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA: fp16 + scaler)")
    parser.add_argument("--warmup-steps", type=int, default=1)
    parser.add_argument("--epochs-worth", type=float, default=1.0)
    parser.add_argument("--epoch-utterances", type=int, default=DEFAULT_EPOCH_UTTERANCES)
    parser.add_argument("--device", choices=("cpu", "cuda"), help="(CUDA where there is one)")
    parser.add_argument("--output", type=Path, required=True, help="the JSON rank 0 writes")
    return parser


def run_worker(argv: Sequence[str] | None = None) -> int:
    args = worker_parser().parse_args(argv)
    check_model(args.model)
    settings = WorkerSettings(
        model=args.model,
        batch_size=args.batch_size,
        frames=args.frames or DEFAULT_ITEMS_PER_UTTERANCE[args.model],
        text_length=args.text_length,
        size=args.size,
        seed=args.seed,
        amp=args.amp,
        warmup_steps=args.warmup_steps,
        epochs_worth=args.epochs_worth,
        epoch_utterances=args.epoch_utterances,
    )
    set_threads(args.threads)
    context = DistributedContext.from_environment(args.device)
    try:
        measurement = measure_steps(settings, context)
        if context.is_main:
            write_text_atomic(args.output, json.dumps(measurement.to_dict(), indent=2) + "\n")
    finally:
        context.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_worker(argv)
    except SpeechSynthError as error:
        print(f"{ERROR_PREFIX}{error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
