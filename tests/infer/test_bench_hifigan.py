"""`bench hifigan`: HiFi-GAN's speed beside WaveGlow-256's, in one run."""

from __future__ import annotations

import json

import pytest

from speechsynth.evaluate.speed import SpeedOptions, measure_speed

TINY = {"mel_frames": 8, "repeats": 1, "batch_size": 1}


def test_hifigan_runs_beside_waveglow_256_on_the_same_mels():
    report = measure_speed("hifigan", SpeedOptions(precisions=("fp32",), **TINY))
    hifigan, waveglow = report["runs"]
    assert (hifigan["model"], hifigan["channels"]) == ("hifigan", 512)  # NVIDIA's V1
    assert (waveglow["model"], waveglow["channels"]) == ("waveglow", 256)
    for run in report["runs"]:
        (row,) = run["inference"]
        assert row["samples"] == 8 * 256 and row["samples_per_s"] > 0
        assert row["real_time_factor"] == pytest.approx(row["samples_per_s"] / 22050)
    assert [result["model"] for result in report["results"]] == ["hifigan", "waveglow"]
    assert report["default_precision"] == "fp32"  # HiFi-GAN's bf16 is not measured yet


def test_a_checkpoint_in_nvidias_layout_is_timed(tmp_path):
    import dataclasses

    import torch

    from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator

    config = HiFiGanConfig(
        upsample_initial_channel=16, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1]]
    )
    checkpoint = tmp_path / "hifigan_gen_checkpoint_1.pt"
    generator = HiFiGanGenerator(config).state_dict()
    torch.save({"generator": generator, "config": dataclasses.asdict(config)}, checkpoint)
    report = measure_speed("hifigan", SpeedOptions(checkpoint=checkpoint, **TINY))
    assert report["runs"][0]["weights"] == str(checkpoint)
    assert report["runs"][0]["channels"] == 16


def test_cli_bench_hifigan_summarises_both_models(capsys):
    from speechsynth.cli import main

    arguments = ["bench", "hifigan", "--mel-frames", "8", "--repeats", "1", "--train-steps", "0"]
    assert main([*arguments, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {result["model"] for result in report["results"]} == {"hifigan", "waveglow"}
    assert main(arguments) == 0
    text = capsys.readouterr().out
    assert "hifigan, 512 initial channels" in text and "waveglow 256 channels" in text
    assert text.splitlines()[-1].split()[-1] == "waveglow"
