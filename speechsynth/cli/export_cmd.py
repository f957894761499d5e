"""`speechsynth export`: a checkpoint to ONNX files that ONNX Runtime (or TensorRT) runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from speechsynth.cli.help import add_command
from speechsynth.cli.serve_cmd import add_repository_arguments, repository_options

DESCRIPTION = """\
export triton [--voice V] --output DIR: write a Triton model repository for the voice (default:
the bundled one): tts/config.pbtxt (Python backend, dynamic batching, the inputs and outputs
`speechsynth serve --help` describes), tts/1/model.py and a copy of the voice. A stock Triton
serves it when its Python has speechsynth installed (README, "Serving"); `speechsynth serve`
runs the same repository.

export [onnx] --model CKPT --output DIR: write a Tacotron 2 checkpoint (ours or NVIDIA's) as ONNX in
NVIDIA's three parts, with NVIDIA's input and output names, so NVIDIA's ONNX Runtime / TensorRT
host loops read them as well as ours:
  encoder.onnx       sequences [1, T] int64, sequence_lengths [1] -> memory, processed_memory, lens
  decoder_iter.onnx  one decoder step: the previous frame and the attention / LSTM states in,
                     the frame, the gate logit and the new states out (T is a dynamic axis)
  postnet.onnx       mel_outputs [1, 80, frames] -> mel_outputs_postnet
  speechsynth_onnx.json   the model config and text front end, so that
                     `speechsynth synthesize --model DIR` runs the export with ONNX Runtime.

Prenet dropout stays on at inference, as NVIDIA's model and export have it: the decoder graph
draws one 256-wide keep-mask per layer and step (shared by the batch). --no-prenet-dropout
exports a deterministic decoder instead (what the parity tests compare with PyTorch).

A WaveGlow checkpoint becomes NVIDIA's single waveglow.onnx (`convert_waveglow2onnx.py`):
mel [B, 80, T] and z [B, 8, 32 T] (standard normal noise) in, audio [B, 256 T] out, with
--sigma (0.6) fixed in the graph and NVIDIA's `infer_onnx` semantics (sigma scales the first 4
noise channels; the 4 early ones enter as given), plus speechsynth_waveglow_onnx.json.

A FastPitch (1.0 or 1.1) checkpoint becomes one graph, model.onnx: text [B, L] int64,
text_lengths [B], pace [1] and NVIDIA's pitch transforms as tensors (pitch_flatten,
pitch_invert, pitch_amplify, pitch_shift_hz, each [1]; neutral values 0, 0, 1, 0) in; mels
[B, 80, T], mel_lengths, durations and pitch out. A FastSpeech checkpoint: text, text_lengths
and alpha [1] in; mels, mel_lengths and durations out. Batch and text length are dynamic.
`synthesize --model DIR` runs them with --pace / --pitch-* / --alpha (a custom pitch function
needs the PyTorch checkpoint).

--quantize int8 quantizes every graph with ONNX Runtime's dynamic quantization: ONNX Runtime's
basic optimisations first (they fold the weight transposes), then the weights of the matrix
products (attention and linear layers) int8 per output channel (7-bit range), their inputs
quantized on the fly; convolutions stay fp32. The manifest records "quantization": "int8" and
the export runs as any other. `speechsynth bench MODEL --precision fp32,onnx,onnx-int8`
measures its mel error and speed on this machine (README, "speechsynth export").

Files are written to a staging directory and moved into DIR when all of them exported (and
were quantized); the manifest is written last."""

EPILOG = """\
examples:
  speechsynth export --model runs/t2/checkpoint_best.pt --output t2-onnx
  speechsynth synthesize --model t2-onnx --text 'Hello from ONNX Runtime.' -o out
  speechsynth export --model nvidia_tacotron2.pt --output t2-onnx --no-prenet-dropout --json
  speechsynth export --model waveglow.pt --output waveglow-onnx --sigma 0.6
  speechsynth export --model FastPitch_checkpoint_1000.pt --output fastpitch-onnx
  speechsynth synthesize --model fastpitch-onnx --text 'Faster.' --pace 1.2 -o out
  speechsynth export --model FastPitch_checkpoint_1000.pt --output fastpitch-int8 --quantize int8
  speechsynth export triton --voice fastpitch-onnx --output model_repository --max-batch-size 8"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "export",
        "export a model to ONNX (Tacotron 2, FastPitch, FastSpeech, WaveGlow)",
        DESCRIPTION,
        EPILOG,
    )
    parser.add_argument(
        "format",
        nargs="?",
        choices=("onnx", "triton"),
        default="onnx",
        metavar="FORMAT",
        help="onnx (default): --model as ONNX; triton: a Triton model repository of --voice",
    )
    parser.add_argument("--model", type=Path, metavar="CKPT", help="checkpoint (onnx)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--no-prenet-dropout",
        action="store_true",
        help="export a deterministic decoder (default: prenet dropout on, as NVIDIA)",
    )
    parser.add_argument(
        "--sigma", type=float, default=0.6, help="WaveGlow: noise scale fixed in the graph (0.6)"
    )
    parser.add_argument("--opset", type=int, default=18, metavar="N", help="ONNX opset (18)")
    parser.add_argument(
        "--quantize",
        metavar="MODE",
        help="int8: ONNX Runtime dynamic quantization of every graph (default: fp32 graphs)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    add_repository_arguments(parser.add_argument_group("triton"))
    parser.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.format == "triton":
        return run_export_triton(args)
    if args.model is None:
        print("speechsynth: error: export onnx needs --model CKPT", file=sys.stderr)
        return 2
    from speechsynth.export.exporters import ExportOptions, export_checkpoint

    options = ExportOptions(args.opset, not args.no_prenet_dropout, args.sigma, args.quantize)
    summary = export_checkpoint(args.model, args.output, options)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        files = ", ".join(summary["files"].values())
        quantized = f" ({summary['quantization']})" if summary.get("quantization") else ""
        print(f"wrote {files}{quantized} and the manifest to {summary['directory']}")
    return 0


def run_export_triton(args: argparse.Namespace) -> int:
    from speechsynth.serve.repository import write_repository

    repository = write_repository(args.output, repository_options(args))
    summary = {"repository": str(repository), "models": ["tts", "generator", "vocoder"]}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote the Triton model repository {repository} (tts, generator, vocoder)")
    return 0
