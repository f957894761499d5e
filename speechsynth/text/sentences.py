"""Splitting long input into chunks a model can read in one go, at natural boundaries.

Tacotron-style models are trained on single sentences of a few seconds; a whole paragraph in one
pass makes the attention wander. `split_sentences` cuts at sentence ends (`.`, `!`, `?`, `;`,
newlines), then, for a sentence that is still too long, at commas, then at spaces, and packs the
pieces back together greedily so that each chunk stays within `max_chars`.
"""

from __future__ import annotations

import re

from speechsynth.errors import SpeechSynthError

# Words that end with "." without ending a sentence ("Dr. Smith", "Smith et al. showed").
ABBREVIATIONS = frozenset(
    {
        *("mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "rev", "hon", "gen", "col", "lt"),
        *("sgt", "capt", "maj", "cmdr", "gov", "sen", "rep", "mt", "ft", "ave", "blvd", "rd"),
        *("co", "corp", "inc", "ltd", "bros", "vs", "etc", "al", "approx", "dept", "est"),
    }
)
# Abbreviations that are also ordinary words: only abbreviations when a number follows ("No. 5").
NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "vol", "ch", "fig", "p", "pp"})

# Sentence-final punctuation (with any closing quotes or brackets) followed by a space or the end.
# A "." inside a token, as in "3.5" or "e.g", is never followed by a space, so it never matches.
_SENTENCE_END = re.compile(r"[.!?;]+[\"')\]\u201d\u2019]*(?=\s|$)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_NEXT_CHARACTER = re.compile(r"\s*(\S)")


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Chunks of `text`, each at most `max_chars` long, cut at the most natural boundaries.

    Text that already fits comes back whole (as one chunk, newlines turned into spaces).
    Consecutive sentences share a chunk while they fit; a sentence longer than `max_chars` is
    cut at commas, then at spaces, and a single word longer than `max_chars` is cut anywhere.
    Whitespace-only text gives no chunks.
    """
    if max_chars < 1:
        raise SpeechSynthError(f"max_chars must be at least 1, got {max_chars}")
    pieces = []
    for sentence in _sentences(text):
        pieces.extend(_fit_sentence(sentence, max_chars))
    return _pack(pieces, max_chars)


def _sentences(text: str) -> list[str]:
    sentences = []
    for line in text.splitlines():
        start = 0
        for match in _SENTENCE_END.finditer(line):
            if _ends_sentence(line, match):
                sentences.append(line[start : match.end()])
                start = match.end()
        sentences.append(line[start:])
    return [" ".join(sentence.split()) for sentence in sentences if sentence.strip()]


def _ends_sentence(line: str, match: re.Match[str]) -> bool:
    """False for the period of an abbreviation ("Dr.", "e.g.", "No. 5") or an initial ("J.")."""
    if match.group() != ".":
        return True
    word_match = _WORD_BEFORE.search(line, 0, match.start())
    if word_match is None:
        return True
    word = word_match.group(1)
    if "." in word or (len(word) == 1 and word.isupper()):
        return False
    word = word.lower()
    if word in NUMBER_ABBREVIATIONS:
        next_character = _NEXT_CHARACTER.match(line, match.end())
        return next_character is None or not next_character.group(1).isdigit()
    return word not in ABBREVIATIONS


def _fit_sentence(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    clauses = [clause for clause in re.split(r"(?<=,)\s+", sentence) if clause]
    pieces = []
    for clause in clauses:
        pieces.extend(_fit_clause(clause, max_chars) if len(clause) > max_chars else [clause])
    return _pack(pieces, max_chars)


def _fit_clause(clause: str, max_chars: int) -> list[str]:
    words = []
    for word in clause.split():
        # A "word" longer than a chunk (a URL, a run of digits) can only be cut anywhere.
        words.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return _pack(words, max_chars)


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join consecutive pieces with spaces while the result stays within `max_chars`."""
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks
