import io
import json
import sys

import pytest
import torch

from speechsynth.cli import main
from speechsynth.text import text_to_sequence


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_plain_output(capsys):
    assert main(["text", "Dr. Smith paid $3.50"]) == 0
    out = capsys.readouterr().out
    assert "cleaned:  doctor smith paid three dollars fifty cents\n" in out
    assert "symbols:  d o c t o r ␣ s m i t h ␣ p a i d" in out
    expected_ids = " ".join(map(str, text_to_sequence("Dr. Smith paid $3.50")))
    assert f"ids:      {expected_ids}\n" in out


def test_json_output(capsys):
    assert main(["text", "--json", "--cleaners", "english_cleaners", "Hi {HH AY1}, $1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["input"] == "Hi {HH AY1}, $1"
    assert result["cleaned"] == "hi {HH AY1}, one dollar"
    assert result["symbols"][:5] == ["h", "i", " ", "@HH", "@AY1"]
    assert result["ids"] == text_to_sequence("Hi {HH AY1}, $1", ["english_cleaners"])
    assert result["cleaners"] == ["english_cleaners"]


def test_p_arpabet_and_seed(capsys):
    assert main(["text", "--json", "--p-arpabet", "1", "--seed", "0", "Hello"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["cleaned"] == "hello"
    assert result["arpabet"] == "{HH AH0 L OW1}"
    assert result["symbols"] == ["@HH", "@AH0", "@L", "@OW1"]


def test_reads_stdin(monkeypatch, capsys):
    _stdin(monkeypatch, "No. 5 — ok\n".encode())
    assert main(["text", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["cleaned"] == "number five -- ok"


def test_stdin_must_be_utf8(monkeypatch, capsys):
    _stdin(monkeypatch, b"caf\xe9")
    assert main(["text"]) == 2
    assert "not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["text", "--cleaners", "nope", "hi"], "valid names: english_cleaners_plus"),
        (["text", "--p-arpabet", "2", "hi"], "p_arpabet must be between 0 and 1"),
        (["text", "..."], "letters or digits"),
    ],
)
def test_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("speechsynth: error: ")
    assert message in err
    assert "Traceback" not in err


def test_warns_about_dropped_characters(caplog, capsys):
    assert main(["text", "a # b"]) == 0
    assert "dropped characters not in the symbol table: '#'" in caplog.text
    assert "symbols:  a ␣ ␣ b\n" in capsys.readouterr().out


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["text", "--help"])
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "english_cleaners_plus" in out


@pytest.fixture
def nvidia_fastpitch11_checkpoint(load_parity, tmp_path):
    """An NVIDIA FastPitch 1.1 checkpoint as its Checkpointer writes it, trained with
    english_cleaners_v2 and p_arpabet 1.0 (NVIDIA's 2022 recipe)."""
    fixture = load_parity("fastpitch11")
    path = tmp_path / "FastPitch_checkpoint_1000.pt"
    setup = {
        "text_cleaners": ["english_cleaners_v2"],
        "p_arpabet": 1.0,
        "symbol_set": "english_basic",
    }
    torch.save(
        {"state_dict": fixture["state_dict"], "config": fixture["config"], "train_setup": setup},
        path,
    )
    return path


def test_model_reads_as_nvidia_fastpitch11(nvidia_fastpitch11_checkpoint, load_parity, capsys):
    cases = load_parity("fastpitch11_text_arpabet")["cases"]
    text = "Hello world, I read 12 books about the lead pipes in St. Louis."
    expected = cases[text]
    assert main(["text", "--model", str(nvidia_fastpitch11_checkpoint), "--json", text]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["cleaned"], result["arpabet"], result["ids"]) == (
        expected["clean"],
        expected["arpabet"],
        expected["ids"],
    )
    assert result["cleaners"] == ["english_cleaners_v2"]
    assert result["rules"] == "nvidia_fastpitch11"
    assert result["arpabet"].startswith("hello {W ER1 L D}, {AY1} read {T W EH1 L V}")


def test_input_file_prints_json_lines_in_order(
    nvidia_fastpitch11_checkpoint, load_parity, tmp_path, capsys
):
    cases = load_parity("fastpitch11_text_arpabet")["cases"]
    texts = list(cases)[:5]
    lines = tmp_path / "lines.txt"
    lines.write_text("\n".join([texts[0], "", *texts[1:]]) + "\n", encoding="utf-8")
    argv = ["text", "--model", str(nvidia_fastpitch11_checkpoint), "-i", str(lines)]
    assert main(argv) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [result["input"] for result in results] == texts
    assert [result["line"] for result in results] == [1, 3, 4, 5, 6]
    assert [result["ids"] for result in results] == [cases[text]["ids"] for text in texts]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["text", "--model", "/no/such/checkpoint.pt", "hi"], "/no/such/checkpoint.pt"),
        (["text", "-i", "/no/such/lines.txt"], "/no/such/lines.txt: file not found"),
    ],
)
def test_missing_files_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_model_and_cleaners_conflict(nvidia_fastpitch11_checkpoint, capsys):
    argv = ["text", "--model", str(nvidia_fastpitch11_checkpoint), "--cleaners", "basic_cleaners"]
    assert main([*argv, "hi"]) == 2
    assert "drop --cleaners" in capsys.readouterr().err


def test_a_bad_line_names_the_file_and_line(tmp_path, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("fine\n...\n", encoding="utf-8")
    assert main(["text", "-i", str(lines)]) == 2
    assert f"{lines}:2: nothing to say" in capsys.readouterr().err
