"""Our number normaliser: spells out money, times, years, units, ... before transliteration.

`normalize_numbers` runs a fixed sequence of small regex passes (see `_PASSES`); each pass turns
one kind of numeric expression into words and leaves everything else alone. Order matters:
the specific patterns (ranges, times, money, percentages, units, fractions, ordinals, decades,
decimals, years) run before the catch-all cardinal pass, which spells out any digits left.
It works on the original Unicode text so that `£`, `€`, `°` and `½` are still recognisable.
Generated words are lower case; the casing of the surrounding text is untouched.
Inflect's hyphens are kept ("twenty-three"), as in NVIDIA's cleaners; its commas are not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import inflect


@functools.cache
def inflect_engine() -> inflect.engine:
    """The shared inflect engine, created on first use (importing inflect takes about 1 s)."""
    import inflect

    return inflect.engine()


# An integer, with or without thousands separators ("1,234,567" but not "1,23").
_INT = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)"
# An integer plus optional decimal part, captured as `int` and `frac`.
_NUMBER = rf"(?P<int>{_INT})(?:\.(?P<frac>[0-9]+))?"
# Not in the middle of another number ("12.5", "1,5", "3/4").
_START = r"(?<![0-9/])(?<![0-9][.,])"
# Longer numbers without separators (ids, phone numbers) are read digit by digit.
_MAX_CARDINAL_DIGITS = 15
# inflect has names up to decillions; beyond that it raises.
INFLECT_MAX_DIGITS = 36

_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


# --- number words -------------------------------------------------------------------------


def spell_digits(digits: str) -> str:
    """ "2048" -> "two zero four eight"."""
    return " ".join(_DIGIT_NAMES[int(digit)] for digit in digits)


def cardinal(number: str | int) -> str:
    """ "1,234" -> "one thousand two hundred thirty-four" (no "and", no commas)."""
    digits = str(number).replace(",", "")
    grouped = "," in str(number)
    if len(digits) > 1 and digits.startswith("0"):
        return spell_digits(digits)
    if len(digits) > (INFLECT_MAX_DIGITS if grouped else _MAX_CARDINAL_DIGITS):
        return spell_digits(digits)
    return inflect_engine().number_to_words(int(digits), andword="", comma="")


def decimal(integer: str, fraction: str | None) -> str:
    """("3", "14") -> "three point one four": digits after the point are read one by one."""
    if fraction is None:
        return cardinal(integer)
    return f"{cardinal(integer)} point {spell_digits(fraction)}"


def ordinal(number: str | int) -> str:
    """ "22" -> "twenty-second"."""
    return inflect_engine().ordinal(cardinal(number))


def year(number: int) -> str:
    """1066 -> "ten sixty-six", 1905 -> "nineteen oh five", 2019 -> "twenty nineteen"."""
    century, rest = divmod(number, 100)
    if number % 1000 == 0 or 2000 < number < 2010:
        return cardinal(number)
    if rest == 0:
        return f"{cardinal(century)} hundred"
    if rest < 10:
        return f"{cardinal(century)} oh {cardinal(rest)}"
    return f"{cardinal(century)} {cardinal(rest)}"


def pluralize_last_word(words: str) -> str:
    """ "nineteen ninety" -> "nineteen nineties"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words + "s"


def _separated(match: re.Match[str], words: str) -> str:
    """Keep number words apart from letters they were glued to ("MP3" -> "MP three")."""
    text = match.string
    before = " " if match.start() > 0 and text[match.start() - 1].isalpha() else ""
    after = " " if match.end() < len(text) and text[match.end()].isalpha() else ""
    return f"{before}{words}{after}"


# --- passes -------------------------------------------------------------------------------

_VULGAR_FRACTIONS = {
    "½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5",
    "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
    "⅞": "7/8",
}  # fmt: skip


def _expand_vulgar_fraction(match: re.Match[str]) -> str:
    whole = match.group("whole")
    fraction = _VULGAR_FRACTIONS[match.group("char")]
    return f"{whole} {fraction}" if whole else fraction


def _expand_number_sign(match: re.Match[str]) -> str:
    return "number "


def _expand_range(match: re.Match[str]) -> str:
    return f"{match.group('first')} to "


def _expand_negative(match: re.Match[str]) -> str:
    return "minus "


_SENTENCE_END_RE = re.compile(r"\s*$|\s+[A-Z]")


def _meridiem(match: re.Match[str]) -> str:
    """ "p.m." -> "p m"; a dotted form that ends a sentence keeps its full stop."""
    letter = match.group("meridiem")
    if letter is None:
        return ""
    words = f" {letter.lower()} m"
    dotted = match.group(0).endswith(".")
    if dotted and _SENTENCE_END_RE.match(match.string, match.end()):
        words += "."
    return words


