"""Text front end: cleaners, number normalisation, CMUdict and the 148-symbol table."""

from speechsynth.text.cleaners import (
    CLEANERS,
    DEFAULT_CLEANERS,
    basic_cleaners,
    clean_text,
    english_cleaners,
    english_cleaners_plus,
    english_cleaners_v2,
    get_cleaners,
    transliteration_cleaners,
)
from speechsynth.text.cmudict import HETERONYMS, NvidiaPronouncer, Pronouncer
from speechsynth.text.numbers import normalize_numbers
from speechsynth.text.numbers_nvidia import expand_numbers
from speechsynth.text.sentences import split_sentences
from speechsynth.text.sequence import (
    DEFAULT_TEXT_RULES,
    TEXT_RULES,
    TextEncoding,
    TextProcessor,
    find_unknown_characters,
    sequence_to_text,
    text_to_sequence,
)
from speechsynth.text.symbols import ARPABET_SYMBOLS, PAD_ID, SYMBOL_TO_ID, SYMBOLS

__all__ = [
    "ARPABET_SYMBOLS",
    "CLEANERS",
    "DEFAULT_CLEANERS",
    "DEFAULT_TEXT_RULES",
    "HETERONYMS",
    "PAD_ID",
    "SYMBOLS",
    "SYMBOL_TO_ID",
    "TEXT_RULES",
    "NvidiaPronouncer",
    "Pronouncer",
    "TextEncoding",
    "TextProcessor",
    "basic_cleaners",
    "clean_text",
    "english_cleaners",
    "english_cleaners_plus",
    "english_cleaners_v2",
    "expand_numbers",
    "find_unknown_characters",
    "get_cleaners",
    "normalize_numbers",
    "sequence_to_text",
    "split_sentences",
    "text_to_sequence",
    "transliteration_cleaners",
]
