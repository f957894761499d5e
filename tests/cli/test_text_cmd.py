import io
import json
import sys

import pytest

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
    assert result["cleaned"] == "{HH AH0 L OW1}"
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
