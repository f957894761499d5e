"""NVIDIA FastPitch 1.1's `english_cleaners_v2`, pass for pass, quirks included.

What NVIDIA's FastPitch 1.1 checkpoints were trained on (`common/text/cleaners.py` and the modules
it calls). Order: NVIDIA's transliteration, times with am/pm, letters mixed with digits, units,
dimensions, numbers (currency, decimals, ordinals, Roman numerals, "2x3", cardinals with years and
plurals), abbreviations ("No. 5", "%", "&", "@", "x.com", "Mr."), acronyms spelled with full stops
("CEO" -> "c.e.o."), lower case, one space, and "/" read as a space.

NVIDIA's `TextProcessing.encode_text` runs `expand_currency` over the raw text first (while "€"
and "£" are still there) and then this cleaner over each whitespace-separated word on its own;
`speechsynth.text.sequence` does the same for models that read text NVIDIA's FastPitch 1.1 way.
Consequences users see: "3:30 pm" becomes "three:thirty pm" (the time rule never sees "pm" beside
the digits), "5 PM" becomes "five p.m." (the acronym rule spells "PM").
"""

from __future__ import annotations

import re

from speechsynth.text.numbers import inflect_engine
from speechsynth.text.numbers_nvidia import read_money, read_year
from speechsynth.text.passes import ABBREVIATIONS, abbreviation_patterns, collapse_whitespace
from speechsynth.text.transliteration import nvidia_to_ascii

# --- times ---------------------------------------------------------------------------------

_AMPM_RE = re.compile(r"([0-9]|0[0-9]|1[0-9]|2[0-3]):?([0-5][0-9])?\s*([AaPp][Mm]\b)")


def _expand_ampm(match: re.Match[str]) -> str:
    hours, minutes, suffix = match.group(1), match.group(2) or "0", match.group(3)
    words = hours if int(minutes) == 0 else f"{hours} {minutes}"
    return f"{words} {suffix[0].lower()}.m."


def normalize_datestime(text: str) -> str:
    """ "5pm" -> "5 p.m.", "10:15am" -> "10 15 a.m." (digits stay for the number pass)."""
    return _AMPM_RE.sub(_expand_ampm, text)


# --- letters and numbers -------------------------------------------------------------------

_LETTERS_AND_NUMBERS_RE = re.compile(
    r"((?:[a-zA-Z]+[0-9]|[0-9]+[a-zA-Z])[a-zA-Z0-9']*)", re.IGNORECASE
)
_HARDWARE_RE = re.compile(
    r"([0-9]+(?:[.,][0-9]+)?)(?:\s?)(tb|gb|mb|kb|ghz|mhz|khz|hz|mm)", re.IGNORECASE
)
_HARDWARE_UNITS = {
    "tb": "terabyte",
    "gb": "gigabyte",
    "mb": "megabyte",
    "kb": "kilobyte",
    "ghz": "gigahertz",
    "mhz": "megahertz",
    "khz": "kilohertz",
    "hz": "hertz",
    "mm": "millimeter",
}
_SIDE = r"\d+(?:[,.]\d+)?"
_DIMENSION_RE = re.compile(
    rf"\b({_SIDE}\s*[xX]\s*{_SIDE}\s*[xX]\s*{_SIDE}(?:in|inch|m)?)\b"
    rf"|\b({_SIDE}\s*[xX]\s*{_SIDE}(?:in|inch|m)?)\b"
)
_DIMENSION_UNITS = {"m": "meter", "in": "inch", "inch": "inch"}
_NUMBER_SUFFIXES = ("'s", "s", "th", "nd", "st", "rd")


def _digit_groups(digits: str) -> list[str]:
    """How NVIDIA reads up to four digits inside a word: "1905" -> 19 0 5, "747" -> 7 47."""
    if len(digits) > 2 and digits[-2] == "0":
        return [digits] if digits[-1] == "0" else [digits[:-2], digits[-2], digits[-1]]
    if len(digits) % 2 == 0:
        return [digits[i : i + 2] for i in range(0, len(digits), 2)]
    if len(digits) > 2:
        return [digits[0]] + [digits[i : i + 2] for i in range(1, len(digits), 2)]
    return [digits]


def _expand_letters_and_numbers(match: re.Match[str]) -> str:
    parts = re.split(r"(\d+)", match.group(0))
    if parts[-1] == "":
        parts = parts[:-1]
    elif parts[0] == "":
        parts = parts[1:]
    if parts[-1] in _NUMBER_SUFFIXES and parts[-2].isdigit():  # "1920s", "AK47's", "20th"
        parts = [*parts[:-2], parts[-2] + parts[-1]]
    words: list[str] = []
    for part in parts:
        if part.isdigit() and len(part) < 5:
            words.extend(_digit_groups(part))
        else:
            words.append(part)
    return " ".join(words)


