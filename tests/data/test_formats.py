from pathlib import Path

import pytest

from speechsynth.data import (
    Phrase,
    load_dataset,
    read_filelist,
    read_ljspeech,
    read_phrases,
    write_filelist,
)
from speechsynth.errors import SpeechSynthError


def test_reads_ljspeech_mini(ljspeech_mini):
    utterances = read_ljspeech(ljspeech_mini)
    assert len(utterances) == 32
    first = utterances[0]
    assert first.utterance_id == "LJ001-0001"
    assert first.text.startswith("Printing, in the only sense")
    assert first.audio_path == ljspeech_mini / "wavs" / "LJ001-0001.wav"
    assert all(u.audio_path.is_file() for u in utterances)
    assert first.origin.endswith("metadata.csv:1")


def test_normalized_column_wins_and_two_columns_work(tmp_path):
    (tmp_path / "metadata.csv").write_text("a|Dr. Who 1|doctor who one\nb|plain text\n")
    utterances = read_ljspeech(tmp_path)
    assert [u.text for u in utterances] == ["doctor who one", "plain text"]


def test_bad_metadata_names_file_and_line(tmp_path):
    (tmp_path / "metadata.csv").write_text("a|ok|ok\nbroken line without separators\n")
    with pytest.raises(SpeechSynthError, match=r"metadata.csv:2: expected 'id\|text"):
        read_ljspeech(tmp_path)


def test_non_utf8_metadata_names_the_line(tmp_path):
    (tmp_path / "metadata.csv").write_bytes(b"a|fine|fine\nb|caf\xe9|caf\xe9\n")
    with pytest.raises(SpeechSynthError, match=r"metadata.csv:2: not valid UTF-8"):
        read_ljspeech(tmp_path)


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(SpeechSynthError, match=r"no metadata\.csv found"):
        read_ljspeech(tmp_path)
    with pytest.raises(SpeechSynthError, match="no such dataset"):
        load_dataset(tmp_path / "absent")


def test_filelist_formats(tmp_path):
    lists = tmp_path / "filelists"
    lists.mkdir()
    (lists / "a.txt").write_text(
        "wavs/LJ1.wav|Hello.\n"
        "mels/LJ2.pt|Mel text.\n"
        "wavs/LJ3.wav|pitch/LJ3.pt|FastPitch one one.\n"
        "wavs/LJ4.wav|pitch/LJ4.pt|With speaker.|3\n"
        "mels/LJ5.pt|durations/LJ5.pt|pitch_char/LJ5.pt|FastPitch one oh.\n"
    )
    u1, u2, u3, u4, u5 = read_filelist(lists / "a.txt")
    root = tmp_path.resolve()  # filelists/ lives in the dataset root, as NVIDIA's do
    assert (u1.utterance_id, u1.audio_path, u1.text) == ("LJ1", root / "wavs/LJ1.wav", "Hello.")
    assert (u2.mel_path, u2.audio_path) == (root / "mels/LJ2.pt", None)
    assert (u3.pitch_path, u3.text) == (root / "pitch/LJ3.pt", "FastPitch one one.")
    assert (u4.speaker, u4.text) == (3, "With speaker.")
    assert (u5.mel_path, u5.duration_path, u5.pitch_path, u5.text) == (
        root / "mels/LJ5.pt",
        root / "durations/LJ5.pt",
        root / "pitch_char/LJ5.pt",
        "FastPitch one oh.",
    )


def test_filelist_with_explicit_root_and_bad_rows(tmp_path):
    (tmp_path / "list.txt").write_text("x.wav|a\n")
    assert read_filelist(tmp_path / "list.txt", root="/data")[0].audio_path == Path("/data/x.wav")
    (tmp_path / "bad.txt").write_text("x.wav|a\nonly-one-field\n")
    with pytest.raises(SpeechSynthError, match=r"bad.txt:2: expected 2 to 4"):
        read_filelist(tmp_path / "bad.txt")
    (tmp_path / "speaker.txt").write_text("x.wav|p.pt|text|alice\n")
    with pytest.raises(SpeechSynthError, match="speaker must be an integer"):
        read_filelist(tmp_path / "speaker.txt")


def test_written_filelist_reads_back(tmp_path):
    dataset = tmp_path / "data"
    rows = [(dataset / "wavs" / "a.wav", "first"), (dataset / "wavs" / "b.wav", "second")]
    write_filelist(dataset / "filelists" / "train.txt", rows)
    assert (dataset / "filelists" / "train.txt").read_text().splitlines()[0] == "wavs/a.wav|first"
    back = read_filelist(dataset / "filelists" / "train.txt")
    assert [(u.audio_path, u.text) for u in back] == [(p.resolve(), t) for p, t in rows]


def test_phrases_plain_named_and_tsv(tmp_path):
    (tmp_path / "plain.txt").write_text("Hello there.\n\nSecond line.\n")
    assert read_phrases(tmp_path / "plain.txt") == [
        Phrase("0001", "Hello there."),
        Phrase("0002", "Second line."),
    ]
    (tmp_path / "named.txt").write_text("greeting.wav|Hello.\nfarewell|Bye.\n")
    assert [p.output_name for p in read_phrases(tmp_path / "named.txt")] == ["greeting", "farewell"]
    (tmp_path / "devset.tsv").write_text("output\ttext\naudio_1.wav\tOne.\naudio_2.wav\tTwo.\n")
    assert read_phrases(tmp_path / "devset.tsv") == [
        Phrase("audio_1", "One."),
        Phrase("audio_2", "Two."),
    ]


def test_phrase_file_errors(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(SpeechSynthError, match="no text to synthesise"):
        read_phrases(tmp_path / "empty.txt")
    (tmp_path / "dup.txt").write_text("a|One.\na|Two.\n")
    with pytest.raises(SpeechSynthError, match="output names used more than once: a"):
        read_phrases(tmp_path / "dup.txt")
    (tmp_path / "bad.tsv").write_text("name\tsentence\nx\ty\n")
    with pytest.raises(SpeechSynthError, match="needs a header line with a 'text' column"):
        read_phrases(tmp_path / "bad.tsv")


def test_duplicate_ids_are_found_and_refused():
    from speechsynth.data.formats import Utterance, duplicate_ids, refuse_duplicate_ids

    utterances = [
        Utterance("a", "x"),
        Utterance("b", "y"),
        Utterance("a", "z"),
        Utterance("a", "w"),
    ]
    assert duplicate_ids(utterances) == {"a": 3}
    with pytest.raises(
        SpeechSynthError, match=r"ids used by more than one clip: a; .* same mel file"
    ):
        refuse_duplicate_ids(utterances, "mel")
    refuse_duplicate_ids(utterances[:2], "mel")  # unique ids pass
