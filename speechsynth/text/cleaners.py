"""Text cleaners: named `str -> str` pipelines applied before mapping characters to symbols.

`english_cleaners` (Tacotron 2, FastPitch 1.0, FastSpeech) and `english_cleaners_v2` (FastPitch
1.1) are NVIDIA's, pass for pass, with NVIDIA's own transliteration (needed to reproduce NVIDIA's
inputs exactly); `english_cleaners_plus` (our default) swaps in the richer `normalize_numbers`,
runs it on the original Unicode text and transliterates with the `unidecode` package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from unidecode import unidecode

from speechsynth.errors import SpeechSynthError
from speechsynth.text.english_v2 import english_cleaners_v2
from speechsynth.text.numbers import normalize_numbers
from speechsynth.text.numbers_nvidia import expand_numbers
from speechsynth.text.passes import collapse_whitespace, expand_abbreviations, lowercase
from speechsynth.text.transliteration import nvidia_to_ascii

Cleaner = Callable[[str], str]


def unidecode_to_ascii(text: str) -> str:
    """Transliterate with the `unidecode` package ("café" -> "cafe", "£" -> "PS", "世界" ->
    "Shi Jie "): what `english_cleaners_plus` uses; NVIDIA's cleaners use `nvidia_to_ascii`."""
    return unidecode(text)


def basic_cleaners(text: str) -> str:
    """Lowercase and collapse whitespace; for languages other than English."""
    return collapse_whitespace(lowercase(text))


def transliteration_cleaners(text: str) -> str:
    """NVIDIA's: transliterate to ASCII, lowercase and collapse whitespace."""
    return collapse_whitespace(lowercase(nvidia_to_ascii(text)))


def english_cleaners(text: str) -> str:
    """NVIDIA's English pipeline: ASCII, lowercase, numbers, abbreviations, whitespace."""
    text = lowercase(nvidia_to_ascii(text))
    text = expand_abbreviations(expand_numbers(text))
    return collapse_whitespace(text)


def english_cleaners_plus(text: str) -> str:
    """Our default: `normalize_numbers` on the Unicode text, then as `english_cleaners`."""
    text = unidecode_to_ascii(normalize_numbers(text))
    # Transliteration can create digits ("²" -> "2"); spell those out too.
    text = lowercase(normalize_numbers(text))
    return collapse_whitespace(expand_abbreviations(text))


CLEANERS: dict[str, Cleaner] = {
    "english_cleaners_plus": english_cleaners_plus,
    "english_cleaners": english_cleaners,
    "english_cleaners_v2": english_cleaners_v2,
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