def _expand_hardware(match: re.Match[str]) -> str:
    quantity, unit = match.group(1), _HARDWARE_UNITS[match.group(2).lower()]
    if not unit.endswith("z") and float(quantity.replace(",", "")) > 1:
        return f"{quantity} {unit}s"
    return f"{quantity} {unit}"


def _expand_dimension(match: re.Match[str]) -> str:
    text = "".join(group for group in match.groups() if group is not None)
    text = text.replace(" x ", " by ").replace("x", " by ")
    if text.endswith(tuple(_DIMENSION_UNITS)):
        if text[-2].isdigit():
            return f"{text[:-1]} {_DIMENSION_UNITS[text[-1:]]}"
        if text[-3].isdigit():
            return f"{text[:-2]} {_DIMENSION_UNITS[text[-2:]]}"
    return text


def normalize_letters_and_numbers(text: str) -> str:
    """ "5GB" -> "5 gigabytes", "2x3m" -> "2 by 3 meter", "GPT4" -> "GPT 4", "B2B" -> "B 2 B"."""
    text = _HARDWARE_RE.sub(_expand_hardware, text)
    text = _DIMENSION_RE.sub(_expand_dimension, text)
    return _LETTERS_AND_NUMBERS_RE.sub(_expand_letters_and_numbers, text)


# --- numbers -------------------------------------------------------------------------------

