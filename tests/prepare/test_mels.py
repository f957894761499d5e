import json

import torch

from speechsynth.audio import MelSpectrogram, load_audio
from speechsynth.cli import main
from speechsynth.data import read_filelist, read_ljspeech
from speechsynth.prepare.mels import compute_mels


def test_mels_match_the_front_end_and_resume(mini_copy, tmp_path):
    utterances = read_ljspeech(mini_copy)[:3]
    output = tmp_path / "mels"
    results = compute_mels(utterances, output, jobs=2)
    assert [r.status for r in results] == ["written"] * 3
    for utterance in utterances:
        saved = torch.load(output / f"{utterance.utterance_id}.pt", weights_only=True)
        expected = MelSpectrogram()(torch.from_numpy(load_audio(utterance.audio_path, 22050)))
        torch.testing.assert_close(saved, expected, rtol=0, atol=0)
    listed = read_filelist(output / "filelist.txt")
    assert [(u.mel_path, u.text) for u in listed] == [
        ((output / f"{u.utterance_id}.pt").resolve(), u.text) for u in utterances
    ]

    (output / "LJ001-0002.pt").write_bytes(b"truncated")  # a crash mid-write by another tool
    rerun = compute_mels(utterances, output, jobs=1)
    assert [r.status for r in rerun] == ["skipped", "written", "skipped"]
    assert not list(output.glob("*.tmp*"))


def test_cli_mels_reports_failures_and_writes_the_rest(broken_copy, tmp_path, capsys):
    output = tmp_path / "mels"
    args = ["prepare", "mels", str(broken_copy), "--output", str(output), "--jobs", "2"]
    assert main([*args, "--strict", "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["written"], summary["failed"]) == (4, 2)
    failed = {failure["id"]: failure["error"] for failure in summary["failures"]}
    assert "audio file not found" in failed["LJ001-0002"]
    assert "sample rate is 44100 Hz" in failed["LJ001-0003"]
    assert len(read_filelist(output / "filelist.txt")) == 4

    assert main(args) == 1  # without --strict the 44.1 kHz clip is resampled
    assert "1 written, 4 already valid, 1 failed" in capsys.readouterr().out
