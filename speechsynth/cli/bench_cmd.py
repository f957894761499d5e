"""`speechsynth bench MODEL`: how fast a model synthesises and trains on this machine."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from speechsynth.cli.bench_inference_cmd import (
    INFERENCE_EXAMPLES,
    INFERENCE_HELP,
    add_inference_arguments,
    run_inference_bench,
)
from speechsynth.cli.bench_train_cmd import TRAIN_HELP, add_train_arguments, run_train_bench
from speechsynth.cli.client_cmd import add_timeout_argument
from speechsynth.cli.help import add_command, positive_counts, split_names
from speechsynth.serve.addresses import client_protocol, server_url

DESCRIPTION = """\
Measure Tacotron 2, WaveGlow, FastPitch, FastSpeech or HiFi-GAN on this machine, with random
weights in NVIDIA's default configuration or the weights of --checkpoint.

Tacotron 2 (28M parameters) inference: each of --repeats runs synthesises --batch-size random
texts of --text-length symbols for exactly --steps decoder steps (the stop gate is ignored),
with the prenet dropout on, as NVIDIA's inference. Reported: milliseconds per decoder step
(mean and std over the repeats; encoder and postnet excluded), the latency of a whole run
(mean, std, 90/95/99th percentiles, in seconds, as NVIDIA's latency tables) and mel frames per
second.

--precision picks how the inference runs (comma-separated to compare several, in one process):
  fp32       the model as it is;
  bf16       FastPitch / FastSpeech: the convolutions of the decoder's feed-forward blocks in
             bfloat16, the rest (encoder, predictors, attention, positions) fp32; Tacotron 2,
             WaveGlow: the whole model in bfloat16;
  int8       (Tacotron 2) the decoder's two LSTM cells dynamically quantized to int8;
  onnx       the model exported as `speechsynth export` does (to a temporary directory) and
             run by ONNX Runtime on the CPU, fp32, with as many threads as torch;
  onnx-int8  the same export quantized as `speechsynth export --quantize int8`;
  all        every one of these that runs well here (bf16 only where the CPU has native
             bfloat16: elsewhere it is emulated, many times slower than fp32).
The default is fp32 and the model's default precision on this CPU (what `synthesize` and `say`
use: Tacotron 2 int8; FastPitch, FastSpeech and WaveGlow bf16 where the CPU has native
bfloat16, else fp32). Each row reports its mel error against the fp32 model (relative RMS;
FastPitch / FastSpeech also the max absolute difference and whether every symbol's rounded
duration is fp32's) and its speed-up: fp32's median latency over its own. Tacotron 2: bf16 and
int8 compare a teacher-forced mel (same input, same dropout masks); the ONNX rows have none
(their prenet dropout draws inside ONNX Runtime).

Every report ends with a summary, one line per option, which --json prints as `results`:
precision, threads, latency_s (median), speedup_vs_fp32, relative_rms_error (0.01 = 1 %) and,
for acoustic models, durations_identical (null where not compared). Compare options within
one run only: another run, even minutes later on this machine, can be 20 % off.

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
--precision fp32, bf16 and/or onnx; each other precision reports the relative RMS difference
of its audio from fp32's (same mels, same noise). No training part.

HiFi-GAN: NVIDIA's V1 generator (random weights, or --checkpoint in NVIDIA's or jik876's
layout), weight norm folded, no denoiser (as NVIDIA's inference), vocoding as WaveGlow above at
each --precision (fp32, bf16); then WaveGlow-256 at fp32 on the same mels in the same run, the
comparison NVIDIA's CPU users make. The summary's last column names the model.

FastPitch / FastSpeech: each of --repeats calls reads --batch-size random texts of
--text-length symbols; reported: latency (mean, std, percentiles), mel frames per second, the
frames made and the mel error. Without an ONNX precision, the durations are forced to add up to
--mel-frames frames (NVIDIA's protocol: the same work whatever the weights predict). The ONNX
graphs take no durations, so with onnx or onnx-int8 among the precisions every row runs the
model's own predicted durations on the same texts (same model, same inputs: the same work for
every runtime) and reports the frames it made; random weights are then given realistic
durations: the duration predictor's output layer is set (weights 0, bias log(1 + d)) so that
every symbol lasts d = --mel-frames / --text-length frames, rounded (600 / 128: 5 frames, 640
in all). Training:
--train-steps steps at --train-batch-size of --train-frames-frame mels (600 by default for
these models) as the trainer takes them: FastPitch 1.1 with its learned aligner and alignment
search, NVIDIA's loss, clipping, a LAMB step; FastSpeech with teacher durations and Adam.

serve: NVIDIA's Triton benchmark client against a running `speechsynth serve` (or a stock
Triton serving an `export triton` repository) at --url: --runs requests (1000), one at a time,
each of --batch-size copies of one English text of --text-length characters (128), after one
warm-up; printed as the seed prints them: batch size, input size, avg latency (s), latency std
(s), latency interval 50% / 90% / 95% / 99% (s), average mels generated, average audio
generated (s) and average real-time factor (audio seconds per second of latency); then, for
each of --concurrency (1), that many clients sending --runs requests in all: requests/s and
seconds of audio per second. --protocol http (default) or grpc (--url then names the gRPC port).
--stream times the decoupled `tts_stream` model instead (gRPC, one text per request): the time
to the first audio chunk (mean, 50 / 90 / 99 %) beside the latency to the last, and the longest
stall: how long a listener who plays the first chunk at once waits, at worst, for a later one
(0: the stream never falls behind real time).
--in-process times the same pipeline (the served models' code, --voice, --vocoder) in this
process with no server. --start-server starts `speechsynth serve` for --voice and --vocoder on
free local ports and times it and the in-process pipeline side by side in one run (their
requests interleaved, one each in turn, after --warmup untimed requests each), so the server's
overhead is a difference from one run; it prints both reports, the overhead and the README's
table rows, and measures throughput only at the --concurrency levels given. There --voice and
--vocoder also take a model name (fastpitch, fastspeech, waveglow): random weights at NVIDIA's
default size, written as checkpoints for the server.

Timing on a CPU: start it with OMP_WAIT_POLICY=PASSIVE in the environment when other processes
share the cores (OpenMP reads it at start-up; busy-waiting threads otherwise slow everyone),
keep the machine otherwise idle, and run it twice: the first run's numbers can be off.

"""
DESCRIPTION += f"\n\n{INFERENCE_HELP}\n\n{TRAIN_HELP}"

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
  speechsynth bench fastspeech --precision fp32,bf16 --train-steps 0 --json
  OMP_WAIT_POLICY=PASSIVE speechsynth bench fastpitch --precision fp32,onnx,onnx-int8 --threads 1
  OMP_WAIT_POLICY=PASSIVE speechsynth bench fastpitch --precision all --threads 2 --json
  speechsynth bench serve --url 127.0.0.1:8000 --batch-size 8 --runs 100 --concurrency 1,2,4,8
  speechsynth bench serve --start-server --runs 20
  speechsynth bench serve --start-server --voice fastpitch --vocoder waveglow --runs 2
"""
EPILOG += (
    INFERENCE_EXAMPLES + "\n  speechsynth bench train --model fastpitch --nproc 1,2 --amp --json"
)


DECODER_STEPS = 600  # NVIDIA's Tacotron 2 benchmark: about 7 s of speech


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
        help="tacotron2, waveglow, fastpitch, fastspeech, hifigan; serve (a running server); "
        "inference "
        "(generator + vocoder, text in, audio out); train (training throughput and scaling)",
    )
    parser.add_argument(
        "--checkpoint", type=Path, metavar="CKPT", help="weights to use (default: random)"
    )
    parser.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help=f"decoder steps per run ({DECODER_STEPS}; inference: the model's own limit)",
    )
    parser.add_argument(
        "--batch-size", type=int, metavar="N", help="texts per run (1; bench train: 4 per step)"
    )
    parser.add_argument(
        "--text-length", type=int, default=128, metavar="N", help="symbols per text (128)"
    )
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="timed runs (3)")
    parser.add_argument(
        "--precision",
        type=split_names,
        metavar="P[,P...]",
        help="fp32, bf16, int8, onnx, onnx-int8, or all (default: fp32 and the model's default)",
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
        "--amp",
        action="store_true",
        help="time training steps in mixed precision too, as train --amp (bench MODEL: "
        "FastPitch / FastSpeech; bench train: every model)",
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
    serve = parser.add_argument_group("serve")
    serve.add_argument("--url", help="server (127.0.0.1:8000; gRPC, --stream: 8001)")
    serve.add_argument("--protocol", choices=("http", "grpc"), default="http", help="(http)")
    serve.add_argument("--runs", type=int, default=1000, metavar="N", help="requests (1000)")
    serve.add_argument(
        "--concurrency",
        type=positive_counts,
        metavar="C[,C...]",
        help="clients at once for the throughput (1; --start-server: none)",
    )
    serve.add_argument(
        "--warmup", type=int, default=1, metavar="N", help="untimed requests first (1)"
    )
    serve.add_argument(
        "--in-process",
        action="store_true",
        help="time the same pipeline in this process instead (no server): its overhead shows",
    )
    add_timeout_argument(serve)
    serve.add_argument(
        "--stream",
        action="store_true",
        help="time tts_stream (gRPC; batch 1): time to first audio beside the full latency",
    )
    serve.add_argument(
        "--start-server",
        action="store_true",
        help="start a server for --voice and time it beside the same pipeline in-process",
    )
    serve.add_argument(
        "--voice", metavar="V", help="--in-process / --start-server: the voice (bundled)"
    )
    serve.add_argument(
        "--vocoder",
        metavar="VOC",
        help="serve --in-process / --start-server: its vocoder (the voice's); "
        "inference: the vocoder (griffin-lim)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_inference_arguments(parser)
    add_train_arguments(parser)
    parser.set_defaults(run=run_bench)


def batch_size(args: argparse.Namespace, default: int = 1) -> int:
    """--batch-size, or the command's default when it is not given."""
    return default if args.batch_size is None else args.batch_size


def run_bench(args: argparse.Namespace) -> int:
    """`bench serve | inference | train`, or one model's benchmark."""
    return PIPELINE_BENCHMARKS.get(args.model, run_model_bench)(args)


def run_model_bench(args: argparse.Namespace) -> int:
    """One model's inference (and training) speed, each precision beside fp32."""
    from speechsynth.evaluate.speed import SpeedOptions, measure_speed
    from speechsynth.train.bench import training_report

    options = SpeedOptions(
        checkpoint=args.checkpoint,
        precisions=tuple(args.precision) if args.precision else None,
        steps=DECODER_STEPS if args.steps is None else args.steps,
        batch_size=batch_size(args),
        text_length=args.text_length,
        repeats=args.repeats,
        seed=args.seed,
        threads=args.threads,
        channels=tuple(args.channels),
        mel_frames=args.mel_frames,
        sigma=args.sigma,
        denoiser_strength=args.denoiser_strength,
    )
    report = measure_speed(args.model, options)
    report["training"] = training_report(
        args.model,
        args.checkpoint,
        steps=args.train_steps,
        batch_size=args.train_batch_size,
        mel_frames=args.train_frames,
        text_length=args.text_length,
        amp=args.train_amp,
        seed=args.seed,
        threads=args.threads,
    )
    print(json.dumps(report, indent=2) if args.json else format_any_report(report))
    return 0


def format_any_report(report: dict) -> str:
    """The text of a report, in the layout `evaluate.speed` says it has, and its summary."""
    text = REPORT_FORMATTERS[report["report"]](report)
    return f"{text}\n{format_summary(report)}" if report.get("results") else text


def format_summary(report: dict) -> str:
    """The `results` as a table: one line per option measured."""
    models = {result.get("model") for result in report["results"]}
    last_column = "model" if len(models) > 1 else "durations"
    lines = [
        f"summary (default precision here: {report['default_precision']}):",
        f"  {'precision':9s} {'threads':>7s} {'latency s (median)':>18s} {'speed-up':>8s} "
        f"{'rel. RMS error':>14s} {last_column:>9s}",
    ]
    for result in report["results"]:
        same = result.get("durations_identical")
        durations = "-" if same is None else ("same" if same else "CHANGED")
        if len(models) > 1:  # bench hifigan: WaveGlow's row beside it
            durations = result["model"]
        lines.append(
            f"  {result['precision']:9s} {result['threads']:7d} {result['latency_s']:18.4f} "
            f"{_cell(result['speedup_vs_fp32'], '.2f', 7)}x "
            f"{_cell(result['relative_rms_error'], '.3%', 14)} {durations:>9s}"
        )
    return "\n".join(lines)


def _cell(value: float | None, spec: str, width: int) -> str:
    return f"{'-' if value is None else format(value, spec):>{width}s}"


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
        f"{'p90':>6s} {'p95':>6s} {'p99':>6s} {'frames/s':>9s} {'mel error':>10s} {'speed':>6s}",
    ]
    for result in report["inference"]:
        lines.append(
            f"  {result['precision']:9s} "
            f"{result['ms_per_step_mean']:7.3f} ± {result['ms_per_step_std']:5.3f} "
            f"{latency_cells(result['latency'], 16)} {result['mel_frames_per_s']:9.0f} "
            f"{_cell(result['mel_relative_error'], '.2%', 10)} {_speedup(result)}"
        )
    if report.get("training"):
        lines.append(training_line(report["training"]))
    return "\n".join(lines)


def _speedup(result: dict) -> str:
    """`1.23x`: the fp32 row's latency over this row's; `-` without an fp32 row."""
    speedup = result.get("speedup")
    return f"{'-' if speedup is None else f'{speedup:.2f}x':>6s}"


def format_waveglow_report(report: dict) -> str:
    lines = []
    for run in report["runs"]:
        first = run["inference"][0]
        lines += [
            f"{run['label']}, weights: {run['weights']}, "
            f"{run['parameters'] / 1e6:.1f}M parameters, {report['threads']} thread(s)",
            f"vocoding: batch {first['batch_size']}, {first['mel_frames']} mel frames "
            f"({first['samples']:,} samples), {first['repeats']} repeats",
            f"  {'precision':9s} {'latency s: mean':>16s} {'std':>6s} {'p90':>6s} {'p95':>6s} "
            f"{'p99':>6s} {'samples/s':>10s} {'RTF':>6s} {'audio error':>12s} {'speed':>6s}",
        ]
        for result in run["inference"]:
            lines.append(
                f"  {result['precision']:9s} {latency_cells(result['latency'], 16)} "
                f"{result['samples_per_s']:10,.0f} {result['real_time_factor']:6.3f} "
                f"{_cell(result['audio_relative_error'], '.3%', 12)} {_speedup(result)}"
            )
    return "\n".join(lines)


def format_parallel_report(report: dict) -> str:
    first = report["inference"][0]
    if first.get("durations", "forced") == "forced":
        durations = f"durations forced to {first['mel_frames']} frames"
    else:
        durations = "durations predicted by the model (the same texts for every row)"
    lines = [
        f"{report['model']}, weights: {report['weights']}, "
        f"{report['parameters'] / 1e6:.1f}M parameters, {report['threads']} thread(s)",
        f"inference: batch {first['batch_size']}, {first['text_length']} symbols, "
        f"{durations}, {first['repeats']} repeats",
        f"  {'precision':9s} {'latency ms: mean':>17s} {'std':>6s} {'p90':>6s} {'p95':>6s} "
        f"{'p99':>6s} {'frames':>6s} {'frames/s':>9s} {'mel error':>10s} {'max diff':>9s} "
        f"{'speed':>6s}",
    ]
    for result in report["inference"]:
        lines.append(
            f"  {result['precision']:9s} {latency_cells(result['latency'], 17, 1e3, 1)} "
            f"{result['mel_frames']:6d} {result['mel_frames_per_s']:9.0f} "
            f"{_cell(result['mel_relative_error'], '.2%', 10)} "
            f"{_cell(result.get('mel_max_abs_diff'), '.2e', 9)} {_speedup(result)}"
        )
    if report.get("training"):
        lines.append(training_line(report["training"]))
    return "\n".join(lines)


REPORT_FORMATTERS = {
    "autoregressive": format_report,
    "vocoder": format_waveglow_report,
    "parallel": format_parallel_report,
}


def run_serve_bench(args: argparse.Namespace) -> int:
    from speechsynth.serve.client import (
        ClientOptions,
        LocalSpeaker,
        ServerBenchOptions,
        TtsClient,
        benchmark_server,
        benchmark_started_server,
    )

    concurrency = args.concurrency or ([] if args.start_server else [1])
    options = ServerBenchOptions(
        args.runs, batch_size(args), args.text_length, tuple(concurrency), args.warmup, args.stream
    )
    protocol = client_protocol(args.protocol, args.stream)
    if args.start_server:
        report = benchmark_started_server(args.voice, args.vocoder, options, protocol, args.timeout)
        print(json.dumps(report, indent=2) if args.json else format_side_by_side(report))
        return 0
    if args.in_process:
        speaker = LocalSpeaker(Path(args.voice) if args.voice else None, args.vocoder)
        report = benchmark_server(lambda: speaker, options)
    else:
        client_options = ClientOptions(
            server_url(args.url, protocol), protocol, batch_size(args), timeout_s=args.timeout
        )
        report = benchmark_server(lambda: TtsClient(client_options), options)
    report["in_process"] = args.in_process
    print(json.dumps(report, indent=2) if args.json else format_serve_report(report))
    return 0


def format_side_by_side(report: dict) -> str:
    """Both reports, the server's overhead, then the README table's rows."""
    server, local = report["server"], report["in_process"]
    server["in_process"], local["in_process"] = False, True
    overhead = report["server_overhead_s"]
    lines = [
        f"voice: {report['voice']}, vocoder: {report['vocoder']}",
        format_serve_report(server),
        "",
        format_serve_report(local),
        "",
        f"server overhead: {overhead:+.4f} s per request "
        f"({overhead / local['avg_latency_s']:+.1%} of the in-process latency)",
        "",
        "| | batch | avg latency (s) | std | 50% | 90% | 95% | 99% | mels | audio (s) | RTF |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        _table_row(f"server ({report['protocol'].upper()})", server),
        _table_row("in-process", local),
    ]
    return "\n".join(lines)


def _table_row(label: str, report: dict) -> str:
    cells = [label, str(report["batch_size"])]
    cells += [f"{report[key]:.3f}" for key in ("avg_latency_s", "latency_std_s")]
    cells += [f"{value:.3f}" for value in report["latency_interval_s"].values()]
    cells.append(f"{report['average_mels_generated']:.0f}")
    cells.append(f"{report['average_audio_generated_s']:.2f}")
    cells.append(f"{report['average_real_time_factor']:.2f}")
    return "| " + " | ".join(cells) + " |"


def format_serve_report(report: dict) -> str:
    """The seed's benchmark lines, then one throughput line per concurrency."""
    intervals = report["latency_interval_s"]
    where = "in this process (no server)" if report.get("in_process") else "through the server"
    lines = [
        f"tts {where}",
        f"batch size = {report['batch_size']}",
        f"input size = {report['input_size']}",
        f"avg latency (s) = {report['avg_latency_s']:.4f}",
        f"latency std (s) = {report['latency_std_s']:.4f}",
        *(f"latency interval {key} (s) = {value:.4f}" for key, value in intervals.items()),
        f"average mels generated = {report['average_mels_generated']:.0f}",
        f"average audio generated (s) = {report['average_audio_generated_s']:.4f}",
        f"average real-time factor = {report['average_real_time_factor']:.4f}",
    ]
    if "avg_time_to_first_audio_s" in report:
        lines.append(f"avg time to first audio (s) = {report['avg_time_to_first_audio_s']:.4f}")
        lines += [
            f"time to first audio interval {key} (s) = {value:.4f}"
            for key, value in report["time_to_first_audio_interval_s"].items()
        ]
        lines.append(f"longest stall after the first audio (s) = {report['longest_stall_s']:.4f}")
    for level in report["throughput"]:
        lines.append(
            f"concurrency {level['concurrency']}: {level['requests_per_s']:.2f} requests/s, "
            f"{level['audio_seconds_per_s']:.2f} s of audio per second "
            f"({level['requests']} requests)"
        )
    return "\n".join(lines)


# `bench NAME` for the benchmarks of more than one model; any other NAME is one model's
PIPELINE_BENCHMARKS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": run_serve_bench,
    "inference": run_inference_bench,
    "train": run_train_bench,
}