_MAGNITUDES = ("trillion", "billion", "million", "thousand", "hundred", "m", "b", "t")
_MAGNITUDE_LETTERS = {"m": "million", "b": "billion", "t": "trillion"}
_CURRENCY_NAMES = {"$": "dollar", "£": "pound", "€": "euro", "₩": "won"}
_COMMA_NUMBER_RE = re.compile(r"([0-9][0-9,]+[0-9])")
_DECIMAL_RE = re.compile(r"([0-9]+\.[0-9]+)")
CURRENCY_RE = re.compile(
    rf"([$€£₩])([0-9.,]*[0-9]+)(?:[ ]?({'|'.join(_MAGNITUDES)})(?=[^a-zA-Z]|$))?", re.IGNORECASE
)
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
# Roman numerals of two or more letters whose units part is II, III, IV, IX or V+I's ("I" stays).
_ROMAN_RE = re.compile(
    r"\b(?=[MDCLXVI]+\b)M{0,4}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{2,3})\b"
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_MULTIPLY_RE = re.compile(r"(\b[0-9]+)(x)([0-9]+)")
_NUMBER_RE = re.compile(r"[0-9]+'s|[0-9]+s|[0-9]+")


def _words(number: int | str, **options: str | int) -> str:
    return inflect_engine().number_to_words(number, **options)


def _hundreds(quantity: int | str) -> str:
    """Currency amounts: 1000 < n < 10000 in whole hundreds is "N hundred" ("fifteen hundred")."""
    number = float(quantity)
    if 1000 < number < 10000 and number % 100 == 0 and number % 1000 != 0:
        return _words(int(number / 100)) + " hundred"
    return _words(quantity)


def expand_currency(match: re.Match[str]) -> str:
    """ "$3.50" -> "three dollars, fifty cents", "€2m" -> "two million euros"."""
    currency = _CURRENCY_NAMES[match.group(1)]
    quantity = match.group(2).replace(",", "")
    magnitude = match.group(3)
    if magnitude is not None and magnitude.lower() in _MAGNITUDES:
        if len(magnitude) == 1:
            magnitude = _MAGNITUDE_LETTERS[magnitude.lower()]
        return f"{_hundreds(quantity)} {magnitude} {currency}s"
    return read_money(quantity, currency, _hundreds, _words)


def _roman_to_arabic(match: re.Match[str]) -> str:
    numeral = match.group(0)
    values = [_ROMAN_VALUES[letter] for letter in numeral]
    total = 0
    for value, following in zip(values, [*values[1:], 0], strict=True):
        total += value if value >= following else -value
    return str(total)


def _cardinal_v2(number: int) -> str:
    # NVIDIA's condition reads `number > 1000 < 10000`, i.e. just `number > 1000`.
    if number > 1000 and number % 100 == 0 and number % 1000 != 0:
        return _words(number // 100) + " hundred"
    if 1000 < number < 3000:
        return read_year(number).replace("-", " ")
    return _words(number, andword="and").replace("-", " ").replace(",", "")


def _expand_number(match: re.Match[str]) -> str:
    _, digits, suffix = re.split(r"(\d+(?:'?\d+)?)", match.group(0))
    words = _cardinal_v2(int(digits))
    if suffix in ("'s", "s"):  # "1990s" -> "nineteen nineties"
        return words[:-1] + "ies" if words.endswith("y") else words + suffix
    return words


def normalize_numbers_v2(text: str) -> str:
    """FastPitch 1.1's `normalize_numbers`: "and" in cardinals, no hyphens, years, decades."""
    text = _COMMA_NUMBER_RE.sub(lambda match: match.group(1).replace(",", ""), text)
    text = CURRENCY_RE.sub(expand_currency, text)
    text = _DECIMAL_RE.sub(lambda match: match.group(1).replace(".", " point "), text)
    text = _ORDINAL_RE.sub(lambda match: _words(match.group(0)), text)
    text = _ROMAN_RE.sub(_roman_to_arabic, text)
    text = _MULTIPLY_RE.sub(r"\1 by \3", text)
    return _NUMBER_RE.sub(_expand_number, text)


# --- abbreviations -------------------------------------------------------------------------

_NUMBER_ABBREVIATION_RE = re.compile(r"No[.](?=[ ]?[0-9])")
_PERCENT_RE = re.compile(r"[ ]?%")
_HALF_RE = re.compile(r"([0-9]½)|(½)")
_URL_RE = re.compile(r"([a-zA-Z])\.(com|gov|org)")
_ABBREVIATIONS_V2 = abbreviation_patterns(
    (*ABBREVIATIONS, ("ms", "miss"), ("sen", "senator"), ("etc", "et cetera"))
)


def _expand_half(match: re.Match[str]) -> str:
    return "half" if match.group(1) is None else match.group(1)[0] + " and a half"


def normalize_abbreviations_v2(text: str) -> str:
    """ "No. 5" -> "Number 5", "%" -> " percent", "&" -> " and ", "x.com" -> "x dot com"."""
    text = _NUMBER_ABBREVIATION_RE.sub("Number", text)
    text = _PERCENT_RE.sub(" percent", text)
    text = _HALF_RE.sub(_expand_half, text)
    text = text.replace("&", " and ").replace("@", " at ")
    text = _URL_RE.sub(r"\1 dot \2", text)
    for pattern, expansion in _ABBREVIATIONS_V2:
        text = pattern.sub(expansion, text)
    return text


# --- acronyms ------------------------------------------------------------------------------

_ACRONYM_RE = re.compile(r"([a-z]*[A-Z][A-Z]+)s?\.?")
_ACRONYM_EXCEPTIONS = {"NVIDIA": "N.VIDIA"}
_EMAIL_RE = re.compile(r"\bemail\b", re.IGNORECASE)


def _spell_acronym(match: re.Match[str]) -> str:
    whole, acronym = match.group(0), match.group(1)
    text = _ACRONYM_EXCEPTIONS.get(acronym) or ".".join(acronym) + "."
    if "s" in whole:  # NVIDIA looks for an "s" anywhere in the match, its prefix included
        text += "'s"
    if text[-1] != "." and whole[-1] == ".":
        return text + "."
    return text


def spell_acronyms(text: str) -> str:
    """ "CEO" -> "C.E.O.", "GPUs" -> "G.P.U.'s", "email" -> "e-mail"."""
    text = _EMAIL_RE.sub("e-mail", text)
    return _ACRONYM_RE.sub(_spell_acronym, text)


# --- the cleaner ---------------------------------------------------------------------------

_SLASHES_RE = re.compile(r"/+")


def english_cleaners_v2(text: str) -> str:
    """NVIDIA FastPitch 1.1's English pipeline (see the module docstring for its order)."""
    text = nvidia_to_ascii(text)
    text = normalize_datestime(text)
    text = normalize_letters_and_numbers(text)
    text = normalize_numbers_v2(text)
    text = normalize_abbreviations_v2(text)
    text = spell_acronyms(text)
    text = collapse_whitespace(text.lower())
    return _SLASHES_RE.sub(" ", text)


def expand_currency_symbols(text: str) -> str:
    """What NVIDIA's `encode_text` does to the raw text before cleaning: "€15.75" ->
    "fifteen euros, seventy-five cents" (the symbols would not survive transliteration)."""
    return CURRENCY_RE.sub(expand_currency, text)
