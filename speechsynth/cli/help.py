"""Shared argparse helpers so every command's --help reads alike."""

from __future__ import annotations

import argparse


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
