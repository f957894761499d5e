"""The corpus builder: an LJSpeech-format dataset spoken by festival or espeak-ng."""

import shutil

import numpy as np
import pytest
import soundfile

from speechsynth.errors import SpeechSynthError
from speechsynth.prepare import corpus
from speechsynth.prepare.corpus import (
    Sentence,
    build_corpus,
    postprocess,
    read_sentences,
    trim_silence,
)

# Quotes, parentheses, a semicolon and an apostrophe: the text must reach the engine as text.
SENTENCES = [
    Sentence("s1", 'He said "hello" (twice); then left.', 'He said "hello" (twice); then left.'),
    Sentence("s2", "It's a fine day.", "It's a fine day."),
    Sentence("s3", "Back slashes \\ stay text.", "Back slashes \\ stay text."),
]


def _require(program: str, packages: str) -> None:
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed: apt-get install {packages} (CI installs it)")


def _check_dataset(output_dir, sentences):
    metadata = (output_dir / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert metadata == [f"{s.sentence_id}|{s.text}|{s.spoken}" for s in sentences]
    for sentence in sentences:
        info = soundfile.info(output_dir / "wavs" / f"{sentence.sentence_id}.wav")
        assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
        assert 0.3 < info.duration < 10
        audio, _ = soundfile.read(output_dir / "wavs" / f"{sentence.sentence_id}.wav")
        assert 0.05 < np.abs(audio).max() <= 0.99 + 1e-4


@pytest.mark.parametrize(
    ("engine", "program", "packages"),
    [
        ("festival", "text2wave", "festival festvox-us-slt-hts"),
        ("espeak-ng", "espeak-ng", "espeak-ng"),
    ],
)
def test_three_sentences_then_resume(tmp_path, engine, program, packages):
    _require(program, packages)
    output_dir = tmp_path / "corpus"
    report = build_corpus(SENTENCES, output_dir, engine, jobs=2)
    assert [r.status for r in report.results] == ["written"] * 3
    assert report.metadata_rows == 3
    _check_dataset(output_dir, SENTENCES)
    assert not list((output_dir / "wavs").glob(".*"))  # no temporary files left behind

    kept = output_dir / "wavs" / "s1.wav"
    before = kept.stat().st_mtime_ns
    (output_dir / "wavs" / "s2.wav").unlink()
    (output_dir / "metadata.csv").unlink()
    report = build_corpus(SENTENCES, output_dir, engine, jobs=1)
    assert [r.status for r in report.results] == ["skipped", "written", "skipped"]
    assert kept.stat().st_mtime_ns == before
    _check_dataset(output_dir, SENTENCES)


def test_festival_is_resampled_from_32_khz_and_trimmed(tmp_path):
    _require("text2wave", "festival festvox-us-slt-hts")
    raw = corpus.synthesize_text("festival", "Hello there.", trim=False)
    trimmed = corpus.synthesize_text("festival", "Hello there.")
    assert len(trimmed) < len(raw)
    assert len(trimmed) > 0.4 * 22050


def test_a_failing_sentence_is_reported_not_fatal(tmp_path, monkeypatch):
    def fake_engine(engine_name, text, voice=None, sampling_rate=22050, trim=True):
        if "fine" in text:
            raise SpeechSynthError("festival failed: SIOD ERROR: something")
        return np.full(2205, 0.5, dtype=np.float32)

    monkeypatch.setattr(corpus, "check_engine", lambda name, voice=None: corpus.ENGINES[name])
    monkeypatch.setattr(corpus, "synthesize_text", fake_engine)
    report = build_corpus(SENTENCES, tmp_path, "festival")
    assert [r.status for r in report.results] == ["written", "failed", "written"]
    assert "SIOD ERROR" in report.results[1].message
    rows = (tmp_path / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert [row.split("|")[0] for row in rows] == ["s1", "s3"]


def test_trim_keeps_50_ms_around_the_sound():
    rate = 22050
    tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate).astype(np.float32)
    silence = np.zeros(rate, dtype=np.float32)
    trimmed = trim_silence(np.concatenate([silence, tone, silence]), rate)
    # 50 ms kept on each side, give or take the detector's 512-sample frames
    assert len(trimmed) == pytest.approx(rate + 2 * 0.05 * rate, abs=0.03 * rate)


def test_postprocess_resamples_and_limits_the_peak():
    audio = postprocess(np.sin(np.arange(32000) / 5).astype(np.float32) * 1.2, 32000)
    assert len(audio) == pytest.approx(22050, abs=2)
    assert np.abs(audio).max() <= corpus.MAX_PEAK + 1e-6
    with pytest.raises(SpeechSynthError, match="silence"):
        postprocess(np.zeros(1000, dtype=np.float32), 22050)


def test_read_sentences_formats(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("First line.\n\nSecond (line).\n", encoding="utf-8")
    assert read_sentences(plain) == [
        Sentence("000001", "First line.", "First line."),
        Sentence("000002", "Second (line).", "Second (line)."),
    ]
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("a-1|Hello.\nb_2|Bye.\n", encoding="utf-8")
    assert [s.sentence_id for s in read_sentences(pairs)] == ["a-1", "b_2"]
    dataset = tmp_path / "lj"
    dataset.mkdir()
    (dataset / "metadata.csv").write_text("LJ1|Dr. X, 1850.|Doctor X, eighteen fifty.\n")
    assert read_sentences(dataset) == [Sentence("LJ1", "Dr. X, 1850.", "Doctor X, eighteen fifty.")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a|One.\na|Two.\n", "ids used more than once: a"),
        ("../x|One.\n", "cannot name a file"),
        ("a|b|c|d\n", "found 4"),
        ("a|\n", "has no text"),
        ("\n\n", "no sentences"),
    ],
)
def test_read_sentences_errors(tmp_path, content, message):
    path = tmp_path / "sentences.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpeechSynthError, match=message):
        read_sentences(path)