def _expand_time(match: re.Match[str]) -> str:
    hour = int(match.group("hour"))
    minute_text = match.group("minute")
    words = cardinal(hour)
    if minute_text:  # None or "" when only an hour is given
        minute = int(minute_text)
        if minute == 0 and match.group("meridiem") is None:
            words += " o'clock" if hour <= 12 else " hundred"
        elif 0 < minute < 10:
            words += f" oh {cardinal(minute)}"
        elif minute >= 10:
            words += f" {cardinal(minute)}"
    return words + _meridiem(match)


class Currency(NamedTuple):
    """Names of a currency's main unit and its hundredth, singular and plural."""

    unit: str
    units: str
    subunit: str
    subunits: str


_CURRENCIES = {
    "$": Currency("dollar", "dollars", "cent", "cents"),
    "£": Currency("pound", "pounds", "penny", "pence"),
    "€": Currency("euro", "euros", "cent", "cents"),
}
_CURRENCY_CODES = {"USD": "$", "GBP": "£", "EUR": "€", "€": "€"}
_SHORT_SCALES = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion"}


def _money(currency: Currency, integer: str, fraction: str | None, scale: str | None) -> str:
    if scale:
        return f"{decimal(integer, fraction)} {scale} {currency.units}"
    if fraction is not None and len(fraction) > 2:
        return f"{decimal(integer, fraction)} {currency.units}"
    units = int(integer.replace(",", ""))
    subunits = int(fraction.ljust(2, "0")) if fraction else 0
    parts = []
    if units or not subunits:
        parts.append(f"{cardinal(integer)} {currency.unit if units == 1 else currency.units}")
    if subunits:
        name = currency.subunit if subunits == 1 else currency.subunits
        parts.append(f"{cardinal(subunits)} {name}")
    return " ".join(parts)


def _expand_prefixed_money(match: re.Match[str]) -> str:
    scale = match.group("scale") or _SHORT_SCALES.get((match.group("short") or "").lower())
    currency = _CURRENCIES[match.group("symbol")]
    return _money(currency, match.group("int"), match.group("frac"), scale and scale.lower())


def _expand_suffixed_money(match: re.Match[str]) -> str:
    currency = _CURRENCIES[_CURRENCY_CODES[match.group("code")]]
    return _money(currency, match.group("int"), match.group("frac"), None)


def _expand_percent(match: re.Match[str]) -> str:
    return f"{decimal(match.group('int'), match.group('frac'))} percent"


_UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "m/s": ("meter per second", "meters per second"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "m": ("meter", "meters"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "ml": ("milliliter", "milliliters"),
    "lbs": ("pound", "pounds"),
    "lb": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "ft": ("foot", "feet"),
    "°C": ("degree celsius", "degrees celsius"),
    "°F": ("degree fahrenheit", "degrees fahrenheit"),
    "°": ("degree", "degrees"),
}
# Longest first, so "km/h" wins over "km" and "°C" over "°".
_UNIT_ALTERNATION = "|".join(re.escape(unit) for unit in sorted(_UNITS, key=len, reverse=True))


def _expand_unit(match: re.Match[str]) -> str:
    singular, plural = _UNITS[match.group("unit")]
    is_one = match.group("int") == "1" and match.group("frac") is None
    return f"{decimal(match.group('int'), match.group('frac'))} {singular if is_one else plural}"


_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}
_MAX_COMMON_DENOMINATOR = 10


def _fraction_words(numerator: int, denominator: int) -> str:
    singular, plural = _FRACTION_NAMES.get(denominator) or (
        ordinal(denominator),
        ordinal(denominator) + "s",
    )
    return f"{cardinal(numerator)} {singular if numerator == 1 else plural}"


def _expand_fraction(match: re.Match[str]) -> str:
    numerator, denominator = int(match.group("num")), int(match.group("den"))
    if not 0 < numerator < denominator <= _MAX_COMMON_DENOMINATOR:
        return match.group(0)  # a date or a ratio: the slash pass below deals with it
    words = _fraction_words(numerator, denominator)
    whole = match.group("whole")
    return f"{cardinal(whole)} and {words}" if whole else words


def _expand_slash_between_numbers(match: re.Match[str]) -> str:
    return " "


def _expand_ordinal(match: re.Match[str]) -> str:
    return ordinal(match.group("int"))


def _expand_decade(match: re.Match[str]) -> str:
    return pluralize_last_word(year(int(match.group("year"))))


def _expand_short_decade(match: re.Match[str]) -> str:
    return pluralize_last_word(cardinal(match.group("tens")))


