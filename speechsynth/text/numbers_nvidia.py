"""NVIDIA's `expand_numbers`, reproduced pass for pass for `english_cleaners` parity.

Behaviour (including the quirks) follows the NVIDIA reference: commas are removed from
digit groups, `£N` and `$D.C` become words, `N.M` is read "N point M" (M as a whole number),
ordinals and integers go through inflect, and 1000 < n < 3000 is read as a year.
It runs after lowercasing, so it only ever sees lower-case text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from speechsynth.text.numbers import INFLECT_MAX_DIGITS, inflect_engine

_COMMA_NUMBER_RE = re.compile(r"([0-9][0-9,]+[0-9])")
_POUNDS_RE = re.compile(r"£([0-9,]*[0-9]+)")
_DOLLARS_RE = re.compile(r"\$([0-9.,]*[0-9]+)")
_DECIMAL_RE = re.compile(r"([0-9]+\.[0-9]+)")
_ORDINAL_RE = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER_RE = re.compile(r"[0-9]+")


def _remove_commas(match: re.Match[str]) -> str:
    return match.group(1).replace(",", "")


def _unit(count: int, singular: str) -> str:
    return singular if count == 1 else singular + "s"


def read_money(
    amount: str,
    currency: str,
    whole_words: Callable[[int], str] = str,
    cent_words: Callable[[int], str] = str,
) -> str:
    """NVIDIA's reading of an amount "D.C": "D dollars, C cents" (singular for 1; "zero
    dollars" for nothing; C read as a whole number, so "3.5" is "3 dollars, 5 cents")."""
    parts = amount.split(".")
    if len(parts) > 2:
        return f"{amount} {currency}s"  # an unexpected format: NVIDIA reads it as-is
    whole = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    pieces = []
    if whole:
        pieces.append(f"{whole_words(whole)} {_unit(whole, currency)}")
    if cents:
        pieces.append(f"{cent_words(cents)} {_unit(cents, 'cent')}")
    return ", ".join(pieces) or f"zero {currency}s"


def _expand_dollars(match: re.Match[str]) -> str:
    return read_money(match.group(1), "dollar")


def _expand_decimal_point(match: re.Match[str]) -> str:
    return match.group(1).replace(".", " point ")


def _number_to_words(number: int | str, **options: str | int) -> str:
    return inflect_engine().number_to_words(number, **options)


def _spell_digits(digits: str) -> str:
    return " ".join(_number_to_words(int(digit)) for digit in digits)


def _expand_ordinal(match: re.Match[str]) -> str:
    # inflect's default andword ("and") is kept on purpose: NVIDIA says "one hundred and third".
    return _number_to_words(match.group(0))


def read_year(number: int) -> str:
    """NVIDIA's reading of 1000 < n < 3000 as a year: "nineteen ninety-five", "two thousand
    five", "twenty-one hundred"."""
    if number == 2000:
        return "two thousand"
    if 2000 < number < 2010:
        return "two thousand " + _number_to_words(number % 100)
    if number % 100 == 0:
        return _number_to_words(number // 100) + " hundred"
    return _number_to_words(number, andword="", zero="oh", group=2).replace(", ", " ")


def _expand_number(match: re.Match[str]) -> str:
    number = int(match.group(0))
    if 1000 < number < 3000:
        return read_year(number)
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
