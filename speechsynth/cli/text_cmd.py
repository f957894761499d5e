"""`speechsynth text`: show how text becomes model input (cleaned text, symbols, ids)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from speechsynth.cli.help import add_cleaners_option, add_command, cleaner_names
from speechsynth.data.formats import read_lines
from speechsynth.errors import SpeechSynthError
from speechsynth.text import CLEANERS, DEFAULT_TEXT_RULES, SYMBOLS, TEXT_RULES, TextProcessor

SUMMARY = "show what a model reads for some text: cleaned text, ARPAbet, symbols and ids"

DESCRIPTION = f"""\
Show what the models are fed for TEXT: the text after cleaning (numbers, money, times and
abbreviations spelled out), the same with dictionary words as ARPAbet (when ARPAbet is on), its
symbols in NVIDIA's 148-symbol table and their ids.
Text in curly braces is ARPAbet and is passed through uncleaned: "{{HH AH0 L OW1}}".
Characters outside the symbol table are dropped with a warning.

With --model, the text is read exactly as that model reads it: the cleaners, ARPAbet rules and
probability its checkpoint (ours or NVIDIA's) or export directory records. NVIDIA FastPitch 1.1
checkpoints read english_cleaners_v2 with NVIDIA's ARPAbet rules (--rules nvidia_fastpitch11);
NVIDIA Tacotron 2, FastPitch 1.0 and FastSpeech read english_cleaners.

cleaners: {", ".join(CLEANERS)}
  english_cleaners_plus (default) is our normaliser; english_cleaners (Tacotron 2, FastPitch
  1.0, FastSpeech) and english_cleaners_v2 (FastPitch 1.1) are NVIDIA's, exactly.
rules: {", ".join(TEXT_RULES)}
  speechsynth (default) cleans the text between {{...}} spans whole and, with --p-arpabet, writes
  a word's first CMUdict pronunciation; nvidia_fastpitch11 is NVIDIA FastPitch 1.1's reader
  (currency first, each word cleaned on its own, ambiguous words and NVIDIA's heteronyms kept
  as letters, "'s" and plural "s" by rule)."""

EPILOG = """\
examples:
  speechsynth text 'Dr. Smith paid $3.50'
  speechsynth text --cleaners english_cleaners 'Dr. Smith paid $3.50'
  speechsynth text --model FastPitch_checkpoint_1000.pt 'At 3:30 pm the CEO paid $3.50'
  speechsynth text --model voice.pt -i sentences.txt       one JSON object per line
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
    parser.add_argument(
        "-i",
        "--input",
        metavar="FILE",
        help="read one text per line from FILE (UTF-8; blank lines skipped) and print one JSON "
        "object per text, in order (JSON lines, each with its line number)",
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="read the text as this model does: a checkpoint (ours or NVIDIA's) or a "
        "`speechsynth export` directory; replaces --cleaners, --rules and --p-arpabet",
    )
    add_cleaners_option(parser)
    parser.add_argument(
        "--rules",
        choices=list(TEXT_RULES),
        default=None,
        help=f"how text reaches the cleaners and CMUdict (default: {DEFAULT_TEXT_RULES})",
    )
    parser.add_argument(
        "--p-arpabet",
        type=float,
        default=None,
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
        help='print one JSON object {"input", "cleaned", "arpabet", "symbols", "ids", '
        '"cleaners", "rules"} ("arpabet" is null when ARPAbet is off)',
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


def _processor(args: argparse.Namespace) -> TextProcessor:
    if args.model is None:
        p_arpabet = 0.0 if args.p_arpabet is None else args.p_arpabet
        rules = args.rules or DEFAULT_TEXT_RULES
        return TextProcessor(cleaner_names(args), p_arpabet, args.seed, rules=rules)
    overridden = {"--cleaners": args.cleaners, "--rules": args.rules, "--p-arpabet": args.p_arpabet}
    given = [option for option, value in overridden.items() if value is not None]
    if given:
        raise SpeechSynthError(
            f"--model sets how text is read; drop {', '.join(given)} (or drop --model)"
        )
    from speechsynth.infer.runtimes import text_setup_of

    return TextProcessor.for_setup(text_setup_of(args.model), seed=args.seed)


def _texts(args: argparse.Namespace) -> list[tuple[int | None, str]]:
    """(line number or None, text) pairs to process."""
    if args.input is not None:
        if args.text is not None:
            raise SpeechSynthError("give TEXT or -i FILE, not both")
        lines = read_lines(Path(args.input))
        texts = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
        if not texts:
            raise SpeechSynthError(f"{args.input}: no text in the file; write one text per line")
        return texts
    return [(None, read_stdin().strip() if args.text in (None, "-") else args.text)]


def _result(processor: TextProcessor, text: str) -> dict[str, Any]:
    encoding = processor.process(text)
    return {
        "input": text,
        "cleaned": encoding.cleaned,
        "arpabet": encoding.arpabet,
        "symbols": [SYMBOLS[symbol_id] for symbol_id in encoding.ids],
        "ids": encoding.ids,
        "cleaners": list(processor.cleaner_names),
        "rules": processor.rules.name,
    }


def _process_lines(
    processor: TextProcessor, texts: list[tuple[int | None, str]], source: str
) -> list[dict[str, Any]]:
    results = []
    for number, text in texts:
        try:
            result = _result(processor, text)
        except SpeechSynthError as error:
            raise SpeechSynthError(f"{source}:{number}: {error}") from None
        results.append({"line": number, **result})
    return results


def _print_plain(result: dict[str, Any]) -> None:
    print(f"cleaners: {', '.join(result['cleaners'])} ({result['rules']} rules)")
    print(f"cleaned:  {result['cleaned']}")
    if result["arpabet"] is not None:
        print(f"arpabet:  {result['arpabet']}")
    print(f"symbols:  {' '.join(_show_symbol(symbol) for symbol in result['symbols'])}")
    print(f"ids:      {' '.join(map(str, result['ids']))}")
    print(f"length:   {len(result['ids'])}")


def run(args: argparse.Namespace) -> int:
    processor = _processor(args)
    texts = _texts(args)
    if args.input is not None:
        for result in _process_lines(processor, texts, args.input):
            print(json.dumps(result, ensure_ascii=False))
        return 0
    result = _result(processor, texts[0][1])
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_plain(result)
    return 0
