"""`speechsynth client`: speak a phrase file through a running `speechsynth serve`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from speechsynth.cli.help import add_command
from speechsynth.serve.addresses import DEFAULT_TIMEOUT_S, client_protocol, server_url

DESCRIPTION = """\
Send the phrases of PHRASES (one per line; or `name|text` lines, or NVIDIA's .tsv with a `text`
column) to the `tts` model of a Triton server (`speechsynth serve`, or a stock Triton serving an
`export triton` repository), --batch-size texts per request, and write each answer, cut to its
AUDIO_LENGTH, as OUTDIR/1.wav ... OUTDIR/N.wav in phrase order, as NVIDIA's Triton client does.
Prints the total processing time, the sequences and seconds of audio, symbols/s and samples/s.
End every phrase with a period, as NVIDIA advises: the voice reads it as the end of a sentence.

--stream sends each phrase alone to the decoupled `tts_stream` model over gRPC (--url then names
the gRPC port, 8001; --protocol grpc is implied), which answers sentence by sentence as each
chunk is made; the file is written when the phrase's last chunk arrives, and the totals add the
average time to the first audio."""

EPILOG = """\
examples:
  speechsynth client phrases.txt -o audio
  speechsynth client phrases.txt -o audio --url 10.0.0.5:8001 --protocol grpc --batch-size 16
  speechsynth client paragraphs.txt -o audio --url 127.0.0.1:8001 --stream"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands, "client", "speak a phrase file through a Triton server", DESCRIPTION, EPILOG
    )
    parser.add_argument("phrases", type=Path, metavar="PHRASES", help="phrase file")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR")
    parser.add_argument(
        "--url", help="host:port of the server (127.0.0.1:8000; gRPC, --stream: 8001)"
    )
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http", help="(http)")
    parser.add_argument("--batch-size", type=int, default=8, metavar="N", help="texts per request")
    parser.add_argument(
        "--stream", action="store_true", help="stream each phrase from tts_stream (gRPC)"
    )
    add_timeout_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the totals as JSON")
    parser.set_defaults(run=run_client)


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    """--timeout, as `client` and `bench serve` take it."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"longest wait for an answer, in seconds ({DEFAULT_TIMEOUT_S:.0f})",
    )


def run_client(args: argparse.Namespace) -> int:
    from speechsynth.data.formats import read_phrases
    from speechsynth.serve.client import ClientOptions, speak_phrases

    texts = [phrase.text for phrase in read_phrases(args.phrases)]
    protocol = client_protocol(args.protocol, args.stream)
    options = ClientOptions(
        server_url(args.url, protocol),
        protocol,
        args.batch_size,
        stream=args.stream,
        timeout_s=args.timeout,
    )
    summary = speak_phrases(texts, args.output, options)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"processing time: {summary['processing_seconds']} s; {summary['sequences']} "
            f"sequences, {summary['audio_seconds']} s of audio in {summary['output']}; "
            f"{summary['symbols_per_second']} symbols/s, {summary['samples_per_second']} samples/s"
            + (
                f"; first audio after {summary['avg_time_to_first_audio_s']} s on average"
                if args.stream
                else ""
            )
        )
    return 0
