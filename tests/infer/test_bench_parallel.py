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
        assert 0 < result.mel_relative_error < 0.3 and result.mel_max_abs_diff > 0


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
    assert "--precision int8: not available for fastpitch" in capsys.readouterr().err


def test_text_reports_show_the_training_line():
    from speechsynth.cli.bench_cmd import format_parallel_report, format_report

    latency = {"mean": 0.1, "std": 0.0, "p90": 0.1, "p95": 0.1, "p99": 0.1}
    training = {
        "batch_size": 4,
        "mel_frames": 600,
        "text_length": 128,
        "seconds_per_step_mean": 2.0,
        "seconds_per_step_std": 0.1,
        "mel_frames_per_s": 1200.0,
    }
    common = {"weights": "random", "threads": 1, "parameters": 1e6, "training": training}
    parallel = {
        "model": "fastpitch",
        "inference": [
            {
                "precision": "fp32",
                "batch_size": 1,
                "text_length": 128,
                "mel_frames": 600,
                "repeats": 3,
                "latency": latency,
                "mel_frames_per_s": 6000.0,
                "mel_relative_error": None,
            }
        ],
        **common,
    }
    text = format_parallel_report({**parallel, "training": {**training, "amp": True}})
    assert "training (bf16 autocast): batch 4 x 600 frames" in text
    tacotron2 = {
        "inference": [
            {
                "precision": "fp32",
                "batch_size": 1,
                "text_length": 128,
                "decoder_steps": 600,
                "repeats": 3,
                "ms_per_step_mean": 4.0,
                "ms_per_step_std": 0.1,
                "latency": latency,
                "mel_frames_per_s": 200.0,
                "mel_relative_error": None,
            }
        ],
        **common,
    }
    assert "training: batch 4 x 600 frames, 128 symbols: 2.000" in format_report(tacotron2)
