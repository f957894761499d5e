import json
import math

import pytest
import torch

from speechsynth.cli import main
from speechsynth.infer.bench import LatencyStats, bench_tacotron2_inference
from speechsynth.infer.precision import PRECISIONS, prepare_for_inference
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config
from speechsynth.train.bench import bench_tacotron2_training

TINY = Tacotron2Config(
    symbols_embedding_dim=32,
    encoder_embedding_dim=32,
    attention_rnn_dim=64,
    attention_dim=16,
    decoder_rnn_dim=64,
    prenet_dim=32,
    postnet_embedding_dim=32,
)


@pytest.fixture(scope="module")
def tiny_model() -> Tacotron2:
    torch.manual_seed(0)
    return Tacotron2(TINY).eval()


def test_latency_stats_are_ordered():
    stats = LatencyStats.of([1.0, 2.0, 3.0, 4.0])
    assert stats.mean == 2.5
    assert math.isclose(stats.std, math.sqrt(1.25))
    assert 3.0 < stats.p90 <= stats.p95 <= stats.p99 <= 4.0


@pytest.mark.parametrize("precision", PRECISIONS)
def test_inference_report_has_sane_values(tiny_model, precision):
    result = bench_tacotron2_inference(
        tiny_model, precision=precision, steps=12, batch_size=2, text_length=9, repeats=2
    )
    assert (result.precision, result.decoder_steps, result.batch_size) == (precision, 12, 2)
    assert result.threads == torch.get_num_threads()
    assert 0 < result.ms_per_step_mean * 12 / 1e3 < result.latency.mean
    assert result.ms_per_step_std >= 0
    assert result.latency.p90 <= result.latency.p95 <= result.latency.p99
    assert math.isclose(result.mel_frames_per_s, 2 * 12 / result.latency.mean)
    if precision == "fp32":
        assert result.mel_relative_error is None
    else:
        assert 0 < result.mel_relative_error < 0.1
    assert set(result.to_dict()["latency"]) == {"mean", "std", "p90", "p95", "p99", "median"}
    assert result.latency.median <= result.latency.p90


def test_lower_precisions_leave_the_model_alone(tiny_model):
    before = {name: value.clone() for name, value in tiny_model.state_dict().items()}
    fast = prepare_for_inference(tiny_model, "int8")
    assert fast is not tiny_model
    assert type(tiny_model.decoder.attention_rnn) is torch.nn.LSTMCell
    assert type(fast.decoder.decoder_rnn) is not torch.nn.LSTMCell
    after = tiny_model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_training_report_has_sane_values(tiny_model):
    before = tiny_model.decoder.attention_rnn.weight_ih.clone()
    result = bench_tacotron2_training(
        tiny_model, batch_size=2, mel_frames=10, text_length=7, steps=2
    )
    assert (result.batch_size, result.mel_frames, result.steps) == (2, 10, 2)
    assert result.seconds_per_step_mean > 0 and result.seconds_per_step_std >= 0
    assert math.isclose(result.mel_frames_per_s, 20 / result.seconds_per_step_mean)
    assert torch.equal(tiny_model.decoder.attention_rnn.weight_ih, before)  # trained a copy
    assert not tiny_model.training


def test_cli_bench_with_a_checkpoint(parity_dir, capsys):
    checkpoint = parity_dir / "tacotron2.pt"
    args = ["bench", "tacotron2", "--checkpoint", str(checkpoint), "--steps", "8"]
    args += ["--repeats", "2", "--text-length", "10", "--precision", "fp32,int8,onnx"]
    args += ["--train-steps", "1", "--train-batch-size", "2", "--train-frames", "8"]
    assert main([*args, "--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["weights"] == str(checkpoint) and report["threads"] == 1
    assert [entry["precision"] for entry in report["inference"]] == ["fp32", "int8", "onnx"]
    assert report["inference"][0]["speedup"] == 1.0 and report["inference"][2]["speedup"] > 0
    assert [entry["decoder_steps"] for entry in report["inference"]] == [8, 8, 8]
    assert report["inference"][2]["ms_per_step_mean"] > 0
    assert report["training"]["mel_frames_per_s"] > 0

    assert main([*args[:-6], "--train-steps", "0"]) == 0
    text = capsys.readouterr().out
    assert "ms/step" in text and "int8" in text and "onnx" in text and "training" not in text


def test_cli_bench_refuses_unknown_precisions_and_models(capsys):
    assert main(["bench", "tacotron2", "--precision", "fp16"]) == 2
    error = capsys.readouterr().err
    assert "--precision fp16: not available for tacotron2" in error
    assert "fp32, bf16, int8, onnx, onnx-int8" in error
    assert main(["bench", "wavenet"]) == 2
    error = capsys.readouterr().err
    assert "no benchmark for 'wavenet'" in error and "hifigan" in error
