"""`speechsynth voice pack`: turn a training checkpoint into a small voice file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command

DESCRIPTION = """\
voice pack CKPT -o VOICE.pt: keep only what synthesis needs from a training checkpoint (the
moving average of the weights when the run kept one, else the weights; the model and text
config), stored in fp16 unless --fp32, with the vocoder settings the voice is to be heard with
and an optional model card (--card FILE.json). `speechsynth say --voice VOICE.pt` and
`synthesize --model VOICE.pt` read it; the demo voice in speechsynth/voices/ is one."""

EPILOG = """\
examples:
  speechsynth voice pack runs/voice/checkpoint_best.pt -o speechsynth/voices/demo.pt \\
      --griffin-lim-iters 60 --card runs/voice/card.json"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "voice", "pack a checkpoint as a voice", DESCRIPTION, EPILOG)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pack = add_command(actions, "pack", "pack a checkpoint as a voice file", DESCRIPTION, EPILOG)
    pack.add_argument("checkpoint", type=Path, metavar="CKPT", help="a speechsynth checkpoint")
    pack.add_argument("-o", "--output", type=Path, required=True, metavar="VOICE.pt")
    pack.add_argument("--fp32", action="store_true", help="keep fp32 weights (default: fp16)")
    pack.add_argument("--vocoder", default="griffin-lim", help="(griffin-lim)")
    pack.add_argument("--griffin-lim-iters", type=int, default=60, metavar="N", help="(60)")
    pack.add_argument("--card", type=Path, metavar="FILE.json", help="model card facts")
    pack.add_argument("--json", action="store_true", help="print a JSON summary")
    pack.set_defaults(run=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    from speechsynth.data.formats import read_lines
    from speechsynth.errors import SpeechSynthError
    from speechsynth.infer.voice_pack import pack_voice

    card = None
    if args.card is not None:
        try:
            card = json.loads("\n".join(read_lines(args.card)))
        except json.JSONDecodeError as error:
            raise SpeechSynthError(f"{args.card}: not valid JSON ({error})") from None
    settings = {"vocoder": args.vocoder, "griffin_lim_iters": args.griffin_lim_iters}
    summary = pack_voice(
        args.checkpoint, args.output, fp16=not args.fp32, settings=settings, card=card
    )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"wrote {summary['output']}: {summary['model']}, {summary['parameters']:,} values "
            f"in {summary['dtype']}, {summary['bytes'] / 1e6:.1f} MB"
        )
    return 0
