import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.text import split_sentences


def test_text_that_fits_is_one_chunk():
    assert split_sentences("Hello there. How are you?", 100) == ["Hello there. How are you?"]


def test_whitespace_only_gives_no_chunks():
    assert split_sentences("  \n\t ", 50) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One two. Three four! Five six? Seven", ["One two.", "Three four!", "Five six?", "Seven"]),
        ("First part; second part.", ["First part;", "second part."]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Wait... What?! Yes.", ["Wait...", "What?!", "Yes."]),
        ("Line one\nLine two\n\nLine three", ["Line one", "Line two", "Line three"]),
    ],
)
def test_splits_at_sentence_ends(text, expected):
    # max_chars = the longest sentence: no two sentences fit in one chunk, none is cut.
    assert split_sentences(text, max(map(len, expected))) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Dr. Smith met Mr. Jones at the lab.",
        "It cost 3.5 dollars, or $3.50 in all.",
        "See No. 5 on the list, e.g. the red one.",
        "J. R. R. Tolkien wrote it, etc. and so on.",
        "We met at 3 p.m. near St. Paul.",
    ],
)
def test_abbreviations_and_decimals_do_not_end_a_sentence(sentence):
    text = f"{sentence} Next one here."
    assert split_sentences(text, len(sentence) + 5) == [sentence, "Next one here."]


def test_no_ends_a_sentence_unless_a_number_follows():
    assert split_sentences("I said no. Then I left.", 15) == ["I said no.", "Then I left."]


def test_consecutive_short_sentences_are_packed():
    assert split_sentences("A b. C d. E f. G h.", 10) == ["A b. C d.", "E f. G h."]


def test_long_sentence_is_split_at_commas():
    text = "the first clause is here, the second clause is here, and the third one."
    chunks = split_sentences(text, 30)
    assert chunks == [
        "the first clause is here,",
        "the second clause is here,",
        "and the third one.",
    ]


def test_long_clause_is_split_at_spaces():
    text = "one two three four five six seven eight nine ten"
    chunks = split_sentences(text, 15)
    assert chunks == ["one two three", "four five six", "seven eight", "nine ten"]
    assert " ".join(chunks) == text


def test_overlong_word_is_cut():
    assert split_sentences("abcdefghij xy", 4) == ["abcd", "efgh", "ij", "xy"]


@pytest.mark.parametrize("max_chars", [5, 20, 60, 200])
def test_every_chunk_fits_and_no_word_is_lost(max_chars):
    text = (
        "Printing, in the only sense with which we are at present concerned, differs from most "
        "if not from all the arts and crafts represented in the Exhibition. Dr. Smith agreed; "
        "he paid $3.50!\nA new line follows here, with a comma, and more words after it."
    )
    chunks = split_sentences(text, max_chars)
    assert all(0 < len(chunk) <= max_chars for chunk in chunks)
    if max_chars >= 12:  # no word of the text is longer: words are only regrouped
        assert " ".join(chunks).split() == text.split()


def test_max_chars_must_be_positive():
    with pytest.raises(SpeechSynthError, match="max_chars"):
        split_sentences("text", 0)
