import logging

import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.text import (
    SYMBOL_TO_ID,
    Pronouncer,
    TextProcessor,
    find_unknown_characters,
    sequence_to_text,
    text_to_sequence,
)

NVIDIA = ["english_cleaners"]


def test_parity_with_nvidia_tacotron2_input(tacotron2_inputs):
    expected = tacotron2_inputs["text_ids"][0].tolist()
    assert text_to_sequence(tacotron2_inputs["text"], NVIDIA) == expected


def test_parity_with_nvidia_fastpitch_batch(fastpitch10_inputs):
    batch = fastpitch10_inputs["batch_text_ids"]
    lengths = fastpitch10_inputs["batch_input_lengths"].tolist()
    assert text_to_sequence(fastpitch10_inputs["text"], NVIDIA) == batch[0].tolist()
    assert text_to_sequence(fastpitch10_inputs["text_b"], NVIDIA) == batch[1, : lengths[1]].tolist()
    assert batch[1, lengths[1] :].eq(0).all()  # right padding uses the pad id


def test_maps_characters_with_no_eos_or_padding():
    assert text_to_sequence("Hi, a-b!", "basic_cleaners") == [45, 46, 6, 11, 38, 1, 39, 2]


def test_round_trip(tacotron2_inputs):
    ids = tacotron2_inputs["text_ids"][0].tolist()
    assert sequence_to_text(ids) == tacotron2_inputs["text"].lower()


def test_arpabet_spans_are_not_cleaned():
    ids = text_to_sequence("Say {HH AH0 L OW1} 2 {W ER1 L D}!")
    at = [SYMBOL_TO_ID["@" + phoneme] for phoneme in ("HH", "AH0", "L", "OW1")]
    assert ids[4:8] == at
    assert sequence_to_text(ids) == "say {HH AH0 L OW1} two {W ER1 L D}!"


def test_adjacent_arpabet_spans_merge_in_sequence_to_text():
    ids = text_to_sequence("{HH AH0}{L OW1}")
    assert sequence_to_text(ids) == "{HH AH0 L OW1}"


def test_sequence_to_text_skips_ids_outside_the_table():
    assert sequence_to_text([45, 999, -1, 46]) == "hi"


def test_unknown_characters_dropped_with_one_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="speechsynth.text"):
        ids = text_to_sequence("a#b ü_~ {XX HH}", "basic_cleaners")
    assert ids == [38, 39, 11, 11, SYMBOL_TO_ID["@HH"]]
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "dropped characters not in the symbol table: '#', '_', '~', 'ü'" in message
    assert "'XX'" in message


def test_a_dataset_processor_reports_each_dropped_character_once(caplog):
    processor = TextProcessor(NVIDIA, warn_once=True)
    with caplog.at_level(logging.WARNING, logger="speechsynth.text"):
        first = processor.encode('He said "yes".')
        processor.encode('"No," she said.')
        processor.encode('A "quote" and a #hash.')
    assert first == text_to_sequence("He said yes.", NVIDIA)  # still dropped every time
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "'\"'" in messages[0] and "'#'" in messages[1] and "'\"'" not in messages[1]
    with caplog.at_level(logging.WARNING, logger="speechsynth.text"):
        TextProcessor(NVIDIA).encode('"again"')  # interactive use: every time
    assert len(caplog.records) == 3


def test_no_warning_for_clean_text(caplog):
    with caplog.at_level(logging.WARNING, logger="speechsynth.text"):
        text_to_sequence("Hello, world.")
    assert caplog.records == []


def test_find_unknown_characters():
    assert find_unknown_characters("a#b ü {XX}", "basic_cleaners") == {"#", "ü", "{XX}"}
    assert find_unknown_characters("café", "english_cleaners") == set()


@pytest.mark.parametrize("text", ["", "   \n", "...", "#$%"])
def test_nothing_to_say_is_an_error(text):
    with pytest.raises(SpeechSynthError, match="letters or digits"):
        text_to_sequence(text)


def test_error_quotes_a_truncated_input():
    with pytest.raises(SpeechSynthError) as error:
        text_to_sequence("#" * 500)
    assert "#" * 60 + "..." in str(error.value)
    assert "#" * 61 not in str(error.value)


def test_unknown_cleaner_name():
    with pytest.raises(SpeechSynthError, match="valid names"):
        text_to_sequence("hello", ["english"])


def test_processor_without_arpabet_matches_text_to_sequence():
    text = "Dr. Smith paid $3.50 on May 3rd, 1990."
    processor = TextProcessor()
    assert processor.encode(text) == text_to_sequence(text)
    assert (
        processor.clean(text)
        == "doctor smith paid three dollars fifty cents on may third, nineteen ninety."
    )


def test_processor_p_arpabet_one_converts_dictionary_words():
    processor = TextProcessor(p_arpabet=1.0)
    cleaned = processor.clean("Hello, don't read this!")
    # "read" is a heteronym: context decides it, so it stays spelled out.
    assert cleaned == "{HH AH0 L OW1}, {D OW1 N T} read {DH IH1 S}!"
    ids = processor.encode("Hello")
    assert ids == [SYMBOL_TO_ID[f"@{p}"] for p in ("HH", "AH0", "L", "OW1")]


def test_processor_p_arpabet_zero_keeps_letters():
    assert TextProcessor(p_arpabet=0.0).clean("Hello world") == "hello world"


def test_processor_keeps_words_missing_from_the_dictionary():
    assert TextProcessor(p_arpabet=1.0).clean("zzqxv") == "zzqxv"


def test_processor_same_seed_same_output():
    text = "the quick brown fox jumps over the lazy dog " * 4
    first = TextProcessor(p_arpabet=0.5, seed=3).clean(text)
    assert TextProcessor(p_arpabet=0.5, seed=3).clean(text) == first
    assert "{" in first and "quick" in first  # some words converted, some not
    others = {TextProcessor(p_arpabet=0.5, seed=seed).clean(text) for seed in range(5)}
    assert len(others) > 1


@pytest.mark.parametrize("p_arpabet", [-0.1, 1.5, float("nan"), "0.5"])
def test_processor_rejects_bad_p_arpabet(p_arpabet):
    with pytest.raises(SpeechSynthError, match="p_arpabet"):
        TextProcessor(p_arpabet=p_arpabet)


def test_pronouncer():
    pronouncer = Pronouncer()
    assert pronouncer.lookup("Hello") == "HH AH0 L OW1"
    assert pronouncer.lookup("don't") == "D OW1 N T"
    assert pronouncer.lookup("live") is None  # heteronym
    assert pronouncer.lookup("zzqxv") is None
    assert pronouncer.to_arpabet("(cat's) dog.") == "({K AE1 T S}) {D AO1 G}."
