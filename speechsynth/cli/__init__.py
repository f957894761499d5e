"""The `speechsynth` command: one entry point, one sub-command per task."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from speechsynth import __version__
from speechsynth.cli import (
    bench_cmd,
    client_cmd,
    corpus_cmd,
    eval_cmd,
    export_cmd,
    prepare_cmd,
    say_cmd,
    serve_cmd,
    synthesize_cmd,
    text_cmd,
    train_cmd,
    voice_cmd,
)
from speechsynth.errors import SpeechSynthError

DESCRIPTION = """\
speechsynth trains, runs and serves NVIDIA's text-to-speech models (Tacotron 2, WaveGlow,
FastPitch, FastSpeech) with NVIDIA-compatible text and audio front ends.

Run `speechsynth COMMAND --help` for the details of one command."""

EPILOG = """\
examples:
  speechsynth say 'Hello there.' -o hello.wav     speak with the bundled demo voice
  speechsynth text 'Dr. Smith paid $3.50'        show cleaned text, symbols and IDs
  speechsynth prepare check DATA/LJSpeech-1.1     validate a dataset
  speechsynth prepare split DATA/LJSpeech-1.1     write train/val/test filelists
  speechsynth prepare mels DATA/LJSpeech-1.1      precompute log-mel spectrograms
  speechsynth train tacotron2 --dataset DATA/LJSpeech-1.1 --output runs/t2
  speechsynth synthesize --model tacotron2.pt -i phrases.txt -o out   text to WAV files
  speechsynth export --model tacotron2.pt --output t2-onnx   ONNX for ONNX Runtime / TensorRT
  speechsynth bench tacotron2 --precision fp32,int8   decoder ms/step, latency, training speed
  speechsynth serve --voice fastpitch-onnx            the voice on Triton Inference Server
  speechsynth export triton --voice V -o repo         a model repository for a stock Triton
  speechsynth corpus synth --engine festival --sentences lines.txt --out corpus
                                                  a dataset spoken by an offline synthesiser
  speechsynth eval intelligibility --voice fastpitch.pt --sentences eval.txt
                                                  ASR word error rate, next to the teacher's"""

COMMAND_MODULES = (
    say_cmd,
    text_cmd,
    prepare_cmd,
    train_cmd,
    synthesize_cmd,
    export_cmd,
    bench_cmd,
    corpus_cmd,
    eval_cmd,
    voice_cmd,
    serve_cmd,
    client_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speechsynth",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"speechsynth {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print debug messages as well as warnings"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )


# What `pip install speechsynth[train]` adds to the runtime (pyproject.toml), by import name.
TRAINING_PACKAGES = frozenset(
    {"torch", "yaml", "tensorboard", "parselmouth", "pocketsphinx", "jiwer", "onnxscript"}
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.run(args) or 0)
    except SpeechSynthError as error:
        print(f"speechsynth: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] not in TRAINING_PACKAGES:
            raise
        print(
            f"speechsynth: error: `speechsynth {args.command}` needs {error.name.split('.')[0]}, "
            "which the runtime-only install lacks: pip install 'speechsynth[train]'",
            file=sys.stderr,
        )
        return 2
    except OSError as error:  # a file the command reads or writes: never a bare traceback
        where = error.filename or "a file"
        print(f"speechsynth: error: {where}: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("speechsynth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `speechsynth text ... | head -1`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
