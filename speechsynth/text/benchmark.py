"""The English text that benchmarks read: NVIDIA's benchmarks time one text of a fixed number
of characters (128), so ours do too, with any length asked for."""

from __future__ import annotations

from speechsynth.errors import SpeechSynthError

BENCHMARK_PARAGRAPH = (
    "The quick brown fox jumps over the lazy dog while the early bird catches the worm, and "
    "a stitch in time saves nine when every cloud has a silver lining for those who wait in "
    "patience for the morning light to come over the hills and the quiet sea."
)


def benchmark_text(length: int) -> str:
    """An English text of exactly `length` characters ending in a period (the seed's
    benchmark sends one 128-character text)."""
    if length < 2:
        raise SpeechSynthError("--text-length must be at least 2")
    repeated = (BENCHMARK_PARAGRAPH + " ") * (length // len(BENCHMARK_PARAGRAPH) + 1)
    return repeated[: length - 1].rstrip().ljust(length - 1, "a") + "."
