"""`speechsynth prepare ...`: check, split and precompute features for a dataset."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from speechsynth.audio.config import MelConfig
from speechsynth.cli.help import add_cleaners_option, add_command, cleaner_names
from speechsynth.data.formats import load_dataset
from speechsynth.data.splits import split_utterances
from speechsynth.prepare.check import CheckLimits, check_dataset, format_report
from speechsynth.prepare.results import STATUSES
from speechsynth.prepare.split import write_splits

log = logging.getLogger(__name__)

DATASET_HELP = "an LJSpeech directory (metadata.csv + wavs/) or an NVIDIA filelist"


def register(commands: argparse._SubParsersAction) -> None:
    prepare = add_command(
        commands,
        "prepare",
        "check a dataset, split it, precompute features",
        "Dataset preparation. Every step reads an LJSpeech-layout directory or an NVIDIA filelist\n"
        "(`wav|text`, `mel|dur|pitch|text`, ...; paths relative to the dataset root).",
        "examples:\n"
        "  speechsynth prepare check LJSpeech-1.1\n"
        "  speechsynth prepare split LJSpeech-1.1 --val-size 100 --test-size 500\n"
        "  speechsynth prepare mels LJSpeech-1.1 --jobs 8\n"
        "  speechsynth prepare durations LJSpeech-1.1 --tacotron2 tacotron2.pt\n"
        "  speechsynth prepare pitch LJSpeech-1.1 --method pyin",
    )
    steps = prepare.add_subparsers(dest="step", metavar="STEP", required=True)
    _register_check(steps)
    _register_split(steps)
    _register_mels(steps)
    _register_durations(steps)
    _register_pitch(steps)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, metavar="DATASET", help=DATASET_HELP)
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def _add_limits(parser: argparse.ArgumentParser) -> None:
    defaults = CheckLimits()
    parser.add_argument("--sampling-rate", type=int, default=defaults.sampling_rate, metavar="HZ")
    parser.add_argument("--min-seconds", type=float, default=defaults.min_seconds, metavar="S")
    parser.add_argument("--max-seconds", type=float, default=defaults.max_seconds, metavar="S")
    parser.add_argument("--max-text-chars", type=int, default=defaults.max_text_chars, metavar="N")
    add_cleaners_option(parser)
    parser.add_argument("--jobs", type=int, default=4, help="parallel readers (default: 4)")


def _limits_from(args: argparse.Namespace) -> CheckLimits:
    return CheckLimits(
        sampling_rate=args.sampling_rate,
        min_seconds=args.min_seconds,
        max_seconds=args.max_seconds,
        max_text_chars=args.max_text_chars,
        cleaners=cleaner_names(args),
    )


def _register_check(steps: argparse._SubParsersAction) -> None:
    parser = add_command(
        steps,
        "check",
        "validate every clip of a dataset",
        "Validate every clip: missing or unreadable audio, wrong sample rate or channel count,\n"
        "clips too short or too long, empty or overlong transcripts, duplicate ids, and\n"
        "characters the text front end would drop (a warning).\n\n"
        "Exit status: 0 when the dataset is usable (no errors), 1 otherwise.",
        "examples:\n"
        "  speechsynth prepare check LJSpeech-1.1\n"
        "  speechsynth prepare check filelists/train.txt --max-seconds 12 --json",
    )
    _add_common(parser)
    _add_limits(parser)
    parser.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    utterances = load_dataset(args.dataset)
    progress = sys.stderr.isatty() and not args.json
    report = check_dataset(utterances, _limits_from(args), jobs=args.jobs, progress=progress)
    if args.json:
        print(json.dumps({"dataset": str(args.dataset), **report.to_dict()}, indent=2))
    else:
        print(format_report(report, str(args.dataset)))
    return 0 if report.usable else 1


def _register_split(steps: argparse._SubParsersAction) -> None:
    parser = add_command(
        steps,
        "split",
        "write train/val/test filelists",
        "Shuffle the usable clips with a fixed seed and write train.txt, val.txt and test.txt\n"
        "as `wavs/<id>.wav|text` filelists. Sizes are counts (100) or fractions (0.05).\n"
        "Clips that `prepare check` reports as errors are left out, with a warning.",
        "examples:\n"
        "  speechsynth prepare split LJSpeech-1.1        # 100 val, 500 test, like NVIDIA's\n"
        "  speechsynth prepare split mini --val-size 0.1 --test-size 0.1 --output lists/",
    )
    _add_common(parser)
    parser.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        help="where the filelists go (default: DATASET/filelists)",
    )
    parser.add_argument("--val-size", type=float, default=100, help="default: %(default)s")
    parser.add_argument("--test-size", type=float, default=500, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=1234, help="shuffle seed (default: 1234)")
    _add_limits(parser)
    parser.set_defaults(run=run_split)


def _default_output(dataset: Path, name: str) -> Path:
    return dataset / name if dataset.is_dir() else dataset.parent / name


def run_split(args: argparse.Namespace) -> int:
    utterances = load_dataset(args.dataset)
    report = check_dataset(utterances, _limits_from(args), jobs=args.jobs)
    usable_ids = set(report.usable_ids)
    usable = [utterance for utterance in utterances if utterance.utterance_id in usable_ids]
    if len(usable) < len(utterances):
        log.warning(
            "leaving out %d unusable clip(s); run `speechsynth prepare check %s` for the list",
            len(utterances) - len(usable),
            args.dataset,
        )
    splits = split_utterances(usable, args.val_size, args.test_size, args.seed)
    output_dir = args.output or _default_output(args.dataset, "filelists")
    written = write_splits(splits, output_dir)
    summary = {
        name: {"path": str(path), "clips": len(splits[name])} for name, path in written.items()
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for name, entry in summary.items():
            print(f"{name:5s} {entry['clips']:6d} clips -> {entry['path']}")
    return 0


def _register_mels(steps: argparse._SubParsersAction) -> None:
    parser = add_command(
        steps,
        "mels",
        "precompute log-mel spectrograms",
        "Compute NVIDIA-compatible 80-band log-mel spectrograms (22050 Hz, n_fft 1024, hop 256)\n"
        "for every clip and save each as a float32 [80, frames] tensor `<id>.pt`, plus\n"
        "`filelist.txt` (`<id>.pt|text`). Runs in parallel; files already there and valid are\n"
        "kept, so an interrupted run resumes. Every file is written atomically.",
        "examples:\n"
        "  speechsynth prepare mels LJSpeech-1.1                  # -> LJSpeech-1.1/mels/\n"
        "  speechsynth prepare mels filelists/train.txt --output /data/mels --jobs 8",
    )
    _add_common(parser)
    parser.add_argument(
        "--output", type=Path, metavar="DIR", help="where the mels go (default: DATASET/mels)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse clips at another sample rate instead of resampling them",
    )
    parser.set_defaults(run=run_mels)


def run_mels(args: argparse.Namespace) -> int:
    from speechsynth.prepare.mels import compute_mels  # imports torch: only when needed

    utterances = load_dataset(args.dataset)
    output_dir = args.output or _default_output(args.dataset, "mels")
    progress = sys.stderr.isatty() and not args.json
    results = compute_mels(
        utterances, output_dir, MelConfig(), args.jobs, strict=args.strict, progress=progress
    )
    return _report_results(results, output_dir, args.json)


def _register_durations(steps: argparse._SubParsersAction) -> None:
    parser = add_command(
        steps,
        "durations",
        "per-symbol durations from a Tacotron 2 teacher",
        "Run a trained Tacotron 2 with teacher forcing on every clip and count, for each input\n"
        "symbol, the mel frames that attend to it most (NVIDIA's FastPitch 1.0 / FastSpeech\n"
        "targets). Saves an int64 [symbols] tensor `<id>.pt` per clip, summing to the clip's\n"
        "mel frames. `prepare pitch --durations` then writes FastPitch 1.0's\n"
        "`mel|durations|pitch|text` filelist.\n\n"
        "The text is encoded with the teacher's own cleaners (english_cleaners for NVIDIA's\n"
        "checkpoints). The prenet dropout stays on, as in NVIDIA's extraction, with masks drawn\n"
        "from --seed; --no-dropout turns it off. Files already there and valid (right length,\n"
        "summing to the clip's frames) are kept, so an interrupted run resumes.",
        "examples:\n"
        "  speechsynth prepare durations LJSpeech-1.1 --tacotron2 nvidia_tacotron2.pt\n"
        "  speechsynth prepare durations mels/filelist.txt --tacotron2 runs/t2/best.pt \\\n"
        "      --output /data/durations --batch-size 32 --device cuda",
    )
    _add_common(parser)
    parser.add_argument(
        "--tacotron2",
        type=Path,
        required=True,
        metavar="CKPT",
        help="the teacher: a speechsynth or NVIDIA Tacotron 2 checkpoint",
    )
    parser.add_argument("--output", type=Path, metavar="DIR", help="default: DATASET/durations")
    parser.add_argument(
        "--batch-size", type=int, default=16, metavar="N", help="clips per forward pass (16)"
    )
    parser.add_argument(
        "--no-dropout",
        dest="dropout",
        action="store_false",
        help="turn the prenet dropout off (NVIDIA keeps it on)",
    )
    parser.add_argument(
        "--seed", type=int, default=1234, metavar="N", help="dropout seed (default: 1234)"
    )
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.set_defaults(run=run_durations)


def run_durations(args: argparse.Namespace) -> int:
    from speechsynth.prepare.durations import compute_durations  # imports torch: when needed

    teacher = args.tacotron2
    utterances = load_dataset(args.dataset)
    output_dir = args.output or _default_output(args.dataset, "durations")
    results = compute_durations(
        teacher,
        utterances,
        output_dir,
        args.batch_size,
        dropout=args.dropout,
        seed=args.seed,
        device=args.device,
        progress=sys.stderr.isatty() and not args.json,
    )
    return _report_results(results, output_dir, args.json)


def _register_pitch(steps: argparse._SubParsersAction) -> None:
    parser = add_command(
        steps,
        "pitch",
        "FastPitch pitch targets (Praat or pyin)",
        "Estimate every clip's fundamental frequency (F0, Hz; 0 where unvoiced), one value per\n"
        "mel frame, and save it as a float32 [1, frames] tensor `<id>.pt` (NVIDIA FastPitch\n"
        "1.1's layout), plus `filelist.txt` (`<audio>|<id>.pt|<text>`, FastPitch 1.1's\n"
        "audio|pitch|text) and `pitch_stats.json` (mean and std of the voiced values, which\n"
        "training copies into the model's pitch_mean / pitch_std).\n\n"
        "--method praat is FastPitch 1.0's Praat autocorrelation (75-600 Hz); --method pyin is\n"
        "FastPitch 1.1's librosa pyin (65-2093 Hz), about 40x slower: ~0.4 s of CPU per second\n"
        "of audio, so use --jobs on a large dataset.\n"
        "The frame count is the precomputed mel's (--mel-dir, default DATASET/mels when it\n"
        "exists) or the one the audio gives.\n\n"
        "With --durations (the output of `prepare durations`) it also averages the voiced frames\n"
        "of each input symbol into `per_symbol/<id>.pt` (float32 [symbols], Hz) and writes\n"
        "FastPitch 1.0's `fastpitch1.0_filelist.txt` (`<mel>|<durations>|<pitch>|<text>`; needs\n"
        "the mels of `prepare mels`); the stats are then over the symbols, as FastPitch 1.0\n"
        "normalises them. Durations must sum to each clip's mel frames.\n\n"
        "Files already there and valid are kept, so an interrupted run resumes; every file is\n"
        "written atomically. Clips at another sample rate are resampled unless --strict.",
        "examples:\n"
        "  speechsynth prepare pitch LJSpeech-1.1 --method pyin          # -> LJSpeech-1.1/pitch/\n"
        "  speechsynth prepare mels LJSpeech-1.1\n"
        "  speechsynth prepare pitch LJSpeech-1.1 --method praat \\\n"
        "      --durations LJSpeech-1.1/durations --output LJSpeech-1.1/pitch_char --jobs 8",
    )
    _add_common(parser)
    parser.add_argument(
        "--method",
        choices=("praat", "pyin"),
        required=True,
        help="praat (FastPitch 1.0) or pyin (FastPitch 1.1)",
    )
    parser.add_argument(
        "--durations",
        type=Path,
        metavar="DIR",
        help="per-symbol durations from `prepare durations`: adds per-symbol pitch",
    )
    parser.add_argument("--output", type=Path, metavar="DIR", help="default: DATASET/pitch")
    parser.add_argument(
        "--mel-dir",
        type=Path,
        metavar="DIR",
        help="precomputed mels (<id>.pt) giving the frame count (default: DATASET/mels)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse clips at another sample rate instead of resampling them",
    )
    parser.set_defaults(run=run_pitch)


def run_pitch(args: argparse.Namespace) -> int:
    from speechsynth.prepare.pitch import STATS_NAME, compute_pitch  # imports torch: lazily

    utterances = load_dataset(args.dataset)
    output_dir = args.output or _default_output(args.dataset, "pitch")
    mel_dir = args.mel_dir
    if mel_dir is None and _default_output(args.dataset, "mels").is_dir():
        mel_dir = _default_output(args.dataset, "mels")
    summary = compute_pitch(
        utterances,
        output_dir,
        args.method,
        durations_dir=args.durations,
        mel_dir=mel_dir,
        config=MelConfig(),
        jobs=args.jobs,
        strict=args.strict,
        progress=sys.stderr.isatty() and not args.json,
    )
    if args.json:
        failures = [r for r in summary.results if r.status == "failed"]
        counts = {s: sum(r.status == s for r in summary.results) for s in STATUSES}
        print(
            json.dumps(
                {
                    "output": str(output_dir),
                    **counts,
                    "failures": [{"id": r.utterance_id, "error": r.message} for r in failures],
                    "stats": summary.stats,
                },
                indent=2,
            )
        )
        return 1 if failures else 0
    status = _report_results(summary.results, output_dir, as_json=False)
    stats = summary.stats
    print(
        f"{stats['method']} pitch over {stats['count']} voiced {stats['values']}: "
        f"mean {stats['mean']:.2f} Hz, std {stats['std']:.2f} Hz -> {output_dir / STATS_NAME}"
    )
    return status


def _report_results(results: list, output_dir: Path, as_json: bool) -> int:
    """Print what a per-file step did (counts, each failure); exit status 1 if any failed."""
    counts = {status: 0 for status in ("written", "skipped", "failed")}
    for result in results:
        counts[result.status] += 1
    failures = [result for result in results if result.status == "failed"]
    if as_json:
        failed = [{"id": r.utterance_id, "error": r.message} for r in failures]
        print(json.dumps({"output": str(output_dir), **counts, "failures": failed}, indent=2))
    else:
        for failure in failures:
            print(f"error: {failure.utterance_id}: {failure.message}", file=sys.stderr)
        print(
            f"{counts['written']} written, {counts['skipped']} already valid, "
            f"{counts['failed']} failed -> {output_dir}"
        )
    return 1 if failures else 0
