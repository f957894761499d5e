import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.text import (
    CLEANERS,
    DEFAULT_CLEANERS,
    basic_cleaners,
    clean_text,
    english_cleaners,
    english_cleaners_plus,
    expand_numbers,
    transliteration_cleaners,
)
from speechsynth.text.cleaners import collapse_whitespace, expand_abbreviations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mrs. Smith and Mr. Jones met Dr. Who.", "misess smith and mister jones met doctor who."),
        ("St. Louis, Ft. Worth, Gen. Lee", "saint louis, fort worth, general lee"),
        ("Capt. Lt. Col. Sgt. Maj. Rev.", "captain lieutenant colonel sergeant major reverend"),
        ("Hon. Esq. Jr. Drs. Ltd. Co.", "honorable esquire junior doctors limited company"),
        ("mr smith", "mr smith"),  # no full stop, no expansion
        ("the first.", "the first."),  # "st." inside a word is not "saint"
        ("It cost $3.50", "it cost three dollars, fifty cents"),
        ("$3.5", "three dollars, five cents"),  # NVIDIA reads the cents digits as a number
        ("$1.01", "one dollar, one cent"),
        ("$0.99", "ninety-nine cents"),
        ("$0", "zero dollars"),
        ("$1,000,000", "one million dollars"),
        ("$1.2.3", "one point two.three dollars"),  # >2 parts: "X dollars" around the raw text
        ("in 1995", "in nineteen ninety-five"),
        ("in 2000", "in two thousand"),
        ("in 2005", "in two thousand five"),
        ("in 1900", "in nineteen hundred"),
        ("in 1066", "in ten sixty-six"),
        ("in 2999", "in twenty-nine ninety-nine"),
        ("in 1000", "in one thousand"),  # 1000 < n < 3000 only
        ("in 3000", "in three thousand"),
        ("1,234,567 people",
         "one million, two hundred thirty-four thousand, five hundred sixty-seven people"),
        ("1,990 people", "nineteen ninety people"),  # commas go first, so it becomes a year
        ("3.14", "three point fourteen"),
        ("the 103rd", "the one hundred and third"),
        ("22nd", "twenty-second"),
        ("café  \n\t naïve", "cafe naive"),
    ],
)  # fmt: skip
def test_nvidia_english_cleaners(text, expected):
    assert english_cleaners(text) == expected


def test_nvidia_pounds_rule_never_fires_because_ascii_runs_first():
    # NVIDIA's transliteration drops "£" before expand_numbers sees it.
    assert english_cleaners("£5") == "five"
    assert expand_numbers("£5") == "five pounds"


def test_nvidia_numbers_expand_before_abbreviations():
    # "no." is not an abbreviation, and numbers are words by the time abbreviations run.
    assert english_cleaners("No. 5 St.") == "no. five saint"


def test_nvidia_huge_numbers_are_read_digit_by_digit_instead_of_crashing():
    assert expand_numbers("1" * 40) == " ".join(["one"] * 40)


def test_expand_abbreviations_needs_word_boundary_and_stop():
    assert expand_abbreviations("dr. x, dr x, adr. y") == "doctor x, dr x, adr. y"


def test_collapse_whitespace():
    assert collapse_whitespace("a \n\t  b\u00a0c") == "a b c"


def test_basic_and_transliteration_cleaners():
    assert basic_cleaners("Über  Café") == "über café"
    assert transliteration_cleaners("Über  Café") == "ueber cafe"  # NVIDIA's transliteration


def test_english_cleaners_plus_reads_currency_before_transliteration():
    assert (
        english_cleaners_plus("Dr. Smith paid £2.50") == "doctor smith paid two pounds fifty pence"
    )
    assert english_cleaners_plus("€5") == "five euros"


def test_english_cleaners_plus_spells_digits_created_by_transliteration():
    assert english_cleaners_plus("x² and ①") == "x two and one"


def test_registry_and_default():
    assert DEFAULT_CLEANERS == ("english_cleaners_plus",)
    assert set(CLEANERS) == {
        "english_cleaners_plus",
        "english_cleaners",
        "english_cleaners_v2",
        "basic_cleaners",
        "transliteration_cleaners",
    }
    assert clean_text("Dr. Who", ["english_cleaners"]) == "doctor who"
    assert clean_text("Dr. Who", "basic_cleaners") == "dr. who"
    assert clean_text("A  B", ["basic_cleaners", "transliteration_cleaners"]) == "a b"


def test_unknown_cleaner_lists_valid_names():
    with pytest.raises(SpeechSynthError, match=r"'nope'.*english_cleaners_plus.*basic_cleaners"):
        clean_text("x", ["english_cleaners", "nope"])
