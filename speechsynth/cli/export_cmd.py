"""`speechsynth export`: a checkpoint to ONNX files that ONNX Runtime (or TensorRT) runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command

DESCRIPTION = """\
export --model CKPT --output DIR: write a Tacotron 2 checkpoint (ours or NVIDIA's) as ONNX in
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

Files are written to a staging directory and moved into DIR when all of them exported; the
manifest is written last. FastPitch and FastSpeech export are not implemented yet."""

EPILOG = """\
examples:
  speechsynth export --model runs/t2/checkpoint_best.pt --output t2-onnx
  speechsynth synthesize --model t2-onnx --text 'Hello from ONNX Runtime.' -o out
  speechsynth export --model nvidia_tacotron2.pt --output t2-onnx --no-prenet-dropout --json
  speechsynth export --model waveglow.pt --output waveglow-onnx --sigma 0.6"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands, "export", "export a model to ONNX (Tacotron 2, WaveGlow)", DESCRIPTION, EPILOG
    )
    parser.add_argument("--model", type=Path, required=True, metavar="CKPT", help="checkpoint")
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
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from speechsynth.errors import SpeechSynthError
    from speechsynth.export.tacotron2 import export_tacotron2
    from speechsynth.export.waveglow import export_waveglow
    from speechsynth.models.registry import load_model

    loaded = load_model(args.model)
    if loaded.name == "tacotron2":
        summary = export_tacotron2(
            loaded, args.output, prenet_dropout=not args.no_prenet_dropout, opset=args.opset
        )
    elif loaded.name == "waveglow":
        summary = export_waveglow(loaded, args.output, sigma=args.sigma, opset=args.opset)
    else:
        raise SpeechSynthError(
            f"{args.model}: ONNX export of {loaded.name} is not implemented yet "
            "(Tacotron 2 and WaveGlow are)"
        )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        files = ", ".join(summary["files"].values())
        print(f"wrote {files} and the manifest to {summary['directory']}")
    return 0
