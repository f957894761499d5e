"""Shared argparse helpers so every command's --help reads alike."""

from __future__ import annotations

import argparse

from speechsynth.text import DEFAULT_CLEANERS


def add_command(
    commands: argparse._SubParsersAction,
    name: str,
    summary: str,
    description: str,
    epilog: str = "",
) -> argparse.ArgumentParser:
    """Add a sub-command whose --help shows a one-line summary, a description and examples."""
    return commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def split_names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def positive_counts(value: str) -> list[int]:
    """An argparse type: comma-separated whole numbers of at least 1 (1,2,4)."""
    try:
        counts = [int(item) for item in value.split(",") if item.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("expected positive counts, comma-separated (1,2,4)")
    return counts


def add_cleaners_option(parser: argparse.ArgumentParser) -> None:
    """`--cleaners a,b` (repeatable); unset means DEFAULT_CLEANERS. Read it with `cleaner_names`.

    Comma-separated rather than nargs="+", which would swallow a positional argument after it.
    """
    parser.add_argument(
        "--cleaners",
        type=split_names,
        action="extend",
        metavar="NAME[,NAME...]",
        help=f"text cleaners, in order (repeatable; default: {','.join(DEFAULT_CLEANERS)})",
    )


def cleaner_names(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.cleaners or DEFAULT_CLEANERS)
