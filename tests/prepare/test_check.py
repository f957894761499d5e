import json
import subprocess
import sys

from speechsynth.cli import main
from speechsynth.data import Utterance, read_ljspeech
from speechsynth.prepare.check import CheckLimits, check_dataset


def test_ljspeech_mini_is_fully_usable(ljspeech_mini, capsys):
    assert main(["prepare", "check", str(ljspeech_mini)]) == 0
    output = capsys.readouterr().out
    assert "32 of 32 clips usable" in output
    assert "OK: the dataset is usable" in output


def test_broken_copy_names_every_problem(broken_copy, capsys):
    assert main(["prepare", "check", str(broken_copy)]) == 1
    output = capsys.readouterr().out
    assert "LJ001-0002.wav: audio file is missing" in output
    assert "LJ001-0003.wav: sample rate 44100 Hz, expected 22050 Hz" in output
    assert "LJ001-0003.wav: 2 channels, expected mono" in output
    assert "metadata.csv:4: transcript is empty" in output
    assert "3 of 6 clips usable" in output
    assert "NOT USABLE" in output


def test_broken_copy_json_report(broken_copy, capsys):
    assert main(["prepare", "check", str(broken_copy), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    kinds = sorted((p["utterance_id"], p["kind"]) for p in report["problems"])
    assert kinds == [
        ("LJ001-0002", "missing-audio"),
        ("LJ001-0003", "channels"),
        ("LJ001-0003", "sample-rate"),
        ("LJ001-0004", "empty-text"),
    ]
    assert (report["usable"], report["clips"], report["usable_clips"]) == (False, 6, 3)


def test_cli_process_reports_without_traceback(broken_copy):
    result = subprocess.run(
        [sys.executable, "-m", "speechsynth", "prepare", "check", str(broken_copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "speechsynth", "prepare", "check", str(broken_copy / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert "nope: no such dataset" in missing.stderr


def test_duplicates_length_limits_and_unknown_characters(mini_copy):
    utterances = read_ljspeech(mini_copy)
    first, second = utterances[0], utterances[1]
    odd = [
        first,
        Utterance(first.utterance_id, "again", first.audio_path, origin="dup"),
        Utterance(second.utterance_id, "x" * 50 + " ü#", second.audio_path, origin="odd"),
    ]
    limits = CheckLimits(max_seconds=5.0, max_text_chars=40)
    report = check_dataset(odd, limits)
    kinds = {(p.utterance_id, p.kind, p.severity) for p in report.problems}
    assert (first.utterance_id, "duplicate-id", "error") in kinds
    assert (first.utterance_id, "too-long", "error") in kinds  # LJ001-0001 lasts 9.7 s
    assert (second.utterance_id, "long-text", "error") in kinds
    assert (second.utterance_id, "unknown-characters", "warning") in kinds
    assert not report.usable


def test_warnings_alone_keep_a_dataset_usable(mini_copy):
    utterances = read_ljspeech(mini_copy)[:2]
    with_symbol = [Utterance(u.utterance_id, u.text + " #", u.audio_path) for u in utterances]
    report = check_dataset(with_symbol)
    assert report.usable
    assert [p.kind for p in report.problems] == ["unknown-characters"] * 2


def test_empty_dataset_is_not_usable(tmp_path, capsys):
    (tmp_path / "metadata.csv").write_text("")
    assert main(["prepare", "check", str(tmp_path)]) == 1
    assert "the dataset has no clips" in capsys.readouterr().out
