"""`bench train`'s scaling benchmark: the math on fake timings, the checks made before anything
is launched, the launcher's failures, and one real run of 1 and 2 gloo processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.train import scaling
from speechsynth.train.scaling import (
    Measurement,
    ScalingOptions,
    batch_size_per_process,
    failure_summary,
    launch_worker,
    measure_training_scaling,
    timed_steps,
)

FRAMES = 100
# Fake seconds per step by (processes, batch per process, precision). Strong scaling of a global
# batch of 8 and weak scaling of 8 per process; every run's throughput (items / s) in comments.
FAKE_SECONDS = {
    (1, 8, "fp32"): 2.0,  # 800 frames / 2.0 s = 400 /s
    (1, 8, "amp"): 1.6,  # 500 /s
    (2, 4, "fp32"): 1.25,  # 800 / 1.25 = 640 /s
    (2, 4, "amp"): 1.0,  # 800 /s
    (4, 2, "fp32"): 1.0,  # 800 /s
    (4, 2, "amp"): 0.8,  # 1000 /s
    (2, 8, "fp32"): 2.5,  # 1600 / 2.5 = 640 /s
    (2, 8, "amp"): 2.0,  # 800 /s
    (4, 8, "fp32"): 4.0,  # 3200 / 4.0 = 800 /s
    (4, 8, "amp"): 3.2,  # 1000 /s
}


class FakeLauncher:
    """Stands in for torchrun: the fake timings above, and a record of what was launched."""

    def __init__(self, seconds: dict[tuple[int, int, str], float] | None = None) -> None:
        self.seconds = FAKE_SECONDS if seconds is None else seconds
        self.launched: list[tuple[int, int, str]] = []

    def __call__(
        self, options: ScalingOptions, nproc: int, batch_size: int, precision: str, output: Path
    ) -> Measurement:
        self.launched.append((nproc, batch_size, precision))
        return Measurement(
            world_size=nproc,
            batch_size_per_process=batch_size,
            precision=precision,
            steps=timed_steps(options.epochs_worth, options.epoch_utterances, batch_size * nproc),
            seconds_per_step=self.seconds[nproc, batch_size, precision],
            items_per_step=batch_size * nproc * FRAMES,
        )


def never_launch(*_: object) -> Measurement:
    raise AssertionError("nothing should have been launched")


def exact(value: float) -> object:
    return pytest.approx(value, rel=1e-12)


def test_scaling_math_on_fake_timings():
    launcher = FakeLauncher()
    options = ScalingOptions(
        model="fastpitch", batch_size=8, nprocs=(4, 1, 2), amp=True, frames=FRAMES
    )
    report = measure_training_scaling(options, launch=launcher)

    # One process with 8 utterances is the same run for both modes: launched once per precision.
    assert len(launcher.launched) == len(set(launcher.launched)) == 10
    assert (report["unit"], report["nprocs"], report["modes"]) == (
        "mel frames",
        [1, 2, 4],
        ["strong", "weak"],
    )
    rows = {(row["mode"], row["nproc"], row["precision"]): row for row in report["results"]}
    assert list(rows) == [
        (mode, nproc, precision)
        for mode in ("strong", "weak")
        for nproc in (1, 2, 4)
        for precision in ("fp32", "amp")
    ]
    expected = {
        # (mode, nproc, precision): (batch/proc, global, steps, items/s, amp x, scaling x, eff.)
        ("strong", 1, "fp32"): (8, 8, 4, 400, None, 1.0, 1.0),
        ("strong", 1, "amp"): (8, 8, 4, 500, 1.25, 1.0, 1.0),
        ("strong", 2, "fp32"): (4, 8, 4, 640, None, 1.6, 0.8),
        ("strong", 2, "amp"): (4, 8, 4, 800, 1.25, 1.6, 0.8),
        ("strong", 4, "fp32"): (2, 8, 4, 800, None, 2.0, 0.5),
        ("strong", 4, "amp"): (2, 8, 4, 1000, 1.25, 2.0, 0.5),
        ("weak", 1, "fp32"): (8, 8, 4, 400, None, 1.0, 1.0),
        ("weak", 1, "amp"): (8, 8, 4, 500, 1.25, 1.0, 1.0),
        ("weak", 2, "fp32"): (8, 16, 2, 640, None, 1.6, 0.8),
        ("weak", 2, "amp"): (8, 16, 2, 800, 1.25, 1.6, 0.8),
        ("weak", 4, "fp32"): (8, 32, 1, 800, None, 2.0, 0.5),
        ("weak", 4, "amp"): (8, 32, 1, 1000, 1.25, 2.0, 0.5),
    }
    for key, (batch, global_batch, steps, rate, amp, speedup, efficiency) in expected.items():
        row = rows[key]
        assert (row["model"], row["unit"]) == ("fastpitch", "mel frames"), key
        assert (row["batch_size_per_process"], row["global_batch_size"], row["steps"]) == (
            batch,
            global_batch,
            steps,
        ), key
        assert row["seconds_per_step"] == FAKE_SECONDS[key[1], batch, key[2]]
        assert row["items_per_s"] == exact(rate), key
        assert row["speedup_amp"] == (None if amp is None else exact(amp)), key
        assert row["scaling_speedup"] == exact(speedup), key
        assert row["scaling_efficiency"] == exact(efficiency), key


def test_scaling_is_relative_to_the_fewest_processes_run():
    options = ScalingOptions(model="waveglow", batch_size=8, nprocs=(2, 4), modes=("weak",))
    rows = measure_training_scaling(options, launch=FakeLauncher())["results"]
    assert [(row["nproc"], row["unit"], row["speedup_amp"]) for row in rows] == [
        (2, "audio samples", None),
        (4, "audio samples", None),
    ]
    assert rows[1]["scaling_base_nproc"] == 2
    assert rows[1]["scaling_speedup"] == exact(800 / 640)
    assert rows[1]["scaling_efficiency"] == exact(800 / 640 / 2)  # against 2 ideal


@pytest.mark.parametrize(
    ("epochs_worth", "utterances", "global_batch", "steps"),
    [
        (1, 32, 4, 8),
        (1, 32, 8, 4),
        (1, 32, 12, 3),  # 2.67 steps: the last one partly filled
        (2.5, 32, 8, 10),
        (0.5, 32, 4, 4),
        (0.1, 30, 3, 1),  # 0.1 * 30 / 3 is 1.0000000000000002 in floats
        (0.01, 32, 64, 1),  # never fewer than one
    ],
)
def test_steps_from_epochs_worth(epochs_worth, utterances, global_batch, steps):
    assert timed_steps(epochs_worth, utterances, global_batch) == steps


@pytest.mark.parametrize(("epochs_worth", "utterances"), [(0, 32), (-1, 32), (1, 0)])
def test_steps_need_a_positive_amount_of_work(epochs_worth, utterances):
    with pytest.raises(SpeechSynthError):
        timed_steps(epochs_worth, utterances, 4)


def test_strong_scaling_needs_a_batch_every_process_count_divides():
    assert batch_size_per_process("strong", 8, 4) == 2
    assert batch_size_per_process("weak", 6, 4) == 6
    with pytest.raises(SpeechSynthError, match=r"batch size 6 over 4 processes"):
        batch_size_per_process("strong", 6, 4)
    options = ScalingOptions(model="fastpitch", batch_size=6, nprocs=(1, 2, 4))
    with pytest.raises(SpeechSynthError, match="--batch-size"):
        measure_training_scaling(options, launch=never_launch)
    weak_only = ScalingOptions(model="fastpitch", batch_size=6, nprocs=(1, 4), modes=("weak",))
    launcher = FakeLauncher({(1, 6, "fp32"): 1.0, (4, 6, "fp32"): 2.0})
    assert len(measure_training_scaling(weak_only, launch=launcher)["results"]) == 2


def test_unknown_model_is_a_one_line_error_before_any_launch(capsys, tmp_path):
    with pytest.raises(SpeechSynthError) as raised:
        measure_training_scaling(ScalingOptions(model="wavenet"), launch=never_launch)
    message = str(raised.value)
    assert "'wavenet'" in message and "\n" not in message
    for choice in ("tacotron2", "fastpitch", "fastspeech", "waveglow"):
        assert choice in message

    assert scaling.main(["--model", "wavenet", "--output", str(tmp_path / "out.json")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no training benchmark for model 'wavenet'")
    assert error.count("\n") == 1


TORCHRUN_LOG = """\
[rank1]: Traceback (most recent call last):
[rank1]:   File "scaling.py", line 10, in <module>
[rank1]: RuntimeError: maximum size for tensor at dimension 1 is 0 but size is 8
E1130 failed (exitcode: 1) local_rank: 1 (pid: 24626) of binary: python
Traceback (most recent call last):
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
============================================================
  traceback : To enable traceback see: https://pytorch.org/docs/stable/elastic/errors.html
