"""`make bench` rewrites only the README's generated section."""

from __future__ import annotations

import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.evaluate.readme_bench import BEGIN, END, main, splice_section


def test_only_the_section_between_the_markers_changes(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n", encoding="utf-8")
    part = tmp_path / "inference.md"
    part.write_text("|a|b|\n|---:|---:|\n|1|2|\n", encoding="utf-8")
    train = tmp_path / "train.md"
    train.write_text("training table\n", encoding="utf-8")
    assert main([str(readme), str(part), str(train)]) == 0
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text == (
        f"# Title\n\nbefore\n{BEGIN}\n|a|b|\n|---:|---:|\n|1|2|\n\ntraining table\n{END}\nafter\n"
    )
    assert main([str(readme), str(part), str(train)]) == 0  # idempotent
    assert readme.read_text(encoding="utf-8") == text


def test_a_readme_without_markers_is_refused_and_left_alone(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n", encoding="utf-8")
    part = tmp_path / "part.md"
    part.write_text("table\n", encoding="utf-8")
    assert main([str(readme), str(part)]) == 2
    assert "no generated performance section" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == "# Title\n"
    with pytest.raises(SpeechSynthError):
        splice_section(f"{END}\n{BEGIN}\n", "x")
