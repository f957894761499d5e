"""`speechsynth synthesize`: text or a phrase file to one WAV per utterance, in batches."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechsynth.cli.help import add_command
from speechsynth.data.formats import read_phrases
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic

if TYPE_CHECKING:
    import torch

    from speechsynth.infer import SynthesisResult, Synthesizer, Vocoder
    from speechsynth.models.registry import LoadedModel

log = logging.getLogger(__name__)

SUMMARY = "synthesise text or a phrase file to WAV files"

DESCRIPTION = """\
Synthesise speech with an acoustic model checkpoint (Tacotron 2, FastPitch 1.0/1.1 or FastSpeech;
ours or NVIDIA's), or an ONNX export directory of any of them (`speechsynth export`, run by ONNX
Runtime, pace / pitch / alpha controls included), and a vocoder, writing OUTDIR/<name>.wav for
each utterance and OUTDIR/summary.json.

input:
  --text TEXT       one utterance, written to OUTDIR/0001.wav
  -i PHRASES        a phrase file: one utterance per line (named 0001, 0002, ...), or
                    `<name>|<text>` lines (written to OUTDIR/<name>.wav), or a .tsv with a header
                    naming an `output` and a `text` column (NVIDIA's phrases/*.tsv)
  Text is read as the model was trained to read it (its cleaners, ARPAbet rules and
  probability; `speechsynth text --model CKPT` shows what it reads).
  Long utterances are split at sentence ends (then commas, then spaces) into chunks of at most
  --max-chunk-chars characters, synthesised separately and joined with 0.15 s of silence.

batching:
  Chunks are sorted by length and run --batch-size at a time; a larger batch is faster per
  utterance, mostly on a GPU (--device, default: cuda when available, else cpu).

output:
  summary.json lists, per utterance, its name, text, wav file (relative to OUTDIR), seconds of
  audio, mel frames, whether it hit the decoder step limit, and its share of the synthesis time;
  totals give the real-time factor (synthesis time / seconds of audio; below 1 is faster than
  real time). A table (or, with --json, the summary) is printed.

  An utterance that reaches --max-decoder-steps before the model signals the end of speech is
  named in a warning and flagged in the summary: its audio may be cut off.

reproducibility:
  Tacotron 2 keeps prenet dropout on at inference (as NVIDIA), so each run sounds a little
  different; --seed makes a run repeatable for the same inputs and --batch-size.

FastPitch controls (composable; pitch steps apply in this order, as NVIDIA's inference.py):
  --pace X             speaking rate: durations are divided by X (2.0 = twice as fast)
  --pitch-flatten      monotone: every symbol at the speaker's mean pitch
  --pitch-invert       mirror the pitch contour around the mean
  --pitch-amplify F    scale the contour's distance from the mean by F
  --pitch-shift HZ     raise (or, negative, lower) the pitch by HZ
  --pitch-custom FILE.py:FUNC   your own f(pitch_hz [B, 1, L], text_lengths [B]) -> pitch_hz,
                       applied last (e.g. speechsynth.infer.pitch_transforms:linear_ramp)
FastSpeech control:
  --alpha X            length factor: durations are multiplied by X (1.2 = 20% slower)

vocoders:
  griffin-lim       phase reconstruction, no weights needed (robotic; for checks and tests)
  CKPT              a WaveGlow checkpoint (ours or NVIDIA's): --sigma (0.6) scales its noise,
                    --denoiser-strength (0.01) removes its bias hiss, --vocoder-precision bf16
                    runs it about 2x faster where the CPU supports bfloat16"""

EPILOG = """\
examples:
  speechsynth synthesize --model tacotron2.pt --text 'Hello world.' -o out
  speechsynth synthesize --model tacotron2.pt -i phrases.txt -o out --batch-size 16
  speechsynth synthesize --model tacotron2.pt -i phrases.tsv -o out --seed 1234 --json
  speechsynth synthesize --model tacotron2.pt -i long_story.txt -o out --max-decoder-steps 3000
  speechsynth synthesize --model fastpitch.pt -i phrases.tsv -o out --pace 1.2 --pitch-shift 30
  speechsynth synthesize --model fastspeech.pt --text 'Slowly now.' -o out --alpha 1.3

(Use single quotes in a shell, or "$3" is replaced before speechsynth sees it.)"""

TEXT_OUTPUT_NAME = "0001"
SUMMARY_NAME = "summary.json"


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 < number < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return number


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, "synthesize", SUMMARY, DESCRIPTION, EPILOG)
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="CKPT",
        help="acoustic model checkpoint, or a `speechsynth export` directory",
    )
    parser.add_argument(
        "--vocoder",
        default="griffin-lim",
        metavar="VOCODER",
        help="griffin-lim (default) or a vocoder checkpoint path",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-i", "--input", type=Path, metavar="PHRASES", help="phrase file")
    source.add_argument("--text", metavar="TEXT", help="the text of one utterance")
    parser.add_argument(
        "-o", "--output-dir", type=Path, required=True, metavar="OUTDIR", help="output folder"
    )
    _add_tuning_options(parser)
    _add_prosody_options(parser)
    parser.add_argument(
        "--providers",
        metavar="LIST",
        help="ONNX exports: execution providers in order of preference, from tensorrt, cuda, cpu "
        "(default: every one installed, best first; TensorRT runs in fp16 with NVIDIA's profiles)",
    )
    parser.add_argument(
        "--engine-cache",
        type=Path,
        metavar="DIR",
        help="ONNX exports on TensorRT: where built engines are kept (default: "
        "MODEL_DIR/tensorrt_cache)",
    )
    parser.add_argument(
        "--save-mels",
        action="store_true",
        help="also write each utterance's mel as OUTDIR/<name>.npy ([80, frames] float32 log-mel)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def _add_tuning_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, metavar="N", help="default: 8"
    )
    parser.add_argument(
        "--max-decoder-steps",
        type=positive_int,
        metavar="N",
        help="decoder step limit, 86 steps per second of audio (default: the checkpoint's)",
    )
    parser.add_argument(
        "--gate-threshold",
        type=probability,
        metavar="X",
        help="stop when the gate's probability exceeds X (default: the checkpoint's, 0.5)",
    )
    parser.add_argument("--seed", type=int, metavar="N", help="seed for repeatable output")
    parser.add_argument(
        "--device", metavar="DEVICE", help="cpu, cuda, cuda:1, ... (default: cuda if available)"
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16", "int8"),
        default="fp32",
        help="fp32 (default, NVIDIA's numbers); int8: the decoder's LSTM weights in int8, "
        "about 3x faster decoder steps on CPU; bf16: the whole model in bfloat16",
    )
    parser.add_argument(
        "--sigma", type=float, default=0.6, help="WaveGlow noise scale (default: 0.6)"
    )
    parser.add_argument(
        "--denoiser-strength",
        type=float,
        default=0.01,
        metavar="X",
        help="WaveGlow denoiser strength, 0 to turn it off (default: 0.01)",
    )
    parser.add_argument(
        "--vocoder-precision",
        choices=("fp32", "bf16"),
        default="fp32",
        help="WaveGlow compute precision (default: fp32)",
    )
    parser.add_argument(
        "--griffin-lim-iters",
        type=positive_int,
        default=60,
        metavar="N",
        help="Griffin-Lim iterations (default: 60)",
    )
    parser.add_argument(
        "--max-chunk-chars",
        type=positive_int,
        default=300,
        metavar="N",
        help="split longer utterances into chunks of at most N characters (default: 300)",
    )


def _add_prosody_options(parser: argparse.ArgumentParser) -> None:
    prosody = parser.add_argument_group("FastPitch / FastSpeech controls")
    prosody.add_argument(
        "--pace", type=positive_float, default=1.0, metavar="X", help="FastPitch speaking rate"
    )
    prosody.add_argument("--pitch-flatten", action="store_true", help="FastPitch: monotone")
    prosody.add_argument("--pitch-invert", action="store_true", help="FastPitch: mirror pitch")
    prosody.add_argument(
        "--pitch-amplify", type=float, default=1.0, metavar="F", help="FastPitch: scale contour"
    )
    prosody.add_argument(
        "--pitch-shift", type=float, default=0.0, metavar="HZ", help="FastPitch: shift pitch"
    )
    prosody.add_argument(
        "--pitch-custom", metavar="FILE.py:FUNC", help="FastPitch: your own pitch function"
    )
    prosody.add_argument(
        "--alpha", type=positive_float, default=1.0, metavar="X", help="FastSpeech length factor"
    )


def _prosody(args: argparse.Namespace, model_name: str) -> dict[str, Any]:
    """Synthesizer keyword arguments for --pace / --pitch-* / --alpha, checked against the model."""
    from speechsynth.infer.pitch_transforms import (
        PitchTransformSpec,
        build_pitch_transform,
        load_custom_function,
    )

    custom = load_custom_function(args.pitch_custom) if args.pitch_custom else None
    spec = PitchTransformSpec(
        args.pitch_flatten, args.pitch_invert, args.pitch_amplify, args.pitch_shift, custom
    )
    fastpitch_options = args.pace != 1.0 or not spec.is_identity
    if fastpitch_options and model_name != "fastpitch":
        raise SpeechSynthError(
            f"--pace and --pitch-* control FastPitch; {args.model} is a {model_name} model"
            + (" (use --alpha)" if model_name == "fastspeech" else "")
        )
    if args.alpha != 1.0 and model_name != "fastspeech":
        raise SpeechSynthError(
            f"--alpha controls FastSpeech; {args.model} is a {model_name} model"
            + (" (use --pace)" if model_name == "fastpitch" else "")
        )
    return {"pace": args.pace, "pitch_transform": build_pitch_transform(spec), "alpha": args.alpha}


def run(args: argparse.Namespace) -> int:
    # Imported here so that `speechsynth --help` and other commands do not import torch.
    from speechsynth.infer import Synthesizer

    utterances = _read_utterances(args)
    _check_output_dir(args.output_dir)
    vocoder = vocoder_from_args(args)
    loaded = load_acoustic_model(args.model, args)
    synthesizer = Synthesizer(
        loaded,
        vocoder,
        batch_size=args.batch_size,
        max_decoder_steps=args.max_decoder_steps,
        gate_threshold=args.gate_threshold,
        seed=args.seed,
        max_chars_per_chunk=args.max_chunk_chars,
        **_prosody(args, loaded.name),
    )
    results = synthesizer.synthesize(utterances)
    summary = _summary(_settings(args, synthesizer), results, args.save_mels)
    _write_outputs(args.output_dir, results, summary)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_table(summary, args.output_dir)
    return 0


def vocoder_from_args(args: argparse.Namespace) -> Vocoder:
    """The vocoder --vocoder names, with the vocoder options (`_add_tuning_options`)."""
    from speechsynth.infer import load_vocoder

    return load_vocoder(
        args.vocoder,
        griffin_lim_iters=args.griffin_lim_iters,
        sigma=args.sigma,
        denoiser_strength=args.denoiser_strength,
        precision=args.vocoder_precision,
    )


def load_acoustic_model(model_path: Path, args: argparse.Namespace) -> LoadedModel:
    """A checkpoint on --device at --precision, or a `speechsynth export` directory."""
    from speechsynth.export.providers import ProviderSettings, parse_provider_names
    from speechsynth.export.runtime import is_onnx_export, load_onnx_export
    from speechsynth.infer.precision import prepare_for_inference
    from speechsynth.models.registry import load_model

    providers = getattr(args, "providers", None)
    engine_cache = getattr(args, "engine_cache", None)
    if is_onnx_export(model_path):
        if args.precision != "fp32" or args.device not in (None, "cpu"):
            raise SpeechSynthError(
                f"{model_path}: an ONNX export runs in fp32 with ONNX Runtime; choose its "
                "execution providers with --providers, and drop --precision / --device"
            )
        names = parse_provider_names(providers) if providers else None
        loaded = load_onnx_export(model_path, providers=ProviderSettings(names, engine_cache))
        if args.seed is not None and getattr(loaded.model, "prenet_dropout_exported", False):
            log.warning(
                "%s: the exported prenet dropout draws inside ONNX Runtime, which --seed cannot "
                "seed; export with --no-prenet-dropout for repeatable output",
                model_path,
            )
        return loaded
    if providers or engine_cache:
        raise SpeechSynthError(
            f"{model_path}: --providers and --engine-cache choose how an ONNX export runs; this "
            "is a PyTorch checkpoint (use --device)"
        )
    loaded = load_model(model_path)
    loaded.model = prepare_for_inference(loaded.model.to(_device(args.device)), args.precision)
    return loaded


def _read_utterances(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.text is not None:
        return [(TEXT_OUTPUT_NAME, args.text)]
    return [(phrase.output_name, phrase.text) for phrase in read_phrases(args.input)]


def _device(name: str | None) -> torch.device:
    import torch

    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SpeechSynthError(
            f"--device {name!r}: not a device; use cpu, cuda or cuda:N"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpeechSynthError(f"--device {name}: no CUDA GPU is available here; use cpu")
    return device


def _check_output_dir(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise SpeechSynthError(f"{output_dir}: exists and is not a folder; choose another -o")


def _settings(args: argparse.Namespace, synthesizer: Synthesizer) -> dict[str, Any]:
    """What the run used, defaults resolved to the checkpoint's values."""
    gate_threshold = args.gate_threshold
    if gate_threshold is None:
        gate_threshold = getattr(synthesizer.loaded_model.config, "gate_threshold", None)
    return {
        "model": str(args.model),
        "vocoder": args.vocoder,
        "sampling_rate": synthesizer.vocoder.sampling_rate,
        "batch_size": args.batch_size,
        "max_decoder_steps": synthesizer.decoder_step_limit,
        "gate_threshold": gate_threshold,
        "seed": args.seed,
        "precision": args.precision,
        "pace": args.pace,
        "pitch": {
            "flatten": args.pitch_flatten,
            "invert": args.pitch_invert,
            "amplify": args.pitch_amplify,
            "shift_hz": args.pitch_shift,
            "custom": args.pitch_custom,
        },
        "alpha": args.alpha,
    }


def _write_outputs(
    output_dir: Path, results: list[SynthesisResult], summary: dict[str, Any]
) -> None:
    from speechsynth.audio.io import save_audio, save_mel

    for result, row in zip(results, summary["utterances"], strict=True):
        save_audio(output_dir / row["wav"], result.audio, summary["sampling_rate"])
        if "mel" in row:
            save_mel(output_dir / row["mel"], result.mel)
    write_text_atomic(
        output_dir / SUMMARY_NAME, json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    )


def _summary(
    settings: dict[str, Any], results: list[SynthesisResult], save_mels: bool = False
) -> dict[str, Any]:
    """The run's settings, one entry per utterance, and totals (as summary.json holds them)."""
    audio_seconds = sum(result.seconds for result in results)
    synthesis_seconds = sum(result.synthesis_seconds for result in results)
    return {
        **settings,
        "utterances": [
            {
                "name": result.name,
                "text": result.text,
                "wav": f"{result.name}.wav",
                **({"mel": f"{result.name}.npy"} if save_mels else {}),
                "seconds": round(result.seconds, 4),
                "frames": result.n_frames,
                "hit_max_decoder_steps": result.hit_max_decoder_steps,
                "synthesis_seconds": round(result.synthesis_seconds, 4),
            }
            for result in results
        ],
        "totals": {
            "utterances": len(results),
            "audio_seconds": round(audio_seconds, 4),
            "synthesis_seconds": round(synthesis_seconds, 4),
            "real_time_factor": round(synthesis_seconds / audio_seconds, 4)
            if audio_seconds
            else None,
            "hit_max_decoder_steps": sum(result.hit_max_decoder_steps for result in results),
        },
    }


def _print_table(summary: dict[str, Any], output_dir: Path) -> None:
    rows = summary["utterances"]
    width = max(len("name"), *(len(row["name"]) for row in rows))
    print(f"{'name':<{width}}  {'seconds':>8}  {'frames':>7}  {'time (s)':>8}")
    for row in rows:
        note = "  hit max decoder steps: may be cut off" if row["hit_max_decoder_steps"] else ""
        print(
            f"{row['name']:<{width}}  {row['seconds']:>8.2f}  {row['frames']:>7}  "
            f"{row['synthesis_seconds']:>8.3f}{note}"
        )
    totals = summary["totals"]
    rtf = totals["real_time_factor"]
    rtf_text = f"real-time factor {rtf:.3f}" if rtf is not None else "no audio"
    print(
        f"{totals['utterances']} utterance(s), {totals['audio_seconds']:.2f} s of audio in "
        f"{totals['synthesis_seconds']:.2f} s ({rtf_text}); wrote {output_dir}/"
    )
