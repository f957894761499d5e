"""Intelligibility: WER normalisation and scoring, pocketsphinx on the teacher, the command."""

import json
import math
import shutil

import numpy as np
import pytest

from speechsynth.cli import main
from speechsynth.evaluate.intelligibility import (
    ASR_SAMPLING_RATE,
    Transcriber,
    corpus_wer,
    normalize_for_wer,
    wer_ratio,
    word_errors,
)

FESTIVAL = "festival is not installed: apt-get install festival festvox-us-slt-hts (CI installs it)"
FAST = ["--max-decoder-steps", "20", "--griffin-lim-iters", "2", "--device", "cpu"]


def _require_festival():
    if shutil.which("text2wave") is None:
        pytest.skip(FESTIVAL)


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Dr. Smith paid $3.50.", "doctor smith paid three dollars fifty cents"),
        ('"Don\'t," he said (twice).', "don't he said twice"),
        ("A well-known, self-made man; truly!", "a well known self made man truly"),
        ("In 1850 there were 2 of them.", "in eighteen fifty there were two of them"),
        ("<s> hello [NOISE] world(2) </s>", "hello world"),
        ("  ", ""),
    ],
)
def test_normalize_for_wer(text, normalised):
    assert normalize_for_wer(text) == normalised


def test_word_errors_and_corpus_wer():
    exact = word_errors("The cat sat.", "the cat sat")
    assert (exact.wer, exact.errors) == (0.0, 0)
    errors = word_errors("The cat sat on the mat.", "the hat sat on the mat today")
    assert (errors.substitutions, errors.deletions, errors.insertions) == (1, 0, 1)
    assert errors.wer == pytest.approx(2 / 6)
    silent = word_errors("Two words.", "")
    assert (silent.deletions, silent.wer) == (2, 1.0)
    # corpus level: 2 + 2 errors over 6 + 2 words, not the mean of the sentence WERs
    assert corpus_wer([errors, silent]) == pytest.approx(4 / 8)
    assert math.isnan(corpus_wer([]))


def test_wer_ratio():
    assert wer_ratio(0.3, 0.2) == pytest.approx(1.5)
    assert wer_ratio(0.0, 0.0) == 1.0
    assert wer_ratio(0.1, 0.0) is None


def test_transcriber_input_is_padded_16_khz_int16():
    one_second = np.zeros(22050, dtype=np.float32)
    pcm = np.frombuffer(Transcriber.prepare(one_second, 22050), dtype=np.int16)
    assert len(pcm) == ASR_SAMPLING_RATE * 2  # 1 s of audio + 0.5 s of padding each side
    assert 0 < np.abs(pcm).max() <= 4  # dither of ~1e-4, not digital silence


def test_pocketsphinx_understands_the_teacher():
    _require_festival()
    from speechsynth.prepare.corpus import synthesize_text

    text = "He went to the market in the morning."
    audio = synthesize_text("festival", text)
    hypothesis = Transcriber().transcribe(audio, 22050)
    assert word_errors(text, hypothesis).wer <= 0.25, hypothesis


@pytest.fixture
def sentences(tmp_path):
    path = tmp_path / "eval.txt"
    path.write_text("a|He went to the market.\nb|The judge sat in proper form.\n", "utf-8")
    return path


def _check_rows(report, teacher):
    assert report["sentences"] == 2 and report["reference_words"] == 11
    assert [row["id"] for row in report["rows"]] == ["a", "b"]
    assert report["rows"][0]["reference"] == "he went to the market"
    assert 0 <= report["voice_wer"] < math.inf
    for row in report["rows"]:
        assert 0 <= row["voice"]["wer"] < math.inf
        assert isinstance(row["voice"]["hypothesis"], str)
        assert row["voice"]["hit_max_decoder_steps"] is True
        assert ("teacher" in row) is teacher


def test_eval_command_without_teacher(parity_dir, sentences, tmp_path, capsys):
    output_dir = tmp_path / "eval"
    arguments = ["--voice", str(parity_dir / "tacotron2.pt"), "--sentences", str(sentences)]
    extra = ["--teacher", "none", "--output", str(output_dir), "--json", *FAST]
    assert main(["eval", "intelligibility", *arguments, *extra]) == 0
    report = json.loads(capsys.readouterr().out)
    _check_rows(report, teacher=False)
    assert report["teacher"] is None and report["wer_ratio"] is None
    assert report["asr"]["engine"] == "pocketsphinx" and report["seed"] == 1234
    assert report == json.loads((output_dir / "report.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in (output_dir / "voice").iterdir()) == ["a.wav", "b.wav"]
    transcripts = (output_dir / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    assert transcripts[0] == "id\treference\tvoice\tteacher" and len(transcripts) == 3


def test_eval_command_with_the_festival_teacher(parity_dir, sentences, capsys):
    _require_festival()
    arguments = ["--voice", str(parity_dir / "tacotron2.pt"), "--sentences", str(sentences)]
    assert main(["eval", "intelligibility", *arguments, "--teacher", "festival", *FAST]) == 0
    out = capsys.readouterr().out
    assert "festival WER" in out and "voice WER" in out and "2 sentence(s), 11 words" in out

    assert main(["eval", "intelligibility", *arguments, "--limit", "1", "--json", *FAST]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["teacher"] == "festival" and report["sentences"] == 1
    assert 0 <= report["teacher_wer"] <= 0.5
    assert report["rows"][0]["teacher"]["seconds"] > 0.5
    assert report["wer_ratio"] is None or report["wer_ratio"] >= 0
    assert isinstance(report["meets_bar"], bool)


def test_missing_teacher_fails_before_synthesis(
    parity_dir, sentences, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))
    arguments = ["--voice", str(parity_dir / "tacotron2.pt"), "--sentences", str(sentences)]
    assert main(["eval", "intelligibility", *arguments, *FAST]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install festival festvox-us-slt-hts" in err[0]
