"""`speechsynth bench train`: training throughput over 1..N processes (strong and weak scaling)."""

from __future__ import annotations

import argparse
import json

from speechsynth.cli.help import positive_counts
from speechsynth.errors import SpeechSynthError

TRAIN_HELP = """\
train: `speechsynth bench train --model M` measures training throughput with several processes
on this machine, as NVIDIA's training-performance tables report it: mel frames per second
(WaveGlow: audio samples per second) averaged over --epochs-worth K epochs, in fp32 and, with
--amp (--train-amp), mixed precision, with the speed-up of mixed precision and the scaling over
--nproc process counts (comma-separated, 1 by default). M is tacotron2, fastpitch, fastspeech
or waveglow, with random weights in NVIDIA's default configuration (--size default) or a tiny
one (--size tiny, seconds a step, to check the machinery). For each process count, the model is
trained under torchrun (`python -m torch.distributed.run --standalone`) with
DistributedDataParallel: gloo on CPU, NCCL on CUDA, the same code. Every process takes the
training step of `speechsynth bench MODEL` (forward, NVIDIA's loss, backward, clipping and the
recipe's optimizer) on its own random batch of utterances of --train-frames mel frames (400 for
Tacotron 2, 600 for FastPitch / FastSpeech; for WaveGlow audio samples per segment, NVIDIA's
8000) and --text-length symbols, with --threads torch threads per process (1 by default, so
that processes do not fight over the cores; start it with OMP_WAIT_POLICY=PASSIVE when cores
are shared). --warmup-steps untimed steps (1) come first; the timed ones run between two
barriers.

Strong scaling (--scaling strong) keeps the global batch at --batch-size (4) and splits it
evenly over the processes (every process count must divide it); weak scaling (--scaling weak)
gives every process --batch-size, so the global batch grows with the processes. Both are run
by default. The scaling speed-up is the throughput with N processes over the throughput with
1 (NVIDIA's "Multi-GPU scaling" columns), and the efficiency is that speed-up over N: strong
scaling throughput_N / (N throughput_1), weak scaling the same formula, 1.0 being perfect. When
--nproc leaves out 1, the fewest processes run are the baseline instead.

--epochs-worth K sets the timed steps: K epochs of a notional dataset of --epoch-utterances
utterances (32, the LJSpeech demo subset in shared/data) at the global batch size,
ceil(K * utterances / global batch) steps, at least 1; weak scaling thus takes fewer steps with
more processes, over the same data. Mixed precision: on CPU, bfloat16 autocast (as `train
--amp` there); on CUDA, float16 autocast with a GradScaler (as NVIDIA's AMP). Reported per
(scaling, processes, precision): batch per process, global batch, steps, seconds per step,
throughput, mixed precision's speed-up over fp32, the scaling speed-up and efficiency; --json
prints the report (`results`: one object per row), --markdown prints NVIDIA-style tables instead
of the text table."""

MODES = ("strong", "weak")
SIZES = ("default", "tiny")
DEFAULT_BATCH_SIZE = 4  # when the shared --batch-size is not given
DEFAULT_THREADS = 1  # per process, when the shared --threads is not given


