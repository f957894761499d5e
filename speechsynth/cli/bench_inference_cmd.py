"""`speechsynth bench inference`: the seeds' end-to-end latency table for a generator + vocoder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import positive_counts, split_names

INFERENCE_HELP = """\
inference: text in, audio out, as NVIDIA's seeds time it. --generator G (a text-to-mel model)
and --vocoder V each take a model name (tacotron2, fastpitch, fastspeech; waveglow, hifigan:
random weights at NVIDIA's default size), `bundled` (the demo voice, the default generator: its
checkpoint on torch, the export it ships on onnx), `griffin-lim` (the default vocoder), a
checkpoint or an export directory. For every --runtime
(torch, onnx: the checkpoint exported once, as `speechsynth export` does, run by ONNX Runtime
on the CPU in fp32) x --precision (fp32, bf16, int8, auto: each model's default here; a
vocoder has no int8 and runs an int8 row at fp32) x --batch-sizes (1,4,8), the synthesizer
reads --batch-size copies of one --text-length-character English text (128), --warmup
untimed times (1), then --repeats timed times (3). Reported per row, in the seeds' columns:
average latency, its standard deviation, 90 / 95 / 99 % tolerance intervals (s), throughput
(audio samples/s), speed-up over the fp32 row of the same runtime and batch size, average mels
generated, average audio length (s) and average RTF (audio seconds per second of latency),
then where the time goes: text front end, generator, vocoder and denoiser seconds per run;
printed as markdown tables (--json: one JSON object, each row with its run latencies).
Rows that cannot run here (bf16 on a CPU without native bfloat16 for WaveGlow, int8 for a
model without it, an `auto` that is fp32 here) are listed with the reason instead of figures.
--steps caps the decoder steps of models that have a step limit (default: the model's own;
Tacotron 2 on random weights may never stop on its own, and NVIDIA's tables run about 600).
--plot FILE writes a PNG: each configuration's latency distribution and its RTF. Everything
is one process, one run: compare rows of one report, not reports of different days."""

INFERENCE_EXAMPLES = """\
  speechsynth bench inference --batch-sizes 1,4,8 --runtime torch,onnx --plot bench.png
  speechsynth bench inference --generator fastpitch --vocoder waveglow --batch-sizes 1 --json
  speechsynth bench inference --generator tacotron2 --steps 600 --precision fp32,int8"""


def add_inference_arguments(parser: argparse.ArgumentParser) -> None:
    """The `bench inference` flags; --precision, --text-length, --repeats, --warmup, --steps,
    --threads, --seed, --vocoder and --json are the bench parser's own."""
    group = parser.add_argument_group("inference")
    group.add_argument(
        "--generator", metavar="G", default="bundled", help="text-to-mel model (bundled)"
    )
    group.add_argument(
        "--batch-sizes",
        type=positive_counts,
        default=[1, 4, 8],
        metavar="N[,N...]",
        help="batch sizes (1,4,8)",
    )
    group.add_argument(
        "--runtime",
        type=split_names,
        default=["torch"],
        metavar="R[,R...]",
        help="torch and/or onnx (torch)",
    )
    group.add_argument("--plot", type=Path, metavar="FILE", help="write a PNG of the results")


def run_inference_bench(args: argparse.Namespace) -> int:
    from speechsynth.evaluate.bench_tables import inference_markdown
    from speechsynth.evaluate.pipeline_speed import InferenceBenchOptions, measure_pipeline_speed

    options = InferenceBenchOptions(
        generator=args.generator,
        vocoder=args.vocoder or "griffin-lim",
        batch_sizes=tuple(args.batch_sizes),
        precisions=tuple(args.precision or ("fp32", "auto")),
        runtimes=tuple(args.runtime),
        text_length=args.text_length,
        repeats=args.repeats,
        warmup=args.warmup,
        max_decoder_steps=args.steps,
        seed=args.seed,
        threads=args.threads,
    )
    report = measure_pipeline_speed(options)
    if args.plot:
        from speechsynth.evaluate.bench_plot import plot_inference_report

        report["plot"] = str(plot_inference_report(report, args.plot))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(inference_markdown(report))
    return 0
