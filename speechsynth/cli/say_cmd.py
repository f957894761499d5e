"""`speechsynth say`: speak text with the bundled demo voice (or another) into one WAV file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command

DESCRIPTION = """\
Speak TEXT into one WAV file with the demo voice that ships with speechsynth: a small FastPitch
trained on this project's own CPU recipe, with a Griffin-Lim vocoder (see the voice's model card,
speechsynth/voices/MODEL_CARD.md). No download, no GPU.

TEXT may be long: it is split at sentence ends, spoken sentence by sentence and joined. Without
TEXT, the text is read from standard input. --voice takes another voice or any FastPitch,
FastSpeech or Tacotron 2 checkpoint (ours or NVIDIA's); --pace changes the speaking rate of a
FastPitch voice.

The demo voice imitates a synthetic teacher voice (festival's US English 'slt' HTS voice reading
LJSpeech transcripts): it sounds like that voice, not like a person. A natural voice needs
LJSpeech and a GPU (`speechsynth train fastpitch`)."""

EPILOG = """\
examples:
  speechsynth say 'Any text you like.' -o hello.wav
  echo 'Read from a pipe.' | speechsynth say -o piped.wav
  speechsynth say --pace 0.8 'A little slower, please.' -o slow.wav
  speechsynth say --voice runs/fp/checkpoint_best.pt 'My own model.' -o mine.wav --json"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "say", "speak text with the bundled voice", DESCRIPTION, EPILOG)
    parser.add_argument("text", nargs="?", metavar="TEXT", help="what to say (default: stdin)")
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("say.wav"), metavar="WAV", help="(say.wav)"
    )
    parser.add_argument("--voice", type=Path, metavar="CKPT", help="default: the demo voice")
    parser.add_argument("--vocoder", metavar="VOCODER", help="default: the voice's own")
    parser.add_argument("--pace", type=float, default=1.0, metavar="X", help="FastPitch rate")
    parser.add_argument("--seed", type=int, default=1234, metavar="N", help="(1234)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run)


def _text(args: argparse.Namespace) -> str:
    from speechsynth.cli.text_cmd import read_stdin

    return args.text if args.text is not None else read_stdin()


def run(args: argparse.Namespace) -> int:
    from speechsynth.infer.voice import speak_to_file

    summary = speak_to_file(
        _text(args), args.output, args.voice, args.vocoder, pace=args.pace, seed=args.seed
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"wrote {args.output}: {summary['seconds']:.2f} s of audio in "
            f"{summary['synthesis_seconds']:.2f} s (real-time factor {summary['real_time_factor']})"
        )
    return 0
