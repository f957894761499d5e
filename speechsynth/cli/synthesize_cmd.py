"""`speechsynth synthesize`: text or a phrase file to one WAV per utterance, in batches."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechsynth.cli.help import add_command
from speechsynth.data.formats import read_phrases

if TYPE_CHECKING:
    from speechsynth.infer.synthesis_job import SynthesisSettings

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
  DIR               a WaveGlow export (`speechsynth export`), run by ONNX Runtime with its
                    denoiser; its sigma is fixed at export (--sigma must match or be left out)
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
        help="griffin-lim (default), a vocoder checkpoint or a vocoder export directory",
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
        choices=("auto", "fp32", "bf16", "int8"),
        default="auto",
        help="PyTorch acoustic models: auto (default): the fastest option within 1%% of fp32 on "
        "this device (Tacotron 2: int8 on a CPU; FastPitch / FastSpeech: bf16 where the CPU "
        "has native bfloat16, else fp32); fp32: NVIDIA's numbers; int8: Tacotron 2's decoder "
        "LSTM weights in int8; bf16: FastPitch / FastSpeech's decoder feed-forward in bfloat16 "
        "(Tacotron 2: the whole model)",
    )
    parser.add_argument(
        "--sigma",
        type=float,
        help="WaveGlow noise scale (default: 0.6, or the export's)",
    )
    parser.add_argument(
        "--denoiser-strength",
        type=float,
        metavar="X",
        help="WaveGlow denoiser strength, 0 to turn it off (default: 0.01, or the export's)",
    )
    parser.add_argument(
        "--vocoder-precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="WaveGlow / HiFi-GAN compute precision: auto (default: WaveGlow in bf16 where the "
        "CPU has native bfloat16 or on a GPU, else fp32), fp32 or bf16",
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


def run(args: argparse.Namespace) -> int:
    # Imported here so that `speechsynth --help` and other commands do not import torch.
    from speechsynth.infer.synthesis_job import synthesize_to_directory

    utterances = _read_utterances(args)
    summary = synthesize_to_directory(
        synthesis_settings(args, args.model), utterances, args.output_dir, args.save_mels
    )
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_table(summary, args.output_dir)
    return 0


def synthesis_settings(args: argparse.Namespace, model: Path) -> SynthesisSettings:
    """The run `args` describe (`_add_tuning_options`, and the controls where the command has
    them) for the acoustic model at `model`."""
    from speechsynth.infer.acoustic import Controls
    from speechsynth.infer.providers import parse_provider_names
    from speechsynth.infer.runtimes import RuntimeOptions
    from speechsynth.infer.synthesis_job import SynthesisSettings, pitch_spec
    from speechsynth.infer.vocoder_interface import VocoderOptions

    providers = getattr(args, "providers", None)
    runtime = RuntimeOptions(
        device=args.device,
        precision=args.precision,
        providers=parse_provider_names(providers) if providers else None,
        engine_cache=getattr(args, "engine_cache", None),
    )
    vocoder_options = VocoderOptions(
        griffin_lim_iters=args.griffin_lim_iters,
        sigma=args.sigma,
        denoiser_strength=args.denoiser_strength,
        precision=args.vocoder_precision,
    )
    controls = Controls(
        max_decoder_steps=args.max_decoder_steps, gate_threshold=args.gate_threshold
    )
    if hasattr(args, "pace"):  # the commands with FastPitch / FastSpeech controls
        pitch = pitch_spec(
            args.pitch_flatten,
            args.pitch_invert,
            args.pitch_amplify,
            args.pitch_shift,
            args.pitch_custom,
        )
        controls = Controls(
            pace=args.pace,
            pitch=pitch,
            alpha=args.alpha,
            max_decoder_steps=args.max_decoder_steps,
            gate_threshold=args.gate_threshold,
        )
    return SynthesisSettings(
        model=model,
        vocoder=args.vocoder,
        runtime=runtime,
        vocoder_options=vocoder_options,
        controls=controls,
        batch_size=args.batch_size,
        seed=args.seed,
        max_chars_per_chunk=args.max_chunk_chars,
    )


def _read_utterances(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.text is not None:
        return [(TEXT_OUTPUT_NAME, args.text)]
    return [(phrase.output_name, phrase.text) for phrase in read_phrases(args.input)]


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
