"""Text cleaners: named `str -> str` pipelines applied before mapping characters to symbols.

`english_cleaners` is NVIDIA's, pass for pass (needed to reproduce NVIDIA's inputs exactly);
`english_cleaners_plus` (our default) swaps in the richer `normalize_numbers` and runs it on
the original Unicode text, before transliteration turns "£" into "PS" and "€" into "EUR".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from unidecode import unidecode

from speechsynth.errors import SpeechSynthError
from speechsynth.text.numbers import normalize_numbers
from speechsynth.text.numbers_nvidia import expand_numbers

Cleaner = Callable[[str], str]

_WHITESPACE_RE = re.compile(r"\s+")

# NVIDIA's list: (abbreviation, expansion); matched case-insensitively and only with a full stop.
_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{abbreviation}\.", re.IGNORECASE), expansion)
    for abbreviation, expansion in (
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
)


def convert_to_ascii(text: str) -> str:
    """Transliterate to ASCII ("café" -> "cafe", "£" -> "PS")."""
    return unidecode(text)


def lowercase(text: str) -> str:
    return text.lower()


def collapse_whitespace(text: str) -> str:
    """Turn every run of whitespace (newlines and tabs included) into one space."""
    return _WHITESPACE_RE.sub(" ", text)


def expand_abbreviations(text: str) -> str:
    """ "dr. smith" -> "doctor smith" (NVIDIA's 18 abbreviations; "dr" without "." is left)."""
    for pattern, expansion in _ABBREVIATIONS:
        text = pattern.sub(expansion, text)
    return text


def basic_cleaners(text: str) -> str:
    """Lowercase and collapse whitespace; for languages other than English."""
    return collapse_whitespace(lowercase(text))


def transliteration_cleaners(text: str) -> str:
    """Transliterate to ASCII, lowercase and collapse whitespace."""
    return collapse_whitespace(lowercase(convert_to_ascii(text)))


def english_cleaners(text: str) -> str:
    """NVIDIA's English pipeline: ASCII, lowercase, numbers, abbreviations, whitespace."""
    text = lowercase(convert_to_ascii(text))
    text = expand_abbreviations(expand_numbers(text))
    return collapse_whitespace(text)


def english_cleaners_plus(text: str) -> str:
    """Our default: `normalize_numbers` on the Unicode text, then as `english_cleaners`."""
    text = convert_to_ascii(normalize_numbers(text))
    # Transliteration can create digits ("²" -> "2"); spell those out too.
    text = lowercase(normalize_numbers(text))
    return collapse_whitespace(expand_abbreviations(text))


CLEANERS: dict[str, Cleaner] = {
    "english_cleaners_plus": english_cleaners_plus,
    "english_cleaners": english_cleaners,
    "basic_cleaners": basic_cleaners,
    "transliteration_cleaners": transliteration_cleaners,
}
DEFAULT_CLEANERS: tuple[str, ...] = ("english_cleaners_plus",)


def get_cleaners(cleaner_names: str | Iterable[str]) -> tuple[Cleaner, ...]:
    """Look cleaners up by name; a single name may be given as a plain string."""
    names = (cleaner_names,) if isinstance(cleaner_names, str) else tuple(cleaner_names)
    unknown = [name for name in names if name not in CLEANERS]
    if unknown:
        raise SpeechSynthError(
            f"unknown text cleaner {', '.join(map(repr, unknown))}; "
            f"valid names: {', '.join(CLEANERS)}"
        )
    return tuple(CLEANERS[name] for name in names)


def apply_cleaners(text: str, cleaners: Iterable[Cleaner]) -> str:
    for cleaner in cleaners:
        text = cleaner(text)
    return text


def clean_text(text: str, cleaner_names: str | Iterable[str] = DEFAULT_CLEANERS) -> str:
    """Run the named cleaners over `text`, in order."""
    return apply_cleaners(text, get_cleaners(cleaner_names))
