import pytest

from speechsynth.cli import main


@pytest.mark.parametrize(
    "command",
    [[], ["text"], ["prepare"], ["prepare", "check"], ["prepare", "split"], ["prepare", "mels"]],
)
def test_every_command_has_help_with_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: speechsynth")
    assert "examples:" in help_text


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("speechsynth 0.")
