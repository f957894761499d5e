"""`bench inference`: text in, audio out, on tiny models with a few repeats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.evaluate.bench_tables import SEED_COLUMNS, inference_markdown
from speechsynth.evaluate.pipeline_speed import (
    InferenceBenchOptions,
    exclusive_stage_seconds,
    measure_pipeline_speed,
    with_mixed_precision_speedups,
)
from speechsynth.infer.bench import predict_even_durations
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig

FRAMES_PER_SYMBOL = 3.0
TINY_FASTPITCH = FastPitchConfig(
    in_fft_n_layers=1,
    in_fft_d_head=16,
    in_fft_conv1d_filter_size=64,
    out_fft_n_layers=1,
    out_fft_d_head=16,
    out_fft_conv1d_filter_size=64,
    symbols_embedding_dim=64,
    in_fft_output_size=64,
    out_fft_output_size=64,
    dur_predictor_filter_size=32,
    pitch_predictor_filter_size=32,
    energy_predictor_filter_size=32,
)


def _write(path: Path, name: str, model: torch.nn.Module) -> Path:
    payload = {
        "model_name": name,
        "model_config": model.config.to_dict(),
        "state_dict": model.state_dict(),
    }
    write_checkpoint(path, payload)
    return path


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory) -> dict[str, Path]:
    """A FastPitch that says every symbol for 3 frames, and a WaveGlow with 8 WN channels."""
    root = tmp_path_factory.mktemp("pipeline")
    torch.manual_seed(0)
    fastpitch = FastPitch(TINY_FASTPITCH).eval()
    predict_even_durations(fastpitch, FRAMES_PER_SYMBOL)
    waveglow = WaveGlow(WaveGlowConfig(WN_config={"n_channels": 8})).eval()
    return {
        "fastpitch": _write(root / "fastpitch.pt", "fastpitch", fastpitch),
        "waveglow": _write(root / "waveglow.pt", "waveglow", waveglow),
    }


@pytest.fixture(scope="module")
def report(tiny_files) -> dict:
    options = InferenceBenchOptions(
        generator=str(tiny_files["fastpitch"]),
        vocoder=str(tiny_files["waveglow"]),
        batch_sizes=(1, 2),
        precisions=("fp32", "int8", "auto"),
        text_length=20,
        repeats=2,
        warmup=1,
    )
    return measure_pipeline_speed(options)


def parity_options(generator: Path, vocoder: Path, runtime: str) -> InferenceBenchOptions:
    return InferenceBenchOptions(
        generator=str(generator),
        vocoder=str(vocoder),
        batch_sizes=(1, 2),
        precisions=("fp32",),
        runtimes=(runtime,),
        text_length=12,
        repeats=1,
        warmup=0,
    )


@pytest.fixture(scope="module")
def runtime_reports(parity_dir, parallel_exports, waveglow_onnx_dir) -> dict[str, dict]:
    """NVIDIA's FastPitch 1.0 and WaveGlow fixtures as checkpoints (torch) and as the exports
    the other ONNX tests share (onnx)."""
    fastpitch_export = parallel_exports["fastpitch10"][0]
    return {
        "torch": measure_pipeline_speed(
            parity_options(parity_dir / "fastpitch10.pt", parity_dir / "waveglow.pt", "torch")
        ),
        "onnx": measure_pipeline_speed(parity_options(fastpitch_export, waveglow_onnx_dir, "onnx")),
    }


def _rows(report: dict, runtime: str, precision: str) -> list[dict]:
    return [
        row for row in report["rows"] if (row["runtime"], row["precision"]) == (runtime, precision)
    ]


def check_seed_columns(row: dict, repeats: int) -> None:
    assert "skipped" not in row
    assert len(row["latencies_s"]) == repeats
    assert row["latency_mean_s"] == pytest.approx(np.mean(row["latencies_s"]))
    assert row["speedup_vs_fp32"] == pytest.approx(1.0)
    seconds = row["avg_audio_s"]
    assert seconds == pytest.approx(row["avg_mels_generated"] * 256 / 22050)
    assert row["avg_rtf"] == pytest.approx(seconds / row["latency_mean_s"])
    samples = row["batch_size"] * seconds * 22050
    assert row["throughput_samples_per_s"] == pytest.approx(samples / row["latency_mean_s"])


def test_each_batch_size_is_measured_in_the_seeds_terms(report):
    rows = _rows(report, "torch", "fp32")
    assert [row["batch_size"] for row in rows] == [1, 2]
    for row in rows:
        check_seed_columns(row, repeats=2)
    assert rows[0]["avg_mels_generated"] > 15 * FRAMES_PER_SYMBOL  # the whole text was read


def test_torch_and_onnx_runtimes_make_the_same_frames(runtime_reports):
    frames = {}
    for runtime, report in runtime_reports.items():
        rows = _rows(report, runtime, "fp32")
        for row in rows:
            check_seed_columns(row, repeats=1)
            assert row["generator_precision"] == "fp32"  # an export names itself "onnx"
        frames[runtime] = [row["avg_mels_generated"] for row in rows]
    assert frames["torch"] == frames["onnx"] and min(frames["torch"]) > 0


def test_a_checkpoint_is_exported_once_for_the_onnx_runtime(
    tiny_files, parallel_exports, monkeypatch
):
    """The export itself is `speechsynth export`'s (tested there; 30-100 s here): this checks
    that the bench exports each checkpoint once and runs the export."""
    import shutil

    from speechsynth.evaluate import pipeline_speed

    exported = []

    def export_copy(checkpoint: Path, directory: Path) -> None:
        exported.append(Path(checkpoint))
        shutil.copytree(parallel_exports["fastpitch10"][0], directory)

    monkeypatch.setattr(pipeline_speed, "export_checkpoint", export_copy)
    options = InferenceBenchOptions(
        generator=str(tiny_files["fastpitch"]),
        batch_sizes=(1, 2),
        runtimes=("onnx",),
        text_length=12,
        repeats=1,
        warmup=0,
    )
    rows = measure_pipeline_speed(options)["rows"]
    assert exported == [tiny_files["fastpitch"]]
    assert [row["runtime"] for row in rows] == ["onnx", "onnx"]
    assert all(row["latency_mean_s"] > 0 for row in rows)


def test_the_stages_add_up_to_the_latency(report):
    for row in report["rows"]:
        if "skipped" in row:
            continue
        stages = row["stage_seconds"]
        assert set(stages) == {"text", "generator", "vocoder", "denoiser"}
        assert min(stages.values()) > 0  # WaveGlow's denoiser runs at strength 0.01
        total = sum(stages.values())
        assert 0.5 * row["latency_mean_s"] < total <= row["latency_mean_s"] * 1.001


def test_options_that_cannot_run_here_are_reported_not_faked(report):
    for row in _rows(report, "torch", "int8"):
        assert "int8" in row["skipped"].lower()  # FastPitch has no int8 path
    for row in _rows(report, "torch", "auto"):  # auto is fp32 for both on a CPU without bf16
        assert "skipped" in row or row["generator_precision"] != "fp32"


def test_speedups_compare_with_the_fp32_row_of_the_same_runtime_and_batch():
    rows = [
        {"runtime": "torch", "precision": "fp32", "batch_size": 1, "latency_mean_s": 2.0},
        {"runtime": "torch", "precision": "bf16", "batch_size": 1, "latency_mean_s": 0.5},
        {"runtime": "onnx", "precision": "fp32", "batch_size": 1, "latency_mean_s": 1.0},
        {"runtime": "torch", "precision": "bf16", "batch_size": 4, "latency_mean_s": 1.0},
        {"runtime": "torch", "precision": "int8", "batch_size": 1, "skipped": "no int8"},
    ]
    speedups = [row.get("speedup_vs_fp32") for row in with_mixed_precision_speedups(rows)]
    assert speedups == [1.0, 4.0, 1.0, None, None]


def test_the_vocoder_stage_excludes_its_denoiser():
    seconds = {"text": 0.1, "generator": 1.0, "vocoder": 3.0, "denoiser": 0.5}
    assert exclusive_stage_seconds(seconds) == {**seconds, "vocoder": 2.5}
    assert exclusive_stage_seconds({"vocoder": 1.0})["denoiser"] == 0.0


def test_an_export_directory_runs_on_onnx_runtime_only(parallel_exports):
    export = parallel_exports["fastpitch10"][0]
    options = InferenceBenchOptions(generator=str(export), batch_sizes=(1,), repeats=1)
    (refused,) = measure_pipeline_speed(options)["rows"][:1]
    assert "ONNX Runtime only" in refused["skipped"] and "--runtime onnx" in refused["skipped"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (InferenceBenchOptions(generator="nosuch"), "--generator nosuch: no such file"),
        (InferenceBenchOptions(vocoder="nosuch.pt"), "--vocoder nosuch.pt: no such file"),
        (InferenceBenchOptions(runtimes=("tensorflow",)), "--runtime tensorflow"),
        (InferenceBenchOptions(precisions=("fp8",)), "--precision fp8"),
        (InferenceBenchOptions(batch_sizes=(0,)), "--batch-sizes"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(SpeechSynthError, match=message) as error:
        measure_pipeline_speed(options)
    assert "\n" not in str(error.value)


def test_the_markdown_has_the_seeds_columns_and_the_stages(report):
    markdown = inference_markdown(report)
    header = markdown.split("\n\n")[1].splitlines()[0]
    assert header == "|" + "|".join(SEED_COLUMNS) + "|"
    assert "|Text front end (s)|Generator (s)|Vocoder (s)|Denoiser (s)|" in markdown
    assert "Not measured here:" in markdown and "int8" in markdown
    assert report["machine"]["cores"] >= 1 and report["machine"]["threads"] >= 1


def test_cli_bench_inference_writes_json_and_a_plot(tiny_files, tmp_path, capsys):
    from speechsynth.cli import main

    plot = tmp_path / "plots" / "inference.png"
    arguments = ["bench", "inference", "--generator", str(tiny_files["fastpitch"])]
    arguments += ["--vocoder", "griffin-lim", "--batch-sizes", "1,2", "--repeats", "2"]
    arguments += ["--warmup", "0", "--text-length", "20", "--plot", str(plot), "--json"]
    assert main(arguments) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["batch_size"] for row in report["rows"] if "skipped" not in row] == [1, 2]
    assert report["vocoder"] == "griffin-lim" and report["plot"] == str(plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(plot.parent.glob(".*"))  # no temporary file left behind


def test_cli_bench_inference_names_a_wrong_model_in_one_line(capsys):
    from speechsynth.cli import main

    assert main(["bench", "inference", "--generator", "fastpitsch", "--batch-sizes", "1"]) == 2
    error = capsys.readouterr().err
    assert "--generator fastpitsch" in error and "Traceback" not in error


def test_tacotron2_with_hifigan_and_a_step_limit(tmp_path):
    """The other generator and vocoder kinds: Tacotron 2 (its decoder capped by --steps, as a
    random one never stops) and a HiFi-GAN checkpoint in NVIDIA's layout."""
    import dataclasses

    from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator
    from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config

    torch.manual_seed(0)
    config = Tacotron2Config(
        symbols_embedding_dim=32,
        encoder_embedding_dim=32,
        encoder_n_convolutions=1,
        attention_rnn_dim=32,
        attention_dim=16,
        decoder_rnn_dim=32,
        prenet_dim=16,
        postnet_embedding_dim=16,
        gate_threshold=0.999999,
    )
    tacotron2 = _write(tmp_path / "tacotron2.pt", "tacotron2", Tacotron2(config).eval())
    hifigan_config = HiFiGanConfig(
        upsample_initial_channel=16, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1]]
    )
    hifigan = tmp_path / "hifigan_gen_checkpoint_1.pt"
    torch.save(
        {
            "generator": HiFiGanGenerator(hifigan_config).state_dict(),
            "config": dataclasses.asdict(hifigan_config),
        },
        hifigan,
    )
    options = InferenceBenchOptions(
        generator=str(tacotron2),
        vocoder=str(hifigan),
        batch_sizes=(1,),
        precisions=("fp32", "int8"),
        text_length=16,
        repeats=1,
        warmup=0,
        max_decoder_steps=20,
    )
    fp32, int8 = measure_pipeline_speed(options)["rows"]
    assert fp32["avg_mels_generated"] <= 20 and fp32["stage_seconds"]["denoiser"] == 0.0
    assert int8["generator_precision"] == "int8" and int8["vocoder_precision"] == "fp32"
    assert int8["speedup_vs_fp32"] == pytest.approx(fp32["latency_mean_s"] / int8["latency_mean_s"])


def test_the_bundled_voice_runs_its_shipped_export_on_onnx_runtime(monkeypatch):
    from speechsynth.evaluate import pipeline_speed

    def no_export(*arguments):
        raise AssertionError("the bundled voice was exported again")

    monkeypatch.setattr(pipeline_speed, "export_checkpoint", no_export)
    options = InferenceBenchOptions(
        batch_sizes=(1,), runtimes=("torch", "onnx"), text_length=12, repeats=1, warmup=0
    )
    rows = [row for row in measure_pipeline_speed(options)["rows"] if "skipped" not in row]
    assert [row["runtime"] for row in rows] == ["torch", "onnx"]
    assert rows[0]["avg_mels_generated"] == rows[1]["avg_mels_generated"] > 0
