"""NVIDIA's own text front ends, case by case, against fixtures made by running NVIDIA's code."""

from __future__ import annotations

import pytest

from speechsynth.text import TextProcessor, english_cleaners, text_to_sequence
from speechsynth.text.transliteration import nvidia_to_ascii


def _mismatches(cases: dict, actual_for) -> list[str]:
    """One line per case whose result differs, naming the text."""
    lines = []
    for text, expected in cases.items():
        actual = actual_for(text)
        for key, value in actual.items():
            if value != expected[key]:
                lines.append(f"{text!r}: {key} {value!r} != NVIDIA's {expected[key]!r}")
    return lines


def test_english_cleaners_transliterate_as_nvidia_tacotron2(load_parity):
    cases = load_parity("english_cleaners_tacotron2")["cases"]
    assert len(cases) == 32

    def actual(text: str) -> dict:
        return {
            "clean": english_cleaners(text),
            "ids": text_to_sequence(text, ["english_cleaners"]),
        }

    assert _mismatches(cases, actual) == []


def test_english_cleaners_v2_as_nvidia_fastpitch11(load_parity):
    cases = load_parity("english_cleaners_v2")["cases"]
    assert len(cases) == 192
    processor = TextProcessor("english_cleaners_v2", rules="nvidia_fastpitch11")

    def actual(text: str) -> dict:
        encoding = processor.process(text)
        return {"clean": encoding.cleaned, "ids": encoding.ids}

    assert _mismatches(cases, actual) == []


def test_arpabet_as_nvidia_fastpitch11(load_parity):
    cases = load_parity("fastpitch11_text_arpabet")["cases"]
    assert len(cases) == 135
    processor = TextProcessor("english_cleaners_v2", p_arpabet=1.0, rules="nvidia_fastpitch11")

    def actual(text: str) -> dict:
        encoding = processor.process(text)
        return {"clean": encoding.cleaned, "arpabet": encoding.arpabet, "ids": encoding.ids}

    assert _mismatches(cases, actual) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£12", "12"),  # in neither of NVIDIA's tables: dropped
        ("€5", "E5"),
        ("世界", ""),
        ("Zürich", "Zuerich"),  # German transliteration, not unidecode's "Zurich"
        ("“a” – b", '"a" - b'),  # homoglyphs
        ("plain ASCII\x7f", "plain ASCII"),  # NVIDIA looks up DEL (127) too, and drops it
    ],
)
def test_nvidia_transliteration(text, expected):
    assert nvidia_to_ascii(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("cat", "{K AE1 T}"),
        ("hello", "hello"),  # two pronunciations: NVIDIA leaves it as letters
        ("read", "read"),  # one of NVIDIA's heteronyms
        ("don't", "don't"),  # "D OW1 N T" and "D OW1 N"
        ("cat's", "{K AE1 T S}"),  # in CMUdict as it is
        ("kitten's", "{K IH1 T AH0 N Z}"),  # not in CMUdict: "kitten" + " Z"
        ("oswalds", "{AO1 Z W AO0 L D Z}"),  # plural rule
        ("xyzzys", "xyzzys"),  # neither the word nor its stem in CMUdict
    ],
)
def test_nvidia_arpabet_rules(word, expected):
    processor = TextProcessor("english_cleaners_v2", p_arpabet=1.0, rules="nvidia_fastpitch11")
    assert processor.process(word).arpabet == expected
