import json

import pytest
import torch

from speechsynth.audio import MelConfig, MelSpectrogram, load_audio
from speechsynth.cli import main
from speechsynth.data import read_ljspeech
from speechsynth.errors import SpeechSynthError
from speechsynth.models.registry import load_model
from speechsynth.prepare.durations import (
    attention_to_durations,
    batch_attention_to_durations,
    compute_durations,
)
from speechsynth.prepare.mels import expected_frames
from speechsynth.text import TextProcessor


def test_durations_count_every_frame_once():
    alignment = torch.rand(57, 13)
    durations = attention_to_durations(alignment, 57, 13)
    assert durations.dtype == torch.int64 and durations.shape == (13,)
    assert int(durations.sum()) == 57
    expected = torch.zeros(13, dtype=torch.long)
    for frame in alignment:
        expected[frame.argmax()] += 1
    assert torch.equal(durations, expected)


def test_diagonal_alignment_gives_equal_durations():
    alignment = torch.eye(4).repeat_interleave(3, dim=0)  # 3 frames on each of 4 symbols
    assert attention_to_durations(alignment, 12, 4).tolist() == [3, 3, 3, 3]
    staircase = torch.eye(3)[[0, 0, 1, 2, 2, 2, 2]]
    assert attention_to_durations(staircase, 7, 3).tolist() == [2, 1, 4]


def test_padding_is_ignored():
    alignment = torch.zeros(10, 6)
    alignment[:6, :4] = torch.eye(4)[[0, 1, 1, 2, 3, 3]]
    alignment[6:, 5] = 1.0  # padded frames, and a padded symbol with the largest weight
    alignment[:, 4] = 0.5
    durations = attention_to_durations(alignment, 6, 4)
    assert durations.tolist() == [1, 2, 1, 2]


def test_batched_durations_follow_each_length():
    alignments = torch.rand(2, 9, 5)
    durations = batch_attention_to_durations(alignments, torch.tensor([9, 4]), torch.tensor([5, 3]))
    assert [d.shape[0] for d in durations] == [5, 3]
    assert [int(d.sum()) for d in durations] == [9, 4]
    with pytest.raises(SpeechSynthError, match="smaller than"):
        attention_to_durations(alignments[0], 10, 5)


def test_cli_writes_durations_that_sum_to_the_frames_and_resumes(
    mini_copy, parity_dir, tmp_path, capsys
):
    dataset = mini_copy  # tmp_path / "mini"
    metadata = dataset / "metadata.csv"
    metadata.write_text("\n".join(metadata.read_text().splitlines()[:3]) + "\n")
    output = tmp_path / "durations"
    args = ["prepare", "durations", str(dataset), "--tacotron2", str(parity_dir / "tacotron2.pt")]
    args += ["--output", str(output), "--batch-size", "2", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 3

    # one file per clip and no filelist: a 3-column one would read as FastPitch 1.1's
    # audio|pitch|text; `prepare pitch --durations` writes the mel|durations|pitch|text one
    assert sorted(path.name for path in output.iterdir()) == [
        "LJ001-0001.pt",
        "LJ001-0002.pt",
        "LJ001-0003.pt",
    ]
    for utterance in read_ljspeech(dataset):
        durations = torch.load(output / f"{utterance.utterance_id}.pt", weights_only=True)
        assert durations.dtype == torch.int64 and bool((durations >= 0).all())
        assert int(durations.sum()) == expected_frames(utterance.audio_path, MelConfig())

    first = output / "LJ001-0001.pt"
    before = first.stat().st_mtime_ns
    (output / "LJ001-0002.pt").write_bytes(b"truncated")
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["written"], summary["skipped"]) == (1, 2)
    assert first.stat().st_mtime_ns == before
    assert not list(output.glob(".*.tmp*"))


def test_durations_come_from_the_teacher_forced_alignment(mini_copy, parity_dir, tmp_path):
    teacher = load_model(parity_dir / "tacotron2.pt")
    utterance = read_ljspeech(mini_copy)[1]  # LJ001-0002, the shortest clip
    computed = {}
    for name, dropout in (("plain", False), ("dropout", True), ("dropout_again", True)):
        results = compute_durations(teacher, [utterance], tmp_path / name, dropout=dropout)
        assert [r.status for r in results] == ["written"]
        computed[name] = torch.load(tmp_path / name / "LJ001-0002.pt", weights_only=True)
    assert torch.equal(computed["dropout"], computed["dropout_again"])  # seeded

    processor = TextProcessor(teacher.text_cleaners)
    text = torch.tensor([processor.encode(utterance.text)])
    mel = MelSpectrogram()(torch.from_numpy(load_audio(utterance.audio_path, 22050)))
    teacher.model.config.prenet_dropout_at_inference = False
    with torch.inference_mode():
        alignment = teacher.model(text, torch.tensor([text.size(1)]), mel[None]).alignments[0]
    expected = attention_to_durations(alignment, mel.size(1), text.size(1))
    assert torch.equal(computed["plain"], expected)
