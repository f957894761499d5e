"""`speechsynth say`: speak text with the bundled demo voice (or another) into one WAV file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from speechsynth.cli.help import add_command

DESCRIPTION = """\
Speak TEXT into one WAV file with the demo voice that ships with speechsynth: a small FastPitch
trained on this project's own CPU recipe, with a Griffin-Lim vocoder (see the voice's model card,
speechsynth/voices/MODEL_CARD.md). No download, no GPU.

TEXT may be long: it is split at sentence ends, spoken sentence by sentence and joined. Without
TEXT, the text is read from standard input. --voice takes another voice or any FastPitch,
FastSpeech or Tacotron 2 checkpoint (ours or NVIDIA's), or a `speechsynth export` directory;
--pace changes the speaking rate of a FastPitch voice.

streaming:
  --stream writes the audio as it is made, sentence by sentence (each sentence chunk is made
  alone, so the first sound comes after the first sentence, not the whole text): to standard
  output by default (`-o -`), as a WAV stream of unknown length or, with --format raw, as
  16-bit little-endian PCM at the voice's rate (22050 Hz for the demo voice); or to -o FILE,
  which grows as it is written (its header is fixed at the end, also on Ctrl-C). The summary
  (--json, or the one-line report) goes to standard error then, with the time to first audio.

The demo voice imitates a synthetic teacher voice (festival's US English 'slt' HTS voice reading
LJSpeech transcripts): it sounds like that voice, not like a person. A natural voice needs
LJSpeech and a GPU (`speechsynth train fastpitch`)."""

EPILOG = """\
examples:
  speechsynth say 'Any text you like.' -o hello.wav
  echo 'Read from a pipe.' | speechsynth say -o piped.wav
  speechsynth say --pace 0.8 'A little slower, please.' -o slow.wav
  speechsynth say --voice runs/fp/checkpoint_best.pt 'My own model.' -o mine.wav --json
  speechsynth say --stream --format raw 'Played while it is made.' | aplay -r 22050 -f S16_LE
  speechsynth say --stream -o growing.wav < chapter.txt"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "say", "speak text with the bundled voice", DESCRIPTION, EPILOG)
    parser.add_argument("text", nargs="?", metavar="TEXT", help="what to say (default: stdin)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="WAV",
        help="default: say.wav (with --stream: standard output, also as -o -)",
    )
    parser.add_argument("--voice", type=Path, metavar="CKPT", help="default: the demo voice")
    parser.add_argument("--vocoder", metavar="VOCODER", help="default: the voice's own")
    parser.add_argument("--pace", type=float, default=1.0, metavar="X", help="FastPitch rate")
    parser.add_argument("--seed", type=int, default=1234, metavar="N", help="(1234)")
    parser.add_argument(
        "--stream", action="store_true", help="write the audio as it is made (see streaming)"
    )
    parser.add_argument(
        "--format", choices=("wav", "raw"), default="wav", help="with --stream: wav or raw PCM"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run)


def _text(args: argparse.Namespace) -> str:
    from speechsynth.cli.text_cmd import read_stdin

    return args.text if args.text is not None else read_stdin()


def run(args: argparse.Namespace) -> int:
    if args.stream:
        return _run_streaming(args)
    from speechsynth.infer.voice import speak_to_file

    output = args.output or Path("say.wav")
    summary = speak_to_file(
        _text(args), output, args.voice, args.vocoder, pace=args.pace, seed=args.seed
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"wrote {output}: {summary['seconds']:.2f} s of audio in "
            f"{summary['synthesis_seconds']:.2f} s (real-time factor {summary['real_time_factor']})"
        )
    return 0


def _run_streaming(args: argparse.Namespace) -> int:
    from speechsynth.infer.voice import speak_streaming

    to_stdout = args.output is None or str(args.output) == "-"
    sink = sys.stdout.buffer if to_stdout else args.output
    summary = speak_streaming(
        _text(args), sink, args.format, args.voice, args.vocoder, args.pace, args.seed
    )
    report = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print(json.dumps(summary, indent=2), file=report)
    else:
        print(
            f"streamed {summary['seconds']:.2f} s of audio to {summary['output']}: first audio "
            f"after {summary['time_to_first_audio']:.2f} s, all in "
            f"{summary['synthesis_seconds']:.2f} s",
            file=report,
        )
    return 0
