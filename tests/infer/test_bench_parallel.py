"""FastPitch / FastSpeech benchmarks: forced durations, reports, and the CLI on NVIDIA files."""

import json
import math

import pytest
import torch

from speechsynth.cli import main
from speechsynth.infer.bench import bench_parallel_inference, forced_durations
from speechsynth.models.registry import load_model
from speechsynth.train.bench import bench_fastpitch_training


def test_forced_durations_are_even_and_add_up():
    durations = forced_durations(2, 128, 600)
    assert durations.shape == (2, 128)
    assert durations.sum(1).tolist() == [600, 600]
    assert set(durations.unique().tolist()) == {4, 5}


@pytest.mark.parametrize("fixture", ["fastpitch11.pt", "fastspeech.pt"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_inference_makes_exactly_the_forced_frames(parity_dir, fixture, precision):
    model = load_model(parity_dir / fixture).model
    result = bench_parallel_inference(
        model, precision=precision, mel_frames=50, batch_size=2, text_length=16, repeats=2
    )
    assert (result.mel_frames, result.batch_size, result.repeats) == (50, 2, 2)
    assert math.isclose(result.mel_frames_per_s, 100 / result.latency.mean)
    if precision == "fp32":
        assert result.mel_relative_error is None
    else:
        assert 0 < result.mel_relative_error < 0.3


def test_fastpitch_training_step_with_the_aligner(parity_dir):
    model = load_model(parity_dir / "fastpitch11_energy.pt").model
    before = model.proj.weight.clone()
    result = bench_fastpitch_training(model, batch_size=2, mel_frames=40, text_length=10, steps=1)
    assert result.seconds_per_step_mean > 0
    assert math.isclose(result.mel_frames_per_s, 80 / result.seconds_per_step_mean)
    assert torch.equal(model.proj.weight, before)  # trained a copy


def test_cli_bench_fastpitch(parity_dir, capsys):
    checkpoint = str(parity_dir / "fastpitch10.pt")  # 1.0: the training step uses durations
    arguments = ["bench", "fastpitch", "--checkpoint", checkpoint, "--mel-frames", "40"]
    arguments += ["--text-length", "12", "--repeats", "2", "--train-steps", "1"]
    arguments += ["--train-batch-size", "2", "--train-frames", "30", "--threads", "1", "--json"]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "fastpitch" and report["weights"] == checkpoint
    assert report["inference"][0]["mel_frames"] == 40
    assert report["training"]["mel_frames"] == 30
    assert main([*arguments[:-1], "--train-steps", "0"]) == 0
    assert "durations forced to 40 frames" in capsys.readouterr().out
    assert main(["bench", "fastpitch", "--precision", "int8"]) == 2