============================================================
"""


def test_failure_summary_finds_the_workers_error():
    assert failure_summary(TORCHRUN_LOG) == (
        "RuntimeError: maximum size for tensor at dimension 1 is 0 but size is 8"
    )
    own = "warning: slow\n[rank0]: error: WaveGlow trains on segments of at least 8\n"
    assert failure_summary(TORCHRUN_LOG + own) == "WaveGlow trains on segments of at least 8"
    assert failure_summary("one\ntwo\nthree\nfour\n") == "two | three | four"
    assert failure_summary("") == "no output"


def fake_worker(monkeypatch, code: str) -> None:
    """`launch_worker` runs `python -c code` instead of torchrun."""
    monkeypatch.setattr(scaling, "worker_command", lambda *_: [sys.executable, "-c", code])


def test_a_failed_launch_is_a_one_line_error_with_the_cause(monkeypatch, tmp_path):
    fake_worker(monkeypatch, "import sys; print('error: no room', file=sys.stderr); sys.exit(2)")
    with pytest.raises(SpeechSynthError) as raised:
        launch_worker(ScalingOptions(model="fastpitch"), 2, 4, "fp32", tmp_path / "out.json")
    assert str(raised.value) == (
        "bench train: fastpitch on 2 process(es), batch 4 each, fp32 failed (exit 2): no room"
    )


def test_a_launch_past_its_timeout_is_stopped(monkeypatch, tmp_path):
    pid_file = tmp_path / "pid"
    fake_worker(
        monkeypatch,
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)",
    )
    options = ScalingOptions(model="fastpitch", timeout_s=2.0)
    started = time.perf_counter()
    with pytest.raises(SpeechSynthError, match="took over 2 s and was stopped"):
        launch_worker(options, 1, 4, "fp32", tmp_path / "out.json")
    assert time.perf_counter() - started < 30
    pid = int(pid_file.read_text())
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0


def test_one_and_two_gloo_processes_really_train():
    options = ScalingOptions(
        model="fastpitch",  # the model DDP is fussiest about (the aligner's unused projection)
        batch_size=2,
        nprocs=(1, 2),
        size="tiny",
        frames=32,
        text_length=8,
        epoch_utterances=4,
        threads=1,
        device="cpu",  # gloo, even where there is a GPU
    )
    report = measure_training_scaling(options)
    rows = {(row["mode"], row["nproc"]): row for row in report["results"]}
    assert list(rows) == [("strong", 1), ("strong", 2), ("weak", 1), ("weak", 2)]
    expected = {  # (world size, batch per process, global batch, steps, backend)
        ("strong", 1): (1, 2, 2, 2, None),
        ("strong", 2): (2, 1, 2, 2, "gloo"),
        ("weak", 1): (1, 2, 2, 2, None),
        ("weak", 2): (2, 2, 4, 1, "gloo"),
    }
    for key, (world, batch, global_batch, steps, backend) in expected.items():
        row = rows[key]
        assert (row["world_size"], row["batch_size_per_process"], row["global_batch_size"]) == (
            world,
            batch,
            global_batch,
        ), key
        assert (row["steps"], row["backend"], row["device"]) == (steps, backend, "cpu"), key
        assert row["items_per_step"] == global_batch * 32, key
        assert row["precision"] == "fp32" and row["speedup_amp"] is None
        assert row["seconds_per_step"] > 0 and row["items_per_s"] > 0
        assert row["scaling_speedup"] > 0 and row["scaling_efficiency"] > 0
    assert rows["strong", 1]["scaling_speedup"] == rows["weak", 1]["scaling_speedup"] == 1.0
    assert rows["strong", 1]["items_per_s"] == rows["weak", 1]["items_per_s"]  # one shared run


def test_cuda_needs_a_gpu_per_process_before_any_launch():
    options = ScalingOptions(model="fastspeech", nprocs=(1, 512), modes=("weak",), device="cuda")
    with pytest.raises(SpeechSynthError, match="--nproc 512 on CUDA needs a GPU per process"):
        measure_training_scaling(options)
