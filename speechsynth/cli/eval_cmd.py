"""`speechsynth eval intelligibility`: the word error rate of a recogniser on a voice's speech."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from speechsynth.cli.help import add_command
from speechsynth.cli.synthesize_cmd import (
    _add_tuning_options,
    positive_int,
    synthesis_settings,
)

log = logging.getLogger(__name__)

DEFAULT_SEED = 1234

INTELLIGIBILITY_DESCRIPTION = """\
Synthesise each sentence with a voice (an acoustic model checkpoint and a vocoder), transcribe
the audio with pocketsphinx (offline, its bundled US English models) and report the word error
rate (WER) against the sentences. With --teacher (default: festival) the teacher engine reads
the same sentences too, and its WER and the ratio voice WER / teacher WER are reported: the
recogniser errs on any voice, so the ratio is what says how much the voice loses (issue 8's
bar for the bundled voice: <= 1.5).

sentences:
  An LJSpeech metadata.csv, `id|text` lines or plain lines, as for `corpus synth`; hold them
  out of training. --limit N takes the first N.

scoring:
  Audio is resampled to 16 kHz, padded with 0.5 s of silence on each side and dithered
  (+-1e-4, fixed seed) before recognition. Reference and transcript are both normalised:
  numbers and abbreviations spelt out by our cleaners ("3" -> "three"), lower case, punctuation
  and hyphens removed, apostrophes inside words kept. The WER is over the whole set: all word
  errors (substitutions + deletions + insertions) / all reference words. A sentence the teacher
  fails on counts as all words deleted.

output:
  A table (per sentence: words, voice WER, teacher WER; then the totals), or with --json the
  report: settings, the recogniser and its settings, voice_wer, teacher_wer, wer_ratio,
  meets_bar, and per sentence the normalised reference, each system's transcript, WER, error
  counts and seconds of audio. --output DIR also writes DIR/voice/<id>.wav,
  DIR/teacher/<id>.wav, DIR/report.json and DIR/transcripts.tsv.

The voice is synthesised with --seed 1234 unless told otherwise (Tacotron 2's prenet dropout),
so a run is repeatable; the options below are `speechsynth synthesize`'s."""

INTELLIGIBILITY_EPILOG = """\
examples:
  speechsynth eval intelligibility --voice runs/fp/checkpoint_best.pt \\
      --sentences recipes/demo-voice/sentences-eval.txt --limit 20
  speechsynth eval intelligibility --voice t2.pt --vocoder waveglow.pt --sentences eval.txt \\
      --teacher none --output eval-out --json
  speechsynth eval intelligibility --voice fp.pt --sentences eval.txt --griffin-lim-iters 100"""


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = add_command(
        commands,
        "eval",
        "evaluate a voice (intelligibility: ASR word error rate)",
        "Evaluate a trained voice.",
        INTELLIGIBILITY_EPILOG,
    )
    kinds = evaluate.add_subparsers(dest="kind", metavar="KIND", required=True)
    parser = add_command(
        kinds,
        "intelligibility",
        "word error rate of pocketsphinx on the voice's speech, next to the teacher's",
        INTELLIGIBILITY_DESCRIPTION,
        INTELLIGIBILITY_EPILOG,
    )
    parser.add_argument(
        "--voice",
        type=Path,
        required=True,
        metavar="CKPT",
        help="acoustic model checkpoint, or a `speechsynth export` directory (Tacotron 2)",
    )
    parser.add_argument(
        "--sentences", type=Path, required=True, metavar="FILE", help="the sentences to read"
    )
    parser.add_argument(
        "--vocoder",
        default="griffin-lim",
        metavar="VOCODER",
        help="griffin-lim (default) or a vocoder checkpoint path",
    )
    parser.add_argument(
        "--teacher",
        choices=("festival", "espeak-ng", "none"),
        default="festival",
        help="the engine whose own audio is the yardstick (default: festival; none: skip it)",
    )
    parser.add_argument(
        "--teacher-voice", metavar="NAME", help="the teacher engine's voice (its default)"
    )
    parser.add_argument("--limit", type=positive_int, metavar="N", help="the first N sentences")
    parser.add_argument(
        "--output", type=Path, metavar="DIR", help="also write the WAVs, transcripts and report"
    )
    _add_tuning_options(parser)
    parser.set_defaults(seed=DEFAULT_SEED)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run_intelligibility)


def run_intelligibility(args: argparse.Namespace) -> int:
    # Imported here so that `speechsynth --help` and other commands do not import torch.
    from speechsynth.evaluate.intelligibility_run import Teacher, evaluate_intelligibility
    from speechsynth.prepare.corpus import (
        SAMPLING_RATE,
        check_engine,
        read_sentences,
        synthesize_text,
    )

    sentences = [(s.sentence_id, s.spoken) for s in read_sentences(args.sentences)]
    sentences = sentences[: args.limit] if args.limit is not None else sentences
    teacher = None
    if args.teacher != "none":
        check_engine(args.teacher, args.teacher_voice)  # fail now, not after the voice

        def speak(text: str, engine: str = args.teacher):
            return synthesize_text(engine, text, args.teacher_voice, SAMPLING_RATE)

        teacher = Teacher(args.teacher, speak, SAMPLING_RATE)
    log.info("synthesising %d sentence(s) with %s", len(sentences), args.voice)
    report = evaluate_intelligibility(
        synthesis_settings(args, args.voice),
        sentences,
        teacher,
        output=args.output,
        show_progress=not args.json and sys.stderr.isatty(),
        sentences_file=args.sentences,
    )
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_table(report)
    return 0


def _print_table(report: dict[str, Any]) -> None:
    rows = report["rows"]
    teacher = report["teacher"]
    width = max(len("id"), *(len(row["id"]) for row in rows))
    header = f"{'id':<{width}}  {'words':>5}  {'voice WER':>9}"
    print(header + (f"  {teacher + ' WER':>12}" if teacher else ""))
    for row in rows:
        line = f"{row['id']:<{width}}  {row['words']:>5}  {row['voice']['wer']:>9.3f}"
        if teacher:
            line += f"  {row['teacher']['wer']:>12.3f}"
        print(line)
    words = report["reference_words"]
    summary = (
        f"{report['sentences']} sentence(s), {words} words: voice WER {report['voice_wer']:.3f} "
        f"({report['voice_errors']} errors)"
    )
    if teacher:
        ratio = report["wer_ratio"]
        ratio_text = "no finite ratio" if ratio is None else f"ratio {ratio:.2f}"
        verdict = "meets" if report["meets_bar"] else "misses"
        summary += (
            f", {teacher} WER {report['teacher_wer']:.3f} ({report['teacher_errors']} errors); "
            f"{ratio_text}, {verdict} the bar (<= {report['ratio_bar']})"
        )
    print(summary)