def _scaling_modes(value: str) -> list[str]:
    modes = [item.strip() for item in value.split(",") if item.strip()]
    if not modes or set(modes) - set(MODES):
        raise argparse.ArgumentTypeError("expected strong, weak or strong,weak")
    return modes


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The `bench train` flags; it also reads the shared --batch-size, --train-amp / --amp,
    --train-frames, --text-length, --seed, --threads and --json."""
    train = parser.add_argument_group("train")
    train.add_argument(
        "--model",
        dest="train_model",
        metavar="M",
        help="the model to train: tacotron2, fastpitch, fastspeech or waveglow",
    )
    train.add_argument(
        "--nproc",
        type=positive_counts,
        default=[1],
        metavar="N[,N...]",
        help="process counts to run (1)",
    )
    train.add_argument(
        "--epochs-worth",
        type=float,
        default=1.0,
        metavar="K",
        help="time K epochs of --epoch-utterances utterances (1)",
    )
    train.add_argument(
        "--epoch-utterances",
        type=int,
        default=32,
        metavar="U",
        help="utterances in the notional epoch (32)",
    )
    train.add_argument(
        "--scaling",
        type=_scaling_modes,
        default=list(MODES),
        metavar="MODE[,MODE]",
        help="strong (global batch split), weak (batch per process), or both (default)",
    )
    train.add_argument(
        "--size",
        choices=SIZES,
        default="default",
        help="NVIDIA's default configuration, or a tiny one for quick checks (default)",
    )
    train.add_argument(
        "--warmup-steps",
        dest="train_warmup_steps",
        type=int,
        default=1,
        metavar="N",
        help="untimed steps before the timed ones (1)",
    )
    train.add_argument(
        "--markdown", action="store_true", help="also print NVIDIA-style markdown tables"
    )


def run_train_bench(args: argparse.Namespace) -> int:
    from speechsynth.train.scaling import ScalingOptions, measure_training_scaling

    if not args.train_model:
        raise SpeechSynthError(
            "bench train needs --model M: tacotron2, fastpitch, fastspeech or waveglow"
        )
    options = ScalingOptions(
        model=args.train_model,
        batch_size=DEFAULT_BATCH_SIZE if args.batch_size is None else args.batch_size,
        nprocs=tuple(args.nproc),
        modes=tuple(args.scaling),
        amp=args.train_amp,
        epochs_worth=args.epochs_worth,
        epoch_utterances=args.epoch_utterances,
        frames=args.train_frames,
        text_length=args.text_length,
        size=args.size,
        seed=args.seed,
        threads=DEFAULT_THREADS if args.threads is None else args.threads,
        warmup_steps=args.train_warmup_steps,
    )
    report = measure_training_scaling(options)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(markdown_tables(report) if args.markdown else format_scaling_report(report))
    return 0


# -------------------------------------------------------------------------------- the text


def format_scaling_report(report: dict) -> str:
    """A heading, then one line per (scaling, processes, precision)."""
    first = report["results"][0]
    per_utterance = f"{report['items_per_utterance']} {report['unit']}"
    if report["unit"] == "mel frames":
        per_utterance += f" and {report['text_length']} symbols"
    lines = [
        f"bench train {report['model']} ({report['size']} size): {per_utterance} per "
        f"utterance, {report['threads_per_process']} thread(s) per process, "
        f"{report['epochs_worth']:g} epoch(s) of {report['epoch_utterances']} utterances, "
        f"{report['warmup_steps']} warm-up step(s), on {first['device']}",
        f"  {'scaling':7s} {'procs':>5s} {'precision':9s} {'batch/proc':>10s} {'global':>6s} "
        f"{'steps':>5s} {'s/step':>9s} {report['unit'] + '/s':>16s} {'amp speed-up':>12s} "
        f"{'scaling':>7s} {'efficiency':>10s}",
    ]
    for row in report["results"]:
        lines.append(
            f"  {row['mode']:7s} {row['nproc']:5d} {row['precision']:9s} "
            f"{row['batch_size_per_process']:10d} {row['global_batch_size']:6d} "
            f"{row['steps']:5d} {row['seconds_per_step']:9.4f} {row['items_per_s']:16,.0f} "
            f"{_times(row['speedup_amp'], 12)} {_times(row['scaling_speedup'], 7)} "
            f"{row['scaling_efficiency']:10.1%}"
        )
    return "\n".join(lines)


def _times(value: float | None, width: int) -> str:
    """`1.25x`, or `-` where there is nothing to compare with."""
    return f"{'-' if value is None else f'{value:.2f}x':>{width}s}"


# ---------------------------------------------------------------------- NVIDIA-style tables


def table_columns(mode: str, unit: str) -> list[str]:
    """The columns of NVIDIA's training-performance tables (FastSpeech's wording), with
    processes in place of GPUs."""
    rate = "samples/s" if unit == "audio samples" else "mels/s"
    scaling = f"Multi-process {mode.capitalize()} scaling"
    return [
        "Processes",
        "Batch size / process",
        f"Throughput({rate}) - FP32",
        f"Throughput({rate}) - mixed precision",
        "Throughput speedup (FP32 - mixed precision)",
        f"{scaling} - FP32",
        f"{scaling} - mixed precision",
    ]


def scaling_header(report: dict) -> str:
    """What was trained, how long, and on what machine (the line above the tables)."""
    machine = report["machine"]
    return (
        f"Training {report['model']} ({report['size']} size, random weights), "
        f"{report['items_per_utterance']} {report['unit']} per utterance, "
        f"{report['epochs_worth']:g} epoch(s) of {report['epoch_utterances']} utterances, "
        f"{report['threads_per_process']} torch thread(s) per process; {machine['cpu']}, "
        f"{machine['cores']} cores, torch {machine['torch']}."
    )


def markdown_tables(report: dict) -> str:
    """One markdown table per scaling mode, one line per process count; `-` where a
    precision was not run."""
    tables = [scaling_header(report)]
    for mode in report["modes"]:
        rows = [row for row in report["results"] if row["mode"] == mode]
        columns = table_columns(mode, report["unit"])
        lines = [
            f"{mode.capitalize()} scaling, {report['model']}:",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "|".join("---:" for _ in columns) + "|",
        ]
        for nproc in sorted({row["nproc"] for row in rows}):
            by_precision = {row["precision"]: row for row in rows if row["nproc"] == nproc}
            lines.append(_table_line(nproc, by_precision))
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def _table_line(nproc: int, by_precision: dict[str, dict]) -> str:
    fp32, amp = by_precision.get("fp32"), by_precision.get("amp")
    batch = (fp32 or amp)["batch_size_per_process"]

    def value(row: dict | None, key: str, spec: str) -> str:
        return "-" if row is None or row[key] is None else format(row[key], spec)

    cells = [
        str(nproc),
        str(batch),
        value(fp32, "items_per_s", ".0f"),
        value(amp, "items_per_s", ".0f"),
        value(amp, "speedup_amp", ".2f"),
        value(fp32, "scaling_speedup", ".2f"),
        value(amp, "scaling_speedup", ".2f"),
    ]
    return "| " + " | ".join(cells) + " |"
