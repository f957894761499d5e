"""Text <-> symbol ids, with NVIDIA's semantics.

`{HH AH0 L OW1}` spans are ARPAbet and map to `@HH`-style ids without cleaning; everything else
is cleaned, then mapped character by character. No end-of-sequence or padding id is added.
Characters outside the symbol table (and `_`, `~`) are dropped with one warning per call.

`TextProcessor` reads text by one of the `TEXT_RULES`: how text reaches the cleaners and the
pronunciation dictionary. "speechsynth" cleans each stretch between `{...}` spans as a whole (as
NVIDIA's Tacotron 2, FastPitch 1.0 and FastSpeech do) with our ARPAbet rules; "nvidia_fastpitch11"
is NVIDIA FastPitch 1.1's `TextProcessing.encode_text`, exactly: currency first, then each
whitespace-separated word cleaned on its own, NVIDIA's ARPAbet rules, `_` kept as id 0.
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from speechsynth.errors import SpeechSynthError
from speechsynth.text.cleaners import DEFAULT_CLEANERS, Cleaner, apply_cleaners, get_cleaners
from speechsynth.text.cmudict import NvidiaPronouncer, Pronouncer
from speechsynth.text.english_v2 import expand_currency_symbols
from speechsynth.text.passes import collapse_whitespace
from speechsynth.text.symbols import (
    ARPABET_PREFIX,
    FIRST_LETTER_ID,
    SYMBOL_TO_ID,
    SYMBOLS,
)

LOGGER = logging.getLogger("speechsynth.text")

# NVIDIA matches `{...}` lazily, so "{A} b {C}" is two spans. DOTALL: spans may follow a newline.
_ARPABET_SPAN_RE = re.compile(r"\{(.+?)\}", re.DOTALL)
# Dropped even if in the table, as NVIDIA's Tacotron 2 does: "_" is padding, "~" was an
# end-of-text marker. (NVIDIA's FastPitch 1.1 keeps "_" as id 0.)
_EXCLUDED_CHARACTERS = frozenset("_~")
_PREVIEW_CHARS = 60


@dataclass
class _Encoding:
    """Ids for one text plus what had to be dropped on the way."""

    excluded_characters: frozenset[str] = _EXCLUDED_CHARACTERS
    upper_case_phonemes: bool = True
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
            if symbol_id is None or character in self.excluded_characters:
                self.unknown_characters.add(character)
            else:
                self.ids.append(symbol_id)

    def add_arpabet(self, span: str) -> None:
        # Upper-cased so "{hh ah0}" works too (NVIDIA would drop lower-case phonemes).
        phonemes = span.upper().split() if self.upper_case_phonemes else span.split()
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


def _encode(text: str, cleaners: Sequence[Cleaner], encoding: _Encoding | None = None) -> _Encoding:
    encoding = encoding or _Encoding()
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
    encoding: _Encoding | None = None,
) -> list[int]:
    """Encode `text`; warnings and errors quote `source` (the user's text) when given."""
    encoding = _encode(text, cleaners, encoding)
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


class Pronouncing(Protocol):
    def to_arpabet(self, text: str, should_convert: Callable[[], bool]) -> str: ...


class SpeechsynthRules:
    """Clean each stretch between `{...}` spans whole; our ARPAbet rules (first pronunciation)."""

    name = "speechsynth"
    excluded_characters = _EXCLUDED_CHARACTERS
    upper_case_phonemes = True

    def __init__(self) -> None:
        self.pronouncer: Pronouncing = Pronouncer()

    def clean(self, text: str, cleaners: Sequence[Cleaner]) -> str:
        parts = []
        for piece, is_arpabet in split_arpabet_spans(text):
            if is_arpabet:
                parts.append("{" + " ".join(piece.split()) + "}")
            else:
                parts.append(apply_cleaners(piece, cleaners))
        return "".join(parts)

    def to_arpabet(self, cleaned: str, should_convert: Callable[[], bool]) -> str:
        parts = []
        for piece, is_arpabet in split_arpabet_spans(cleaned):
            if is_arpabet:
                parts.append("{" + piece + "}")
            else:
                parts.append(self.pronouncer.to_arpabet(piece, should_convert))
        return "".join(parts)


# NVIDIA FastPitch 1.1 cleans word by word: an ARPAbet span, or a run of non-space characters.
_NVIDIA_TOKEN_RE = re.compile(r"{[^}]+}|\S+")


class NvidiaFastPitchRules:
    """NVIDIA FastPitch 1.1's `TextProcessing.encode_text`: currency on the raw text, each
    whitespace-separated word cleaned on its own, NVIDIA's ARPAbet rules, "_" kept (id 0)."""

    name = "nvidia_fastpitch11"
    excluded_characters: frozenset[str] = frozenset()
    upper_case_phonemes = False

    def __init__(self) -> None:
        self.pronouncer: Pronouncing = NvidiaPronouncer()

    def clean(self, text: str, cleaners: Sequence[Cleaner]) -> str:
        tokens = _NVIDIA_TOKEN_RE.findall(expand_currency_symbols(text))
        cleaned = [
            token if token.startswith("{") else apply_cleaners(token, cleaners) for token in tokens
        ]
        return collapse_whitespace(" ".join(cleaned))

    def to_arpabet(self, cleaned: str, should_convert: Callable[[], bool]) -> str:
        return self.pronouncer.to_arpabet(cleaned, should_convert)


TEXT_RULES: dict[str, type[SpeechsynthRules] | type[NvidiaFastPitchRules]] = {
    rules.name: rules for rules in (SpeechsynthRules, NvidiaFastPitchRules)
}
DEFAULT_TEXT_RULES = SpeechsynthRules.name


def get_text_rules(name: str) -> SpeechsynthRules | NvidiaFastPitchRules:
    if name not in TEXT_RULES:
        raise SpeechSynthError(f"unknown text rules {name!r}; valid names: {', '.join(TEXT_RULES)}")
    return TEXT_RULES[name]()


@dataclass(frozen=True)
class TextEncoding:
    """What a model reads for one text: the cleaned text, the same with dictionary words as
    ARPAbet (None without ARPAbet), and the symbol ids."""

    cleaned: str
    arpabet: str | None
    ids: list[int]


class TextProcessor:
    """Cleans and encodes text; optionally swaps dictionary words for ARPAbet (FastPitch style).

    `rules` names one of `TEXT_RULES` (how text reaches the cleaners and the dictionary). With
    probability `p_arpabet` each cleaned word that CMUdict knows becomes `{ARPABET}`; the random
    draws come from this instance's own generator, so a fixed `seed` gives the same result every
    time. With `warn_once`, a dropped character or phoneme is reported the first time only
    (training datasets: not once per sentence).
    """

    def __init__(
        self,
        cleaner_names: str | Iterable[str] = DEFAULT_CLEANERS,
        p_arpabet: float = 0.0,
        seed: int | None = None,
        pronouncer: Pronouncing | None = None,
        warn_once: bool = False,
        rules: str = DEFAULT_TEXT_RULES,
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
        self.rules = get_text_rules(rules)
        if pronouncer is not None:
            self.rules.pronouncer = pronouncer
        self._random = random.Random(seed)
        self._reported_drops: set[str] | None = set() if warn_once else None

    @classmethod
    def for_setup(
        cls, setup: Any, seed: int | None = None, warn_once: bool = False
    ) -> TextProcessor:
        """The processor a model reads with: `setup` has `cleaners`, `p_arpabet` and `rules`
        (a `speechsynth.models.registry.TextSetup`, from its checkpoint or export)."""
        return cls(setup.cleaners, setup.p_arpabet, seed, warn_once=warn_once, rules=setup.rules)

    def _draw(self) -> bool:
        return self._random.random() < self.p_arpabet

    def _clean_and_convert(self, text: str) -> tuple[str, str | None]:
        cleaned = self.rules.clean(text, self._cleaners)
        if self.p_arpabet == 0.0:
            return cleaned, None
        return cleaned, self.rules.to_arpabet(cleaned, self._draw)

    def clean(self, text: str) -> str:
        """Cleaned text, with `{...}` spans kept and (maybe) dictionary words as ARPAbet."""
        cleaned, arpabet = self._clean_and_convert(text)
        return cleaned if arpabet is None else arpabet

    def encode_cleaned(self, cleaned: str, source: str | None = None) -> list[int]:
        """Ids for text that `clean` already produced (no further cleaning).

        `source`, the text before cleaning, is what warnings and errors quote.
        """
        encoding = _Encoding(self.rules.excluded_characters, self.rules.upper_case_phonemes)
        return _ids_for(cleaned, (), source, self._reported_drops, encoding)

    def encode(self, text: str) -> list[int]:
        """Symbol ids for `text`: `clean`, then map to ids."""
        return self.encode_cleaned(self.clean(text), source=text)

    def process(self, text: str) -> TextEncoding:
        """Everything the model reads for `text`, step by step (`speechsynth text` shows it)."""
        cleaned, arpabet = self._clean_and_convert(text)
        ids = self.encode_cleaned(cleaned if arpabet is None else arpabet, source=text)
        return TextEncoding(cleaned, arpabet, ids)
