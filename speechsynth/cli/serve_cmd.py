"""`speechsynth serve`: a voice on NVIDIA Triton Inference Server."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command

DESCRIPTION = """\
Serve a voice on NVIDIA Triton Inference Server: Triton's own `tritonserver` (from the
nvidia-pytriton wheel: pip install 'speechsynth[serve]'), with the voice as three
Python-backend models, until SIGTERM or Ctrl-C: `tts` (text to audio), `generator` (TEXT ->
MEL FP32 [N, 80, frames] padded with silence, MEL_LENGTH INT32 [N, 1]) and `vocoder` (MEL and
optional MEL_LENGTH -> AUDIO, AUDIO_LENGTH), as NVIDIA splits its models.

The `tts` model: input TEXT (BYTES [N, 1], UTF-8; N texts per request), and where the voice
has the control, PACE and PITCH_SHIFT (FP32 [N, 1], optional; the first row counts for the
request); outputs AUDIO (FP32 [N, samples], zero-padded, at the voice's sampling rate, 22,050 Hz
for the demo voice) and AUDIO_LENGTH (INT32 [N, 1]: each text's samples). A text is split at
sentences as `synthesize` splits it, never truncated; a text over --max-text-chars characters
is refused. Triton batches concurrent requests (--max-queue-delay-ms); each request is answered
on its own: a bad one (empty text, invalid UTF-8, a control the voice lacks) gets an error
naming the input, and the others are served. Triton itself refuses a missing input, a wrong
type or shape, or an unknown model.

Endpoints: Triton's HTTP and gRPC (KServe v2: /v2/models/tts/infer, /v2/health/live,
/v2/health/ready, model metadata and config) and Prometheus metrics (/metrics). On SIGTERM
Triton stops taking requests, answers those in flight (up to --exit-timeout-secs) and exits;
`serve` exits 0 when every request in flight was answered.

The model repository it runs is what `speechsynth export triton` writes: a stock Triton (for
example NVIDIA's container) serves that directory when its Python has speechsynth installed."""

EPILOG = """\
examples:
  speechsynth serve                                   the bundled voice on 127.0.0.1:8000/8001/8002
  speechsynth serve --voice fastpitch.pt --vocoder waveglow.pt --max-batch-size 8
  speechsynth serve --voice voices/demo --host 0.0.0.0 --http-port 9000 --instances 2
  curl -s localhost:8000/v2/health/ready -w '%{http_code}\\n'"""


def add_repository_arguments(parser: argparse.ArgumentParser) -> None:
    """What the `tts` model serves and how Triton batches it (serve and export triton)."""
    parser.add_argument(
        "--voice", type=Path, metavar="V", help="voice: export directory or checkpoint (bundled)"
    )
    parser.add_argument(
        "--vocoder", metavar="VOC", help="griffin-lim or a vocoder checkpoint (the voice's own)"
    )
    parser.add_argument(
        "--max-batch-size", type=int, default=32, metavar="N", help="Triton's batch limit (32)"
    )
    parser.add_argument(
        "--max-queue-delay-ms",
        type=float,
        default=1.0,
        metavar="MS",
        help="how long Triton waits to batch requests (1 ms)",
    )
    parser.add_argument(
        "--instances", type=int, default=1, metavar="N", help="model instances, one process each"
    )
    parser.add_argument(
        "--max-text-chars",
        type=int,
        default=10_000,
        metavar="N",
        help="longest text accepted per item (10,000 characters; longer ones are refused)",
    )


def repository_options(args: argparse.Namespace):  # -> RepositoryOptions (imported lazily)
    from speechsynth.serve.repository import RepositoryOptions

    return RepositoryOptions(
        voice=args.voice,
        vocoder=args.vocoder,
        max_batch_size=args.max_batch_size,
        max_queue_delay_ms=args.max_queue_delay_ms,
        instances=args.instances,
        max_text_chars=args.max_text_chars,
    )


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands, "serve", "serve a voice on NVIDIA Triton Inference Server", DESCRIPTION, EPILOG
    )
    add_repository_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--http-port", type=int, default=8000, metavar="P", help="(8000)")
    parser.add_argument("--grpc-port", type=int, default=8001, metavar="P", help="(8001)")
    parser.add_argument("--metrics-port", type=int, default=8002, metavar="P", help="(8002)")
    parser.add_argument(
        "--exit-timeout-secs",
        type=int,
        default=30,
        metavar="S",
        help="on SIGTERM, how long requests in flight may take to finish (30)",
    )
    parser.add_argument(
        "--verbose-triton", action="store_true", help="Triton's log on the terminal"
    )
    parser.add_argument("--json", action="store_true", help="print the endpoints as JSON")
    parser.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from speechsynth.serve.server import ServerOptions, serve_voice

    options = ServerOptions(
        host=args.host,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        metrics_port=args.metrics_port,
        exit_timeout_s=args.exit_timeout_secs,
        verbose=args.verbose_triton,
    )

    def announce(endpoints: dict) -> None:
        if args.json:
            print(json.dumps(endpoints), flush=True)
        else:
            print(
                f"serving {', '.join(endpoints['models'])}: HTTP {endpoints['http']}, "
                f"gRPC {endpoints['grpc']}, metrics {endpoints['metrics']} (Ctrl-C stops)",
                flush=True,
            )

    return serve_voice(repository_options(args), options, announce)
