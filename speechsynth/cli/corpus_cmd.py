"""`speechsynth corpus synth`: an LJSpeech-format dataset spoken by an offline synthesiser."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from speechsynth.cli.help import add_command
from speechsynth.cli.synthesize_cmd import positive_int

log = logging.getLogger(__name__)

SYNTH_DESCRIPTION = """\
Build an LJSpeech-format dataset by having an offline system synthesiser (a "teacher voice")
read a list of sentences: OUTDIR/wavs/<id>.wav (22050 Hz, mono, 16-bit PCM) and
OUTDIR/metadata.csv (`id|text|normalized text`), ready for `speechsynth prepare` and
`speechsynth train`.

engines (install with apt-get on Debian/Ubuntu; `make test` does):
  festival    text2wave with the festvox-us-slt-hts voice (US English female, HTS; default
              --voice cmu_us_slt_arctic_hts); natural-sounding, about 0.3 s per sentence.
              apt-get install festival festvox-us-slt-hts
  espeak-ng   formant synthesis (default --voice en-us); robotic, very fast.
              apt-get install espeak-ng

sentences:
  An LJSpeech metadata.csv (or its folder: `id|text|normalized`, the normalized text is what is
  spoken), `id|text` lines, or plain lines (named 000001, 000002, ...). The text reaches the
  engine through a file, so quotes and parentheses are read as text. --limit N takes the first N.

audio:
  Each clip is resampled to 22050 Hz (festival speaks at 32 kHz), its leading and trailing
  silence (40 dB below its peak) is trimmed to 50 ms, and it is scaled down only if its peak
  would exceed 0.99. No other loudness normalisation.

resuming and failures:
  Every clip is written atomically; clips already in OUTDIR/wavs are kept, so running the same
  command again after an interruption continues where it stopped. metadata.csv is rewritten
  (atomically) every 200 sentences and at the end, in input order, listing exactly the
  sentences whose clip exists. A sentence the engine fails on is reported and left out; the
  exit status is then 1.

progress:
  A progress bar when stderr is a terminal; otherwise (e.g. under nohup) a log line every 100
  sentences with the rate and the time left."""

SYNTH_EPILOG = """\
examples:
  speechsynth corpus synth --engine festival --out corpus --limit 100 \\
      --sentences ../shared/data/ljspeech-text/transcripts.txt
  speechsynth corpus synth --engine festival --sentences sentences.txt --out corpus --jobs 2
  speechsynth corpus synth --engine espeak-ng --voice en-gb --sentences lines.txt --out es --json
  nohup speechsynth corpus synth --engine festival --sentences train.txt --out corpus \\
      --jobs 1 > corpus.log 2>&1 &        # long runs: resumable, logs its progress"""


def register(commands: argparse._SubParsersAction) -> None:
    corpus = add_command(
        commands,
        "corpus",
        "build a synthetic-speech dataset with an offline synthesiser",
        "Build datasets from text with an offline system synthesiser (festival, espeak-ng).",
        SYNTH_EPILOG,
    )
    steps = corpus.add_subparsers(dest="step", metavar="STEP", required=True)
    parser = add_command(
        steps,
        "synth",
        "speak a sentence list into an LJSpeech-format dataset",
        SYNTH_DESCRIPTION,
        SYNTH_EPILOG,
    )
    parser.add_argument(
        "--engine",
        choices=("festival", "espeak-ng"),
        default="festival",
        help="the synthesiser (default: festival)",
    )
    parser.add_argument(
        "--sentences",
        type=Path,
        required=True,
        metavar="FILE",
        help="metadata.csv, `id|text` lines or plain lines",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="OUTDIR", help="the dataset folder to write"
    )
    parser.add_argument(
        "--limit", type=positive_int, metavar="N", help="speak only the first N sentences"
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="J",
        help="engine processes at once (default: the number of cores)",
    )
    parser.add_argument(
        "--voice",
        metavar="NAME",
        help="the engine's voice (festival: cmu_us_slt_arctic_hts; espeak-ng: en-us)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.set_defaults(run=run_synth)


def run_synth(args: argparse.Namespace) -> int:
    from speechsynth.prepare.corpus import build_corpus, read_sentences  # imports librosa

    sentences = read_sentences(args.sentences)
    if args.limit is not None:
        sentences = sentences[: args.limit]
    jobs = args.jobs or os.cpu_count() or 1
    progress_bar = sys.stderr.isatty() and not args.json
    report = build_corpus(
        sentences,
        args.out,
        engine_name=args.engine,
        voice=args.voice,
        jobs=jobs,
        progress=progress_bar,
        on_result=None if progress_bar else _log_progress,
    )
    failures = [result for result in report.results if result.status == "failed"]
    counts = {status: report.count(status) for status in ("written", "skipped", "failed")}
    spoken = counts["written"]
    summary = {
        "output": str(args.out),
        "engine": args.engine,
        "sentences": len(sentences),
        **counts,
        "metadata_rows": report.metadata_rows,
        "seconds": round(report.seconds, 2),
        "seconds_per_sentence": round(report.seconds / spoken, 3) if spoken else None,
        "failures": [{"id": r.utterance_id, "error": r.message} for r in failures],
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        for failure in failures:
            print(f"error: {failure.utterance_id}: {failure.message}", file=sys.stderr)
        rate = summary["seconds_per_sentence"]
        rate_text = f", {rate:.2f} s per sentence spoken" if rate is not None else ""
        print(
            f"{counts['written']} written, {counts['skipped']} already there, "
            f"{counts['failed']} failed in {report.seconds:.1f} s{rate_text}; "
            f"{report.metadata_rows} clips in {args.out / 'metadata.csv'}"
        )
    return 1 if failures else 0


def _log_progress(done: int, total: int, elapsed: float) -> None:
    if done % 100 and done != total:
        return
    rate = elapsed / done
    left = (total - done) * rate
    log.info("corpus: %d/%d sentences, %.2f s each, %.0f min left", done, total, rate, left / 60)
