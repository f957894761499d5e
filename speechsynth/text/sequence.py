"""Text <-> symbol ids, with NVIDIA's semantics.

`{HH AH0 L OW1}` spans are ARPAbet and map to `@HH`-style ids without cleaning; everything else
is cleaned, then mapped character by character. No end-of-sequence or padding id is added.
Characters outside the symbol table (and `_`, `~`) are dropped with one warning per call.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from speechsynth.errors import SpeechSynthError
from speechsynth.text.cleaners import DEFAULT_CLEANERS, Cleaner, apply_cleaners, get_cleaners
from speechsynth.text.cmudict import Pronouncer
from speechsynth.text.symbols import (
    ARPABET_PREFIX,
    FIRST_LETTER_ID,
    SYMBOL_TO_ID,
    SYMBOLS,
)

LOGGER = logging.getLogger("speechsynth.text")

# NVIDIA matches `{...}` lazily, so "{A} b {C}" is two spans. DOTALL: spans may follow a newline.
_ARPABET_SPAN_RE = re.compile(r"\{(.+?)\}", re.DOTALL)
# Dropped even if in the table, as NVIDIA does: "_" is padding, "~" was an end-of-text marker.
_EXCLUDED_CHARACTERS = frozenset("_~")
_PREVIEW_CHARS = 60


@dataclass
class _Encoding:
    """Ids for one text plus what had to be dropped on the way."""

    ids: list[int] = field(default_factory=list)
    cleaned_parts: list[str] = field(default_factory=list)
    unknown_characters: set[str] = field(default_factory=set)
    unknown_phonemes: set[str] = field(default_factory=set)

    @property
    def cleaned(self) -> str:
        return "".join(self.cleaned_parts)

    def add_text(self, text: str) -> None:
        self.cleaned_parts.append(text)
        for character in text:
            symbol_id = SYMBOL_TO_ID.get(character)
            if symbol_id is None or character in _EXCLUDED_CHARACTERS:
                self.unknown_characters.add(character)
            else:
                self.ids.append(symbol_id)

    def add_arpabet(self, span: str) -> None:
        # Upper-cased so "{hh ah0}" works too (NVIDIA would drop lower-case phonemes).
        phonemes = span.upper().split()
        self.cleaned_parts.append("{" + " ".join(phonemes) + "}")
        for phoneme in phonemes:
            symbol_id = SYMBOL_TO_ID.get(ARPABET_PREFIX + phoneme)
            if symbol_id is None:
                self.unknown_phonemes.add(phoneme)
            else:
                self.ids.append(symbol_id)


def split_arpabet_spans(text: str) -> Iterator[tuple[str, bool]]:
    """Yield (piece, is_arpabet) in order; ARPAbet pieces come without their braces."""
    position = 0
    for match in _ARPABET_SPAN_RE.finditer(text):
        yield text[position : match.start()], False
        yield match.group(1), True
        position = match.end()
    yield text[position:], False


def _encode(text: str, cleaners: Sequence[Cleaner]) -> _Encoding:
    encoding = _Encoding()
    for piece, is_arpabet in split_arpabet_spans(text):
        if is_arpabet:
            encoding.add_arpabet(piece)
        else:
            encoding.add_text(apply_cleaners(piece, cleaners))
    return encoding


def _preview(text: str) -> str:
    if len(text) > _PREVIEW_CHARS:
        text = text[:_PREVIEW_CHARS] + "..."
    return repr(text)


def _warn_about_dropped(
    encoding: _Encoding, text: str, already_reported: set[str] | None = None
) -> None:
    """One warning listing what `text` lost; with `already_reported`, each character or
    phoneme is reported only the first time (a dataset would otherwise warn per sentence)."""
    unknown_characters = set(encoding.unknown_characters)
    unknown_phonemes = set(encoding.unknown_phonemes)
    if already_reported is not None:
        unknown_characters -= already_reported
        unknown_phonemes -= already_reported
        already_reported |= unknown_characters | unknown_phonemes
    problems = []
    if unknown_characters:
        listed = ", ".join(map(repr, sorted(unknown_characters)))
        problems.append(f"dropped characters not in the symbol table: {listed}")
    if unknown_phonemes:
        listed = ", ".join(map(repr, sorted(unknown_phonemes)))
        problems.append(f"dropped unknown ARPAbet symbols: {listed}")
    if problems:
        once = "; each is reported once" if already_reported is not None else ""
        LOGGER.warning("%s (in %s)%s", "; ".join(problems), _preview(text), once)


def _check_speakable(encoding: _Encoding, text: str) -> None:
    """Reject input that leaves no letter or phoneme to say."""
    if not text.strip():
        raise SpeechSynthError("the text is empty: give text with letters or digits")
    if not any(symbol_id >= FIRST_LETTER_ID for symbol_id in encoding.ids):
        raise SpeechSynthError(
            f"nothing to say in {_preview(text)} (cleaned: {_preview(encoding.cleaned)}): "
            "give text with letters or digits"
        )


def _ids_for(
    text: str,
    cleaners: Sequence[Cleaner],
    source: str | None = None,
    already_reported: set[str] | None = None,
) -> list[int]:
    """Encode `text`; warnings and errors quote `source` (the user's text) when given."""
    encoding = _encode(text, cleaners)
    _warn_about_dropped(encoding, source if source is not None else text, already_reported)
    _check_speakable(encoding, source if source is not None else text)
    return encoding.ids


def text_to_sequence(text: str, cleaner_names: str | Iterable[str] = DEFAULT_CLEANERS) -> list[int]:
    """Symbol ids for `text`: `{...}` spans as ARPAbet, the rest cleaned and mapped by character.

    Raises SpeechSynthError for an unknown cleaner or when nothing speakable is left.
    """
    return _ids_for(text, get_cleaners(cleaner_names))


def find_unknown_characters(
    text: str, cleaner_names: str | Iterable[str] = DEFAULT_CLEANERS
) -> set[str]:
    """What `text_to_sequence` would drop: characters after cleaning, and `{XX}` for phonemes."""
    encoding = _encode(text, get_cleaners(cleaner_names))
    return encoding.unknown_characters | {f"{{{p}}}" for p in encoding.unknown_phonemes}


def sequence_to_text(ids: Iterable[int]) -> str:
    """Symbols for `ids` joined back into text; ARPAbet shown as `{HH AH0}`, unknown ids skipped."""
    pieces = []
    for symbol_id in ids:
        symbol_id = int(symbol_id)
        if not 0 <= symbol_id < len(SYMBOLS):
            continue
        symbol = SYMBOLS[symbol_id]
        if len(symbol) > 1 and symbol.startswith(ARPABET_PREFIX):
            symbol = "{" + symbol[1:] + "}"
        pieces.append(symbol)
    return "".join(pieces).replace("}{", " ")


class TextProcessor:
    """Cleans and encodes text; optionally swaps dictionary words for ARPAbet (FastPitch style).

    With probability `p_arpabet` each cleaned word that CMUdict knows (heteronyms excepted)
    becomes `{ARPABET}`; the random draws come from this instance's own generator, so a
    fixed `seed` gives the same result every time. With `warn_once`, a dropped character or
    phoneme is reported the first time only (training datasets: not once per sentence).
    """

    def __init__(
        self,
        cleaner_names: str | Iterable[str] = DEFAULT_CLEANERS,
        p_arpabet: float = 0.0,
        seed: int | None = None,
        pronouncer: Pronouncer | None = None,
        warn_once: bool = False,
    ) -> None:
        if not isinstance(p_arpabet, int | float) or math.isnan(p_arpabet):
            raise SpeechSynthError(f"p_arpabet must be a number from 0 to 1, got {p_arpabet!r}")
        if not 0.0 <= p_arpabet <= 1.0:
            raise SpeechSynthError(f"p_arpabet must be between 0 and 1, got {p_arpabet}")
        self._cleaners = get_cleaners(cleaner_names)
        self.cleaner_names = (
            (cleaner_names,) if isinstance(cleaner_names, str) else tuple(cleaner_names)
        )
        self.p_arpabet = float(p_arpabet)
        self._random = random.Random(seed)
        self._pronouncer = pronouncer or Pronouncer()
        self._reported_drops: set[str] | None = set() if warn_once else None

    def _draw(self) -> bool:
        return self._random.random() < self.p_arpabet

    def clean(self, text: str) -> str:
        """Cleaned text, with `{...}` spans kept and (maybe) dictionary words as ARPAbet."""
        parts = []
        for piece, is_arpabet in split_arpabet_spans(text):
            if is_arpabet:
                parts.append("{" + " ".join(piece.split()) + "}")
                continue
            cleaned = apply_cleaners(piece, self._cleaners)
            if self.p_arpabet > 0.0:
                cleaned = self._pronouncer.to_arpabet(cleaned, self._draw)
            parts.append(cleaned)
        return "".join(parts)

    def encode_cleaned(self, cleaned: str, source: str | None = None) -> list[int]:
        """Ids for text that `clean` already produced (no further cleaning).

        `source`, the text before cleaning, is what warnings and errors quote.
        """
        return _ids_for(cleaned, (), source, self._reported_drops)

    def encode(self, text: str) -> list[int]:
        """Symbol ids for `text`: `clean`, then map to ids."""
        return self.encode_cleaned(self.clean(text), source=text)