def _expand_decimal(match: re.Match[str]) -> str:
    parts = match.group("fractions").split(".")[1:]
    if len(parts) == 1:
        words = decimal(match.group("int"), parts[0])
    else:  # version numbers and the like: "2.10.1" -> "two point ten point one"
        words = " point ".join(cardinal(part) for part in [match.group("int"), *parts])
    return _separated(match, words)


def _expand_leading_point(match: re.Match[str]) -> str:
    return f"point {spell_digits(match.group('frac'))}"


def _expand_year(match: re.Match[str]) -> str:
    return _separated(match, year(int(match.group("year"))))


def _expand_cardinal(match: re.Match[str]) -> str:
    return _separated(match, cardinal(match.group("int")))


_MERIDIEM = r"(?:\s?(?P<meridiem>[AaPp])(?:\.\s?[Mm]\.|[Mm]\b))"
_HOUR_24 = r"(?P<hour>[01]?[0-9]|2[0-4])"
_HOUR_12 = r"(?P<hour>1[0-2]|0?[1-9])"
_MINUTE = r"(?P<minute>[0-5][0-9])"
_SCALE = r"(?:\s?(?P<scale>(?i:thousand|million|billion|trillion))\b|(?P<short>bn|[kKmMbB])\b)"
_CURRENCY_SYMBOLS = "".join(_CURRENCIES)
_DASHES = r"\-–"  # escaped: it goes inside character classes

Pass = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_PASSES: tuple[Pass, ...] = tuple(
    (re.compile(pattern), expand)
    for pattern, expand in (
        (rf"(?P<whole>[0-9]?)(?P<char>[{''.join(_VULGAR_FRACTIONS)}])", _expand_vulgar_fraction),
        (r"(?:\b[Nn][Oo]\.|#)\s?(?=[0-9])", _expand_number_sign),
        # "5-10", "1990–1995", but not "2019-05-01" or "COVID-19".
        (
            rf"(?<![\w.,/{_DASHES}])(?P<first>{_INT}(?:\.[0-9]+)?)\s?[{_DASHES}]\s?"
            rf"(?={_INT}(?:\.[0-9]+)?(?![0-9]|[.,{_DASHES}][0-9]))",
            _expand_range,
        ),
        (rf"(?<![\w.,/){_DASHES}])[-−](?=[{_CURRENCY_SYMBOLS}]?[0-9])", _expand_negative),
        # Times: "3:30", "15:00", "3:30 pm"; "3.30 pm" (a dot only with am/pm); "3 pm".
        (rf"(?<![0-9:.,]){_HOUR_24}:{_MINUTE}(?![0-9:]){_MERIDIEM}?", _expand_time),
        (rf"(?<![0-9:.,]){_HOUR_12}\.{_MINUTE}{_MERIDIEM}", _expand_time),
        (rf"(?<![0-9:.,]){_HOUR_12}(?P<minute>){_MERIDIEM}", _expand_time),
        (rf"(?P<symbol>[{_CURRENCY_SYMBOLS}])\s?{_NUMBER}{_SCALE}?", _expand_prefixed_money),
        (rf"{_START}{_NUMBER}\s?(?P<code>USD|GBP|EUR|€)(?![A-Za-z])", _expand_suffixed_money),
        (rf"{_START}{_NUMBER}\s?%", _expand_percent),
        (rf"{_START}{_NUMBER}\s?(?P<unit>{_UNIT_ALTERNATION})(?![A-Za-z0-9])", _expand_unit),
        (
            r"(?<![0-9/.,])(?:(?P<whole>[0-9]{1,3})\s)?(?P<num>[0-9]+)/(?P<den>[0-9]+)(?![0-9/])",
            _expand_fraction,
        ),
        (r"(?<=[0-9])/(?=[0-9])", _expand_slash_between_numbers),
        (rf"{_START}(?P<int>{_INT})(?:st|nd|rd|th|ST|ND|RD|TH)\b", _expand_ordinal),
        (rf"{_START}(?P<year>1[0-9]{{2}}0|20[0-9]0)'?s\b", _expand_decade),
        (r"(?<![\w'])'?(?P<tens>[2-9]0)'?s\b", _expand_short_decade),
        (rf"{_START}(?P<int>{_INT})(?P<fractions>(?:\.[0-9]+)+)", _expand_decimal),
        (r"(?<![\w.])\.(?P<frac>[0-9]+)", _expand_leading_point),
        (rf"{_START}(?P<year>1[0-9]{{3}}|20[0-9]{{2}})(?![0-9])(?![.,][0-9])", _expand_year),
        (rf"(?<![0-9])(?P<int>{_INT})", _expand_cardinal),
    )
)


def normalize_numbers(text: str) -> str:
    """Spell out every number in `text` as words ("$3.50" -> "three dollars fifty cents")."""
    for pattern, expand in _PASSES:
        text = pattern.sub(expand, text)
    return text
