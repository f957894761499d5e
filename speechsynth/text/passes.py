"""Small text passes shared by the cleaners: case, whitespace, NVIDIA's abbreviations."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WHITESPACE_RE = re.compile(r"\s+")

# NVIDIA's list (Tacotron 2, FastPitch 1.0, FastSpeech): (abbreviation, expansion).
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("mrs", "misess"),
    ("mr", "mister"),
    ("dr", "doctor"),
    ("st", "saint"),
    ("co", "company"),
    ("jr", "junior"),
    ("maj", "major"),
    ("gen", "general"),
    ("drs", "doctors"),
    ("rev", "reverend"),
    ("lt", "lieutenant"),
    ("hon", "honorable"),
    ("sgt", "sergeant"),
    ("capt", "captain"),
    ("esq", "esquire"),
    ("ltd", "limited"),
    ("col", "colonel"),
    ("ft", "fort"),
)


def abbreviation_patterns(
    abbreviations: Iterable[tuple[str, str]],
) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each abbreviation matched as a whole word, case-insensitively, only with its full stop."""
    return tuple(
        (re.compile(rf"\b{abbreviation}\.", re.IGNORECASE), expansion)
        for abbreviation, expansion in abbreviations
    )


_ABBREVIATION_PATTERNS = abbreviation_patterns(ABBREVIATIONS)


def lowercase(text: str) -> str:
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Turn every run of whitespace (newlines and tabs included) into one space."""
    return _WHITESPACE_RE.sub(" ", text)


def expand_abbreviations(text: str) -> str:
    """ "dr. smith" -> "doctor smith" (NVIDIA's 18 abbreviations; "dr" without "." is left)."""
    for pattern, expansion in _ABBREVIATION_PATTERNS:
        text = pattern.sub(expansion, text)
    return text
