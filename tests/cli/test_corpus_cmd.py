import json
import shutil

import pytest
import soundfile

from speechsynth.cli import main


def _error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def sentences(tmp_path):
    path = tmp_path / "sentences.txt"
    path.write_text('one|Hello there.\ntwo|She said "yes" (twice).\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("engine", "program", "packages"),
    [
        ("festival", "text2wave", "festival festvox-us-slt-hts"),
        ("espeak-ng", "espeak-ng", "espeak-ng"),
    ],
)
def test_missing_engine_names_the_apt_package(
    tmp_path, sentences, capsys, monkeypatch, engine, program, packages
):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no engine on PATH
    arguments = ["--sentences", str(sentences), "--out", str(tmp_path / "out")]
    assert main(["corpus", "synth", "--engine", engine, *arguments]) == 2
    assert _error_line(capsys) == (
        f"speechsynth: error: {engine} is not installed (no `{program}` on PATH); "
        f"install it with `apt-get install {packages}`"
    )
    assert not (tmp_path / "out" / "metadata.csv").exists()


def test_unknown_voice_is_one_line(tmp_path, sentences, capsys):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng (CI installs it)")
    arguments = ["--sentences", str(sentences), "--out", str(tmp_path / "out")]
    assert main(["corpus", "synth", "--engine", "espeak-ng", "--voice", "xx-nope", *arguments]) == 2
    line = _error_line(capsys)
    assert "espeak-ng cannot speak with voice 'xx-nope'" in line
    assert line.endswith("choose another --voice")


def test_missing_sentences_file(tmp_path, capsys):
    missing = tmp_path / "nope.txt"
    arguments = ["--sentences", str(missing), "--out", str(tmp_path / "out")]
    assert main(["corpus", "synth", *arguments]) == 2
    assert _error_line(capsys) == f"speechsynth: error: {missing}: file not found; check the path"


def test_json_summary_with_limit(tmp_path, sentences, capsys):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng (CI installs it)")
    output_dir = tmp_path / "out"
    arguments = ["--sentences", str(sentences), "--out", str(output_dir), "--limit", "1"]
    assert main(["corpus", "synth", "--engine", "espeak-ng", "--json", *arguments]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["engine"] == "espeak-ng"
    assert (summary["sentences"], summary["written"], summary["failed"]) == (1, 1, 0)
    assert summary["metadata_rows"] == 1 and summary["failures"] == []
    assert summary["seconds_per_sentence"] > 0
    assert soundfile.info(output_dir / "wavs" / "one.wav").samplerate == 22050
    metadata = (output_dir / "metadata.csv").read_text(encoding="utf-8")
    assert metadata == "one|Hello there.|Hello there.\n"


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["corpus", "synth", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert "examples:" in help_text and "festvox-us-slt-hts" in help_text
    assert "--jobs" in help_text and "--limit" in help_text
