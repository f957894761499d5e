"""`speechsynth bench MODEL`: how fast a model synthesises and trains on this machine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command
from speechsynth.errors import SpeechSynthError

DESCRIPTION = """\
Measure Tacotron 2 or WaveGlow on this machine, with random weights in NVIDIA's default
configuration or the weights of --checkpoint.

Tacotron 2 (28M parameters) inference: each of --repeats runs synthesises --batch-size random
texts of --text-length symbols for exactly --steps decoder steps (the stop gate is ignored),
with the prenet dropout on, as NVIDIA's inference. Reported: milliseconds per decoder step
(mean and std over the repeats; encoder and postnet excluded), the latency of a whole run
(mean, std, 90/95/99th percentiles, in seconds, as NVIDIA's latency tables) and mel frames per
second.

--precision picks how the inference runs (comma-separated to compare several):
  fp32  the model as it is;
  bf16  the whole model in bfloat16;
  int8  the decoder's two LSTM cells dynamically quantized to int8 (the rest fp32);
  onnx  the model exported as `speechsynth export` does (NVIDIA's encoder / decoder_iter /
        postnet split, prenet dropout in the graph) and run by ONNX Runtime, fp32.
For bf16 and int8 the report adds the relative RMS difference of a teacher-forced mel from
the fp32 model's (same input, same dropout masks).

Training: --train-steps steps (after one untimed warm-up) of forward, backward, gradient
clipping and Adam on --train-batch-size random mels of --train-frames frames, with texts of
--text-length symbols; reported as seconds per step and mel frames per second.
--train-steps 0 skips it (at the default size a step takes about 15 s on one CPU core).

WaveGlow: for each of --channels (WN channels: 256 is NVIDIA's 'waveglow256', 512 the default;
random weights, the coupling's zero-initialised end layers drawn from N(0, 0.02) so that every
flow does real work), each of --repeats runs vocodes --batch-size random log-mels of
--mel-frames frames (600 frames = 153,600 samples, about 7 s) with --sigma and the denoiser at
--denoiser-strength, as `synthesize` does. Reported: latency (mean, std, percentiles), audio
samples per second and the real-time factor (seconds of audio per second; NVIDIA's RTF).
--precision fp32 and/or bf16 (default: both where the CPU has native bfloat16); bf16 also
reports the relative RMS difference of its audio from fp32's (same noise). No training part.

FastPitch / FastSpeech (NVIDIA's protocol): each of --repeats `infer` calls reads --batch-size
random texts of --text-length symbols with durations forced to add up to --mel-frames frames
(600: the same work whatever the weights predict); reported: latency (mean, std, percentiles)
and mel frames per second, for --precision fp32 and/or bf16 (default: fp32). Training:
--train-steps steps at --train-batch-size of --train-frames-frame mels (600 by default for
these models) as the trainer takes them: FastPitch 1.1 with its learned aligner and alignment
search, NVIDIA's loss, clipping, a LAMB step; FastSpeech with teacher durations and Adam.

Timing on a CPU: start it with OMP_WAIT_POLICY=PASSIVE in the environment when other processes
share the cores (OpenMP reads it at start-up; busy-waiting threads otherwise slow everyone),
keep the machine otherwise idle, and run it twice: the first run's numbers can be off."""

EPILOG = """\
examples:
  OMP_WAIT_POLICY=PASSIVE speechsynth bench tacotron2 --threads 1
  speechsynth bench tacotron2 --precision fp32,bf16,int8 --train-steps 0
  speechsynth bench tacotron2 --checkpoint nvidia_tacotron2.pt --batch-size 4 --json
  speechsynth bench tacotron2 --steps 100 --repeats 10 --train-steps 0
  OMP_WAIT_POLICY=PASSIVE speechsynth bench waveglow --threads 1
  speechsynth bench waveglow --channels 256 --precision bf16 --repeats 5 --json
  speechsynth bench waveglow --checkpoint waveglow.pt --mel-frames 300
  OMP_WAIT_POLICY=PASSIVE speechsynth bench fastpitch --threads 1 --repeats 20
  speechsynth bench fastspeech --precision fp32,bf16 --train-steps 0 --json"""

# infer.precision.PRECISIONS (without importing torch), and Tacotron 2's ONNX Runtime export
PRECISION_NAMES = ("fp32", "bf16", "int8", "onnx")
WAVEGLOW_PRECISION_NAMES = ("fp32", "bf16")  # infer.vocoders.WAVEGLOW_PRECISIONS
PARALLEL_MODELS = ("fastpitch", "fastspeech")


def _precisions(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in PRECISION_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected one or more of {', '.join(PRECISION_NAMES)}, comma-separated"
        )
    return names


def _channel_counts(value: str) -> list[int]:
    try:
        counts = [int(item) for item in value.split(",") if item.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 2 or any(count % 2 for count in counts):
        raise argparse.ArgumentTypeError("expected even channel counts, comma-separated")
    return counts


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands, "bench", "measure inference and training speed", DESCRIPTION, EPILOG
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        choices=("tacotron2", "waveglow", "fastpitch", "fastspeech"),
        help="tacotron2, waveglow, fastpitch or fastspeech",
    )
    parser.add_argument(
        "--checkpoint", type=Path, metavar="CKPT", help="weights to use (default: random)"
    )
    parser.add_argument(
        "--steps", type=int, default=600, metavar="N", help="decoder steps per run (600)"
    )
    parser.add_argument("--batch-size", type=int, default=1, metavar="N", help="texts per run (1)")
    parser.add_argument(
        "--text-length", type=int, default=128, metavar="N", help="symbols per text (128)"
    )
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="timed runs (3)")
    parser.add_argument(
        "--precision",
        type=_precisions,
        metavar="P[,P...]",
        help="fp32, bf16, int8 and/or onnx (default: fp32; WaveGlow: fp32,bf16)",
    )
    parser.add_argument(
        "--threads", type=int, metavar="N", help="torch threads (default: torch's, one per core)"
    )
    parser.add_argument(
        "--train-steps", type=int, default=3, metavar="N", help="timed training steps (3)"
    )
    parser.add_argument(
        "--train-batch-size", type=int, default=4, metavar="N", help="mels per step (4)"
    )
    parser.add_argument(
        "--train-frames",
        type=int,
        metavar="N",
        help="frames per mel (400; FastPitch / FastSpeech: 600)",
    )
    parser.add_argument(
        "--train-amp",
        action="store_true",
        help="FastPitch / FastSpeech: time training steps under bf16 autocast (train --amp)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random weights and inputs (0)"
    )
    waveglow = parser.add_argument_group("waveglow")
    waveglow.add_argument(
        "--channels",
        type=_channel_counts,
        default=[256, 512],
        metavar="C[,C...]",
        help="WN channels of the random models (256,512)",
    )
    waveglow.add_argument(
        "--mel-frames", type=int, default=600, metavar="N", help="mel frames per run (600)"
    )
    waveglow.add_argument("--sigma", type=float, default=0.6, help="noise scale (0.6)")
    waveglow.add_argument(
        "--denoiser-strength", type=float, default=0.01, metavar="S", help="(0.01; 0 = off)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    import torch  # only when needed: `speechsynth --help` stays fast

    if args.threads is not None:
        if args.threads < 1:
            raise SpeechSynthError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.model == "waveglow":
        return run_waveglow_bench(args)
    if args.model in PARALLEL_MODELS:
        return run_parallel_bench(args)
    return run_tacotron2_bench(args)


def run_tacotron2_bench(args: argparse.Namespace) -> int:
    import torch

    from speechsynth.infer.bench import bench_tacotron2_inference
    from speechsynth.train.bench import bench_tacotron2_training

    model, weights = _load_tacotron2(args.checkpoint, args.seed)
    inference = [
        _bench_onnx_tacotron2(model, args)
        if precision == "onnx"
        else bench_tacotron2_inference(
            model,
            precision=precision,
            steps=args.steps,
            batch_size=args.batch_size,
            text_length=args.text_length,
            repeats=args.repeats,
            seed=args.seed,
        )
        for precision in args.precision or ["fp32"]
    ]
    training = None
    if args.train_steps > 0:
        training = bench_tacotron2_training(
            model,
            batch_size=args.train_batch_size,
            mel_frames=args.train_frames or 400,
            text_length=args.text_length,
            steps=args.train_steps,
            seed=args.seed,
        )
    report = {
        "model": "tacotron2",
        "weights": weights,
        "threads": torch.get_num_threads(),
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "inference": [result.to_dict() for result in inference],
        "training": training.to_dict() if training else None,
    }
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _bench_onnx_tacotron2(model, args: argparse.Namespace):
    """Export `model` to a temporary directory and time ONNX Runtime's host loop on it."""
    import tempfile

    import torch

    from speechsynth.export.runtime import OnnxTacotron2
    from speechsynth.export.tacotron2 import export_tacotron2
    from speechsynth.infer.bench import bench_decoder_runs, random_text
    from speechsynth.models.registry import LoadedModel

    with tempfile.TemporaryDirectory(prefix="speechsynth-bench-") as directory:
        loaded = LoadedModel("tacotron2", model.config, model, Path("bench"), "speechsynth", ())
        export_tacotron2(loaded, directory, prenet_dropout=True)
        runtime = OnnxTacotron2(directory, threads=torch.get_num_threads())
        text = random_text(args.batch_size, args.text_length, model.config.n_symbols, args.seed)
        return bench_decoder_runs(
            runtime.timed_infer, text, precision="onnx", steps=args.steps, repeats=args.repeats
        )


def _load_tacotron2(checkpoint: Path | None, seed: int):
    import torch

    from speechsynth.models.registry import load_model
    from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config

    if checkpoint is not None:
        return load_model(checkpoint, expected_name="tacotron2").model, str(checkpoint)
    torch.manual_seed(seed)
    return Tacotron2(Tacotron2Config()).eval(), "random (default config)"


def latency_cells(latency: dict, mean_width: int, scale: float = 1.0, decimals: int = 3) -> str:
    """The mean, std and 90/95/99th percentile columns of a latency row."""
    mean = f"{latency['mean'] * scale:{mean_width}.{decimals}f}"
    rest = (f"{latency[key] * scale:6.{decimals}f}" for key in ("std", "p90", "p95", "p99"))
    return " ".join((mean, *rest))


def training_line(training: dict) -> str:
    return (
        f"training{' (bf16 autocast)' if training.get('amp') else ''}: "
        f"batch {training['batch_size']} x {training['mel_frames']} frames, "
        f"{training['text_length']} symbols: "
        f"{training['seconds_per_step_mean']:.3f} ± {training['seconds_per_step_std']:.3f} "
        f"s/step, {training['mel_frames_per_s']:.0f} mel frames/s"
    )


def format_report(report: dict) -> str:
    first = report["inference"][0]
    lines = [
        f"tacotron2, weights: {report['weights']}, {report['parameters'] / 1e6:.1f}M parameters, "
        f"{report['threads']} thread(s)",
        f"inference: batch {first['batch_size']}, {first['text_length']} symbols, "
        f"{first['decoder_steps']} decoder steps, {first['repeats']} repeats",
        f"  {'precision':9s} {'ms/step':>15s} {'latency s: mean':>16s} {'std':>6s} "
        f"{'p90':>6s} {'p95':>6s} {'p99':>6s} {'frames/s':>9s} {'mel error':>10s}",
    ]
    for result in report["inference"]:
        latency = result["latency"]
        error = result["mel_relative_error"]
        lines.append(
            f"  {result['precision']:9s} "
            f"{result['ms_per_step_mean']:7.3f} ± {result['ms_per_step_std']:5.3f} "
            f"{latency_cells(latency, 16)} {result['mel_frames_per_s']:9.0f} "
            f"{'-' if error is None else f'{error:.2%}':>10s}"
        )
    if report["training"]:
        lines.append(training_line(report["training"]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- WaveGlow


def run_waveglow_bench(args: argparse.Namespace) -> int:
    import torch

    precisions = args.precision or _default_waveglow_precisions()
    unsupported = [name for name in precisions if name not in WAVEGLOW_PRECISION_NAMES]
    if unsupported:
        raise SpeechSynthError(
            f"WaveGlow precision {unsupported[0]} is not available; "
            f"choose from {', '.join(WAVEGLOW_PRECISION_NAMES)}"
        )
    runs = []
    for channels in [None] if args.checkpoint else args.channels:
        model, weights = _load_waveglow(args.checkpoint, channels, args.seed)
        runs.append(
            {
                "channels": model.config.n_channels,
                "weights": weights,
                "parameters": sum(parameter.numel() for parameter in model.parameters()),
                "inference": _bench_waveglow_precisions(model, precisions, args),
            }
        )
    report = {"model": "waveglow", "threads": torch.get_num_threads(), "runs": runs}
    print(json.dumps(report, indent=2) if args.json else format_waveglow_report(report))
    return 0


def _default_waveglow_precisions() -> list[str]:
    import torch

    from speechsynth.infer.vocoders import native_bf16_available

    return ["fp32", "bf16"] if native_bf16_available(torch.device("cpu")) else ["fp32"]


def _bench_waveglow_precisions(model, precisions: list[str], args: argparse.Namespace) -> list:
    """Each precision's result; lower precisions are compared with fp32's audio."""
    from speechsynth.infer.bench import bench_vocoder
    from speechsynth.infer.vocoders import WaveGlowVocoder

    def vocoder(precision: str) -> WaveGlowVocoder:
        return WaveGlowVocoder(
            model,
            sigma=args.sigma,
            denoiser_strength=args.denoiser_strength,
            precision=precision,
            chunk_frames=max(args.mel_frames, 1),  # one chunk, as NVIDIA's timing
            overlap_frames=0,
            seed=args.seed,
            copy_model=False,  # our own model: every vocoder folds and shares it
        )

    options = {"mel_frames": args.mel_frames, "batch_size": args.batch_size, "seed": args.seed}
    results, reference = [], None
    for precision in sorted(precisions, key=lambda name: name != "fp32"):
        if precision != "fp32" and reference is None:
            reference = bench_vocoder(vocoder("fp32"), repeats=1, **options)[1]
        result, audio = bench_vocoder(
            vocoder(precision), repeats=args.repeats, reference_audio=reference, **options
        )
        if precision == "fp32":
            reference = audio
        results.append(result.to_dict())
    return results


def _load_waveglow(checkpoint: Path | None, channels: int | None, seed: int):
    import torch

    from speechsynth.models.registry import load_model
    from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig

    if checkpoint is not None:
        return load_model(checkpoint, expected_name="waveglow").model, str(checkpoint)
    torch.manual_seed(seed)
    model = WaveGlow(WaveGlowConfig(WN_config={"n_channels": channels}))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0.0, 0.02)
    return model.eval(), "random (default config, end layers N(0, 0.02))"


def format_waveglow_report(report: dict) -> str:
    lines = []
    for run in report["runs"]:
        first = run["inference"][0]
        lines += [
            f"waveglow {run['channels']} channels, weights: {run['weights']}, "
            f"{run['parameters'] / 1e6:.1f}M parameters, {report['threads']} thread(s)",
            f"vocoding: batch {first['batch_size']}, {first['mel_frames']} mel frames "
            f"({first['samples']:,} samples), {first['repeats']} repeats",
            f"  {'precision':9s} {'latency s: mean':>16s} {'std':>6s} {'p90':>6s} {'p95':>6s} "
            f"{'p99':>6s} {'samples/s':>10s} {'RTF':>6s} {'audio error':>12s}",
        ]
        for result in run["inference"]:
            latency, error = result["latency"], result["audio_relative_error"]
            lines.append(
                f"  {result['precision']:9s} {latency_cells(latency, 16)} "
                f"{result['samples_per_s']:10,.0f} {result['real_time_factor']:6.3f} "
                f"{'-' if error is None else f'{error:.3%}':>12s}"
            )
    return "\n".join(lines)


# ------------------------------------------------------------------- FastPitch, FastSpeech


def run_parallel_bench(args: argparse.Namespace) -> int:
    import torch

    from speechsynth.infer.bench import bench_parallel_inference

    precisions = args.precision or ["fp32"]
    if "int8" in precisions or "onnx" in precisions:
        raise SpeechSynthError(
            f"{args.model}: choose fp32 and/or bf16 (int8 and onnx are for Tacotron 2)"
        )
    model, weights = _load_parallel(args.model, args.checkpoint, args.seed)
    frames = args.mel_frames
    inference = [
        bench_parallel_inference(
            model,
            precision=precision,
            mel_frames=frames,
            batch_size=args.batch_size,
            text_length=args.text_length,
            repeats=args.repeats,
            seed=args.seed,
        ).to_dict()
        for precision in precisions
    ]
    training = None
    if args.train_steps > 0:
        training = _parallel_training_bench(args, model)
    report = {
        "model": args.model,
        "weights": weights,
        "threads": torch.get_num_threads(),
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "inference": inference,
        "training": training,
    }
    print(json.dumps(report, indent=2) if args.json else format_parallel_report(report))
    return 0


def _parallel_training_bench(args: argparse.Namespace, model) -> dict:
    from speechsynth.train import bench

    run = bench.bench_fastpitch_training
    if args.model == "fastspeech":
        run = bench.bench_fastspeech_training
    result = run(
        model,
        batch_size=args.train_batch_size,
        mel_frames=args.train_frames or 600,
        text_length=args.text_length,
        steps=args.train_steps,
        seed=args.seed,
        amp=args.train_amp,
    )
    return {**result.to_dict(), "amp": args.train_amp}


def _load_parallel(name: str, checkpoint: Path | None, seed: int):
    import torch

    from speechsynth.models.registry import get_spec, load_model

    if checkpoint is not None:
        return load_model(checkpoint, expected_name=name).model, str(checkpoint)
    torch.manual_seed(seed)
    spec = get_spec(name)
    return spec.build(spec.make_config()).eval(), "random (default config)"


def format_parallel_report(report: dict) -> str:
    first = report["inference"][0]
    lines = [
        f"{report['model']}, weights: {report['weights']}, "
        f"{report['parameters'] / 1e6:.1f}M parameters, {report['threads']} thread(s)",
        f"inference: batch {first['batch_size']}, {first['text_length']} symbols, durations "
        f"forced to {first['mel_frames']} frames, {first['repeats']} repeats",
        f"  {'precision':9s} {'latency ms: mean':>17s} {'std':>6s} {'p90':>6s} {'p95':>6s} "
        f"{'p99':>6s} {'frames/s':>9s} {'mel error':>10s}",
    ]
    for result in report["inference"]:
        latency, error = result["latency"], result["mel_relative_error"]
        lines.append(
            f"  {result['precision']:9s} {latency_cells(latency, 17, scale=1e3, decimals=1)} "
            f"{result['mel_frames_per_s']:9.0f} {'-' if error is None else f'{error:.2%}':>10s}"
        )
    if report["training"]:
        lines.append(training_line(report["training"]))
    return "\n".join(lines)
