"""`speechsynth bench fastpitch --precision fp32,onnx`: PyTorch and ONNX Runtime in one run, on
the same texts with the model's own durations."""

from __future__ import annotations

import json

from speechsynth.cli import main
from speechsynth.cli.bench_cmd import format_any_report


def test_bench_fastpitch_onnx_beside_fp32(parity_dir, capsys):
    checkpoint = str(parity_dir / "fastpitch11.pt")  # 1.5M parameters: a quick export
    arguments = ["bench", "fastpitch", "--checkpoint", checkpoint, "--precision", "fp32,onnx"]
    arguments += ["--text-length", "12", "--batch-size", "2", "--repeats", "2"]
    assert main([*arguments, "--train-steps", "0", "--threads", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["model"], report["report"], report["threads"]) == ("fastpitch", "parallel", 1)
    assert report["weights"] == checkpoint and report["training"] is None
    fp32, onnx = report["inference"]
    assert (fp32["precision"], onnx["precision"]) == ("fp32", "onnx")
    for row in (fp32, onnx):
        assert (row["durations"], row["batch_size"], row["text_length"]) == ("predicted", 2, 12)
        assert row["latency"]["mean"] > 0 and row["mel_frames_per_s"] > 0
    assert fp32["mel_frames"] == onnx["mel_frames"] > 12  # the same durations: the same work
    assert fp32["mel_max_abs_diff"] is None and fp32["speedup"] == 1.0
    assert onnx["mel_max_abs_diff"] < 1e-4 and onnx["mel_relative_error"] < 1e-5
    assert onnx["speedup"] > 0

    text = format_any_report(report)
    assert "durations predicted by the model" in text and "1.00x" in text
    assert text.splitlines()[-1].split()[0] == "onnx"


def test_cli_bench_all_precisions_summarises_each_option(parity_dir, capsys):
    checkpoint = str(parity_dir / "fastpitch11.pt")
    arguments = ["bench", "fastpitch", "--checkpoint", checkpoint, "--precision", "all"]
    arguments += ["--text-length", "16", "--repeats", "1", "--train-steps", "0", "--threads", "1"]
    assert main([*arguments, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    results = {result["precision"]: result for result in report["results"]}
    expected = ["fp32", "onnx", "onnx-int8"]
    if report["default_precision"] == "bf16":  # a CPU with native bfloat16
        expected.insert(1, "bf16")
    assert list(results) == expected
    keys = {"precision", "threads", "latency_s", "speedup_vs_fp32", "relative_rms_error"}
    assert all(set(result) == keys | {"durations_identical"} for result in results.values())
    assert results["fp32"]["speedup_vs_fp32"] == 1.0 and results["fp32"]["threads"] == 1
    assert results["onnx"]["relative_rms_error"] < 1e-5
    assert results["onnx"]["durations_identical"] is True
    assert all(result["latency_s"] > 0 for result in results.values())
    assert main(arguments) == 0
    text = capsys.readouterr().out
    assert f"summary (default precision here: {report['default_precision']}):" in text
    assert "latency s (median)" in text and "onnx-int8" in text
