import json
import shutil

import pytest
import torch

from speechsynth.cli import main
from speechsynth.data import read_filelist

CLIPS = ("LJ001-0002", "LJ001-0008")  # the two shortest clips of ljspeech-mini


@pytest.fixture
def two_clips(ljspeech_mini, tmp_path):
    dataset = tmp_path / "mini"
    (dataset / "wavs").mkdir(parents=True)
    lines = (ljspeech_mini / "metadata.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.split("|")[0] in CLIPS]
    for clip in CLIPS:
        shutil.copy(ljspeech_mini / "wavs" / f"{clip}.wav", dataset / "wavs" / f"{clip}.wav")
    (dataset / "metadata.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return dataset


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "pitch", "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith("usage: speechsynth prepare pitch")
    assert "--method {praat,pyin}" in help_text and "examples:" in help_text


def test_cli_dense_then_per_symbol_pitch_with_json(two_clips, tmp_path, capsys):
    args = ["prepare", "pitch", str(two_clips), "--method", "praat", "--jobs", "1", "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output"] == str(two_clips / "pitch")
    assert (summary["written"], summary["skipped"], summary["failed"]) == (2, 0, 0)
    stats = summary["stats"]
    assert (stats["method"], stats["values"], stats["clips"]) == ("praat", "frames", 2)
    assert set(stats) >= {"mean", "std", "count", "frames", "sampling_rate", "hop_length"}
    assert json.loads((two_clips / "pitch" / "pitch_stats.json").read_text()) == stats
    assert [u.utterance_id for u in read_filelist(two_clips / "pitch" / "filelist.txt")] == [*CLIPS]

    assert main(["prepare", "mels", str(two_clips), "--jobs", "1", "--json"]) == 0
    capsys.readouterr()
    durations_dir = tmp_path / "durations"
    durations_dir.mkdir()
    for clip in CLIPS:  # 4 frames per symbol, the rest on the last one
        frames = torch.load(two_clips / "mels" / f"{clip}.pt", weights_only=True).size(1)
        durations = torch.full((frames // 4,), 4, dtype=torch.int64)
        durations[-1] += frames % 4
        torch.save(durations, durations_dir / f"{clip}.pt")

    args = [*args, "--durations", str(durations_dir)]  # mels found in DATASET/mels
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["written"], summary["skipped"]) == (2, 0)  # dense kept, per-symbol added
    assert summary["stats"]["values"] == "symbols"
    listed = read_filelist(two_clips / "pitch" / "fastpitch1.0_filelist.txt")
    assert [(u.mel_path.name, u.duration_path.name, u.pitch_path.parent.name) for u in listed] == [
        (f"{clip}.pt", f"{clip}.pt", "per_symbol") for clip in CLIPS
    ]

    assert main(args) == 0  # a second run keeps every file
    assert json.loads(capsys.readouterr().out)["skipped"] == 2
    assert main([a for a in args if a != "--json"]) == 0  # counts, then the stats
    out = capsys.readouterr().out
    assert "0 written, 2 already valid, 0 failed" in out
    assert "praat pitch over" in out and "voiced symbols: mean" in out


def test_cli_errors_are_one_line(two_clips, tmp_path, capsys):
    assert main(["prepare", "pitch", str(tmp_path / "absent"), "--method", "pyin"]) == 2
    assert "no such dataset" in capsys.readouterr().err
    args = ["prepare", "pitch", str(two_clips), "--method", "praat", "--jobs", "1"]
    assert main([*args, "--durations", str(tmp_path / "absent")]) == 2
    assert "no such durations directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prepare", "pitch", str(two_clips), "--method", "crepe"])
