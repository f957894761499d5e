"""`speechsynth bench train`: the flags reach the scaling driver, and its report prints as text,
JSON and NVIDIA-style markdown tables (fake timings: no process is started)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speechsynth.cli import main
from speechsynth.cli.bench_train_cmd import markdown_tables, table_columns
from speechsynth.train import scaling
from speechsynth.train.scaling import Measurement, ScalingOptions, timed_steps

# Seconds per step by (processes, batch per process, precision).
FAKE_SECONDS = {
    (1, 8, "fp32"): 2.0,
    (1, 8, "amp"): 1.6,
    (2, 4, "fp32"): 1.25,
    (2, 4, "amp"): 1.0,
    (2, 8, "fp32"): 2.5,
    (2, 8, "amp"): 2.0,
}


@pytest.fixture
def launches(monkeypatch) -> list[tuple[ScalingOptions, int, int, str]]:
    """Every launch the command asks for, answered with the fake timings (600 frames each)."""
    launched = []

    def fake_launch(
        options: ScalingOptions, nproc: int, batch_size: int, precision: str, output: Path
    ) -> Measurement:
        launched.append((options, nproc, batch_size, precision))
        return Measurement(
            world_size=nproc,
            batch_size_per_process=batch_size,
            precision=precision,
            steps=timed_steps(options.epochs_worth, options.epoch_utterances, batch_size * nproc),
            seconds_per_step=FAKE_SECONDS[nproc, batch_size, precision],
            items_per_step=batch_size * nproc * 600,
        )

    monkeypatch.setattr(scaling, "launch_worker", fake_launch)
    return launched


def test_flags_reach_the_driver_and_the_json_has_a_row_per_run(launches, capsys):
    arguments = ["bench", "train", "--model", "fastpitch", "--nproc", "1,2", "--batch-size", "8"]
    arguments += ["--amp", "--epochs-worth", "2", "--epoch-utterances", "16", "--size", "tiny"]
    arguments += ["--train-frames", "300", "--text-length", "20", "--warmup-steps", "3"]
    assert main([*arguments, "--json"]) == 0
    options = launches[0][0]
    assert (options.model, options.batch_size, options.nprocs, options.amp) == (
        "fastpitch",
        8,
        (1, 2),
        True,
    )
    assert (options.epochs_worth, options.epoch_utterances, options.size) == (2.0, 16, "tiny")
    assert (options.frames, options.text_length, options.warmup_steps) == (300, 20, 3)
    assert (options.threads, options.modes) == (1, ("strong", "weak"))  # the defaults
    report = json.loads(capsys.readouterr().out)
    assert report["report"] == "training-scaling" and len(report["results"]) == 8
    first = report["results"][0]
    assert (first["mode"], first["nproc"], first["precision"], first["steps"]) == (
        "strong",
        1,
        "fp32",
        4,  # 2 epochs of 16 utterances at 8 a step
    )
    for key in ("items_per_s", "speedup_amp", "scaling_speedup", "scaling_efficiency", "unit"):
        assert key in first


def test_text_and_markdown_tables(launches, capsys):
    arguments = ["bench", "train", "--model", "fastpitch", "--nproc", "1,2", "--batch-size", "8"]
    assert main([*arguments, "--amp", "--scaling", "weak"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("bench train fastpitch (default size): 600 mel frames and 128")
    assert lines[1].split()[:3] == ["scaling", "procs", "precision"]
    assert " ".join(lines[2].split()) == "weak 1 fp32 8 8 4 2.0000 2,400 - 1.00x 100.0%"
    assert " ".join(lines[5].split()) == "weak 2 amp 8 16 2 2.0000 4,800 1.25x 1.60x 80.0%"
    assert main([*arguments, "--amp", "--scaling", "weak", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Training fastpitch (default size, random weights), 600 mel frames")
    assert "cores, torch" in lines[0]
    table = lines[lines.index("Weak scaling, fastpitch:") :]
    assert table[2] == "| " + " | ".join(table_columns("weak", "mel frames")) + " |"
    assert table[4:] == [
        "| 1 | 8 | 2400 | 3000 | 1.25 | 1.00 | 1.00 |",
        "| 2 | 8 | 3840 | 4800 | 1.25 | 1.60 | 1.60 |",
    ]


def test_markdown_columns_follow_nvidias_tables():
    assert table_columns("weak", "mel frames") == [
        "Processes",
        "Batch size / process",
        "Throughput(mels/s) - FP32",
        "Throughput(mels/s) - mixed precision",
        "Throughput speedup (FP32 - mixed precision)",
        "Multi-process Weak scaling - FP32",
        "Multi-process Weak scaling - mixed precision",
    ]
    assert table_columns("strong", "audio samples")[2] == "Throughput(samples/s) - FP32"
    assert table_columns("strong", "audio samples")[5] == "Multi-process Strong scaling - FP32"


def test_markdown_tables_of_fp32_only_strong_scaling():
    options = ScalingOptions(model="fastspeech", batch_size=8, nprocs=(1, 2), modes=("strong",))

    def launch(options, nproc, batch_size, precision, output):
        return Measurement(
            nproc, batch_size, precision, 1, FAKE_SECONDS[nproc, batch_size, "fp32"], 4800
        )

    text = markdown_tables(scaling.measure_training_scaling(options, launch=launch))
    assert text.split("\n\n", 1)[1].splitlines()[4:] == [
        "| 1 | 8 | 2400 | - | - | 1.00 | - |",
        "| 2 | 4 | 3840 | - | - | 1.60 | - |",
    ]


def test_a_wrong_model_is_a_one_line_error(launches, capsys):
    assert main(["bench", "train", "--model", "wavenet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("speechsynth: error: no training benchmark for model 'wavenet'")
    assert error.count("\n") == 1 and "Traceback" not in error
    assert launches == []


def test_strong_scaling_of_an_indivisible_batch_is_a_one_line_error(launches, capsys):
    arguments = ["bench", "train", "--model", "waveglow", "--nproc", "1,3", "--batch-size", "4"]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert "batch size 4 over 3 processes" in error and error.count("\n") == 1
    assert launches == []


def test_no_model_is_an_error(launches, capsys):
    assert main(["bench", "train"]) == 2
    assert "bench train needs --model" in capsys.readouterr().err
