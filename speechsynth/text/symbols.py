"""The 148-symbol table shared by NVIDIA's Tacotron 2, FastPitch and FastSpeech.

Order matters: an id is an index into the models' embedding table, so this must match NVIDIA
exactly (pad, hyphen, punctuation, upper case, lower case, then '@'-prefixed ARPAbet).
"""

from __future__ import annotations

PAD = "_"
HYPHEN = "-"
PUNCTUATION = "!'(),.:;? "
UPPERCASE = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWERCASE = "abcdefghijklmnopqrstuvwxyz"

# CMUdict vowels carry a stress digit (0, 1, 2) or none; consonants never do.
_VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
_CONSONANTS = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N",
    "NG", "P", "R", "S", "SH", "T", "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip

# CMUdict's `valid_symbols` file order is plain lexicographic order of these 84 strings.
ARPABET_SYMBOLS: tuple[str, ...] = tuple(
    sorted([*_CONSONANTS, *(vowel + stress for vowel in _VOWELS for stress in ("", "0", "1", "2"))])
)
ARPABET_PREFIX = "@"

SYMBOLS: tuple[str, ...] = (
    PAD,
    HYPHEN,
    *PUNCTUATION,
    *UPPERCASE,
    *LOWERCASE,
    *(ARPABET_PREFIX + phoneme for phoneme in ARPABET_SYMBOLS),
)
PAD_ID = 0
SPACE_ID = SYMBOLS.index(" ")
SYMBOL_TO_ID: dict[str, int] = {symbol: index for index, symbol in enumerate(SYMBOLS)}
# Ids that make a sequence speakable: letters and phonemes (punctuation and space alone are not).
FIRST_LETTER_ID = SYMBOL_TO_ID["A"]
