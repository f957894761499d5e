"""NVIDIA's `expand_numbers`, reproduced pass for pass for `english_cleaners` parity.

Behaviour (including the quirks) follows the NVIDIA reference: commas are removed from
digit groups, `£N` and `$D.C` become words, `N.M` is read "N point M" (M as a whole number),
ordinals and integers go through inflect, and 1000 < n < 3000 is read as a year.
It runs after lowercasing, so it only ever sees lower-case text.
"""

from __future__ import annotations

import re

from speechsynth.text.numbers import INFLECT_MAX_DIGITS, inflect_engine

_COMMA_NUMBER_RE = re.compile(r"([0-9][0-9,]+[0-9])")
_POUNDS_RE = re.compile(r"£([0-9,]*[0-9]+)")
_DOLLARS_RE = re.compile(r"\$([0-9.,]*[0-9]+)")
_DECIMAL_RE = re.compile(r"([0-9]+\.[0-9]+)")
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER_RE = re.compile(r"[0-9]+")


def _remove_commas(match: re.Match[str]) -> str:
    return match.group(1).replace(",", "")


def _unit(count: int, singular: str, plural: str) -> str:
    return singular if count == 1 else plural


def _expand_dollars(match: re.Match[str]) -> str:
    amount = match.group(1)
    parts = amount.split(".")
    if len(parts) > 2:
        return f"{amount} dollars"  # an unexpected format: NVIDIA reads it as-is
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    dollar_words = f"{dollars} {_unit(dollars, 'dollar', 'dollars')}"
    cent_words = f"{cents} {_unit(cents, 'cent', 'cents')}"
    if dollars and cents:
        return f"{dollar_words}, {cent_words}"
    if dollars:
        return dollar_words
    if cents:
        return cent_words
    return "zero dollars"


def _expand_decimal_point(match: re.Match[str]) -> str:
    return match.group(1).replace(".", " point ")


def _number_to_words(number: int | str, **options: str | int) -> str:
    return inflect_engine().number_to_words(number, **options)


def _spell_digits(digits: str) -> str:
    return " ".join(_number_to_words(int(digit)) for digit in digits)


def _expand_ordinal(match: re.Match[str]) -> str:
    # inflect's default andword ("and") is kept on purpose: NVIDIA says "one hundred and third".
    return _number_to_words(match.group(0))


def _expand_number(match: re.Match[str]) -> str:
    number = int(match.group(0))
    if 1000 < number < 3000:
        if number == 2000:
            return "two thousand"
        if 2000 < number < 2010:
            return "two thousand " + _number_to_words(number % 100)
        if number % 100 == 0:
            return _number_to_words(number // 100) + " hundred"
        words = _number_to_words(number, andword="", zero="oh", group=2)
        return words.replace(", ", " ")
    if len(str(number)) > INFLECT_MAX_DIGITS:
        # NVIDIA crashes on numbers beyond inflect's range; read the digits instead.
        return _spell_digits(match.group(0))
    return _number_to_words(number, andword="")


def expand_numbers(text: str) -> str:
    """Spell out the numbers in `text` exactly as NVIDIA's `english_cleaners` does."""
    text = _COMMA_NUMBER_RE.sub(_remove_commas, text)
    text = _POUNDS_RE.sub(r"\1 pounds", text)
    text = _DOLLARS_RE.sub(_expand_dollars, text)
    text = _DECIMAL_RE.sub(_expand_decimal_point, text)
    text = _ORDINAL_RE.sub(_expand_ordinal, text)
    return _NUMBER_RE.sub(_expand_number, text)
