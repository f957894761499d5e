"""`speechsynth text`: show how text becomes model input (cleaned text, symbols, ids)."""

from __future__ import annotations

import argparse
import json
import sys

from speechsynth.cli.help import add_cleaners_option, add_command, cleaner_names
from speechsynth.errors import SpeechSynthError
from speechsynth.text import CLEANERS, SYMBOLS, TextProcessor

SUMMARY = "show the cleaned text, symbols and symbol ids for some text"

DESCRIPTION = f"""\
Show what the models are fed for TEXT: the text after cleaning (numbers, money, times and
abbreviations spelled out), its symbols in NVIDIA's 148-symbol table and their ids.
Text in curly braces is ARPAbet and is passed through uncleaned: "{{HH AH0 L OW1}}".
Characters outside the symbol table are dropped with a warning.

cleaners: {", ".join(CLEANERS)}
  english_cleaners_plus (default) is our normaliser; english_cleaners is NVIDIA's, exactly
  (use it to reproduce the inputs of NVIDIA's published checkpoints)."""

EPILOG = """\
examples:
  speechsynth text 'Dr. Smith paid $3.50'
  speechsynth text --cleaners english_cleaners 'Dr. Smith paid $3.50'
  speechsynth text --p-arpabet 1 'Hello world'            dictionary words as ARPAbet
  speechsynth text --p-arpabet 0.5 --seed 7 'Hello world'
  echo 'Hello {HH AH0 L OW1}' | speechsynth text --json

(Use single quotes in a shell, or "$3" is replaced before speechsynth sees it.)"""

SPACE_MARK = "␣"


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "text", SUMMARY, DESCRIPTION, EPILOG)
    parser.add_argument(
        "text",
        nargs="?",
        metavar="TEXT",
        help="the text to process; omit it or give '-' to read standard input",
    )
    add_cleaners_option(parser)
    parser.add_argument(
        "--p-arpabet",
        type=float,
        default=0.0,
        metavar="P",
        help="probability (0-1) of writing each CMUdict word as ARPAbet, as FastPitch "
        "training does (default: 0)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, metavar="N", help="random seed for --p-arpabet"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object {"input", "cleaned", "symbols", "ids", "cleaners"}',
    )
    parser.set_defaults(run=run)


def read_stdin() -> str:
    """Text piped on standard input, which must be UTF-8."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        raise SpeechSynthError("no TEXT given: pass it as an argument or pipe it on stdin")
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:
        return stdin.read()
    data = buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpeechSynthError(
            f"the input on stdin is not UTF-8 text (byte {data[error.start]:#04x} at "
            f"offset {error.start}); convert it first, e.g. with iconv"
        ) from None


def _show_symbol(symbol: str) -> str:
    return SPACE_MARK if symbol == " " else symbol


def run(args: argparse.Namespace) -> int:
    text = read_stdin().strip() if args.text in (None, "-") else args.text
    names = cleaner_names(args)
    processor = TextProcessor(names, p_arpabet=args.p_arpabet, seed=args.seed)
    cleaned = processor.clean(text)
    ids = processor.encode_cleaned(cleaned, source=text)
    symbols = [SYMBOLS[symbol_id] for symbol_id in ids]
    if args.json:
        result = {
            "input": text,
            "cleaned": cleaned,
            "symbols": symbols,
            "ids": ids,
            "cleaners": list(names),
        }
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"cleaners: {', '.join(names)}")
    print(f"cleaned:  {cleaned}")
    print(f"symbols:  {' '.join(_show_symbol(symbol) for symbol in symbols)}")
    print(f"ids:      {' '.join(map(str, ids))}")
    print(f"length:   {len(ids)}")
    return 0
