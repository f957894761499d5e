"""`export --quantize int8`: ONNX Runtime dynamic quantization of tiny FastPitch / FastSpeech
exports, run through the same runtime as any export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from speechsynth.cli import main
from speechsynth.errors import SpeechSynthError
from speechsynth.export.exporters import ExportOptions, export_model
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.bench import predict_even_durations
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.models.export_manifest import MANIFEST_NAME
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig
from speechsynth.models.fastspeech import FastSpeech, FastSpeechConfig
from speechsynth.models.registry import LoadedModel
from speechsynth.models.text_setup import NVIDIA_CLEANERS

# Measured max |int8 mel - fp32 mel| on these models and texts: FastPitch 0.048, FastSpeech
# 0.040 (mels up to 2.6 in size); a broken graph (a lost scale, wrong weights) is off by ~1.
MAX_ABS_DIFF = 0.15
TINY_FASTPITCH = FastPitchConfig(
    symbols_embedding_dim=64,
    in_fft_n_layers=2,
    in_fft_d_head=32,
    in_fft_conv1d_filter_size=128,
    in_fft_output_size=64,
    out_fft_n_layers=2,
    out_fft_d_head=32,
    out_fft_conv1d_filter_size=128,
    out_fft_output_size=64,
    dur_predictor_filter_size=64,
    pitch_predictor_filter_size=64,
)
TINY_FASTSPEECH = FastSpeechConfig(
    d_model=64,
    phoneme_side_n_layer=2,
    phoneme_side_conv1d_filter_size=128,
    phoneme_side_output_size=64,
    mel_side_n_layer=2,
    mel_side_conv1d_filter_size=128,
    mel_side_output_size=64,
    duration_predictor_filter_size=64,
)


def tiny_model(name: str) -> LoadedModel:
    """Random weights that predict 3 frames per symbol (every runtime makes the same frames)."""
    torch.manual_seed(0)
    config = TINY_FASTPITCH if name == "fastpitch" else TINY_FASTSPEECH
    model = (FastPitch if name == "fastpitch" else FastSpeech)(config).eval()
    predict_even_durations(model, 3.0)
    return LoadedModel(name, config, model, Path(f"tiny-{name}.pt"), "speechsynth", NVIDIA_CLEANERS)


def texts() -> tuple[np.ndarray, np.ndarray]:
    ids = np.random.default_rng(0).integers(1, 140, (2, 30)).astype(np.int64)
    return ids, np.array([30, 21], dtype=np.int64)


def pytorch_mels(loaded: LoadedModel) -> np.ndarray:
    ids, lengths = texts()
    with torch.inference_mode():
        output = loaded.model.infer(torch.from_numpy(ids), torch.from_numpy(lengths))
    return output.mels.numpy()


@pytest.fixture(scope="module")
def fastpitch_exports(tmp_path_factory) -> dict[str, Path]:
    """fp32 (export_model) and int8 (`speechsynth export --quantize int8`) of one FastPitch."""
    loaded = tiny_model("fastpitch")
    root = tmp_path_factory.mktemp("fastpitch")
    checkpoint = root / "tiny.pt"
    write_checkpoint(
        checkpoint,
        {
            "model_name": "fastpitch",
            "model_config": loaded.config.to_dict(),
            "state_dict": loaded.model.state_dict(),
        },
    )
    export_model(loaded, root / "fp32")
    arguments = ["export", "--model", str(checkpoint), "-o", str(root / "int8")]
    assert main([*arguments, "--quantize", "int8"]) == 0
    return {"fp32": root / "fp32", "int8": root / "int8"}


def test_int8_fastpitch_runs_close_to_fp32(fastpitch_exports):
    directory = fastpitch_exports["int8"]
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    assert manifest["quantization"] == "int8"
    assert "quantization" not in json.loads((fastpitch_exports["fp32"] / MANIFEST_NAME).read_text())
    assert not [path.name for path in directory.iterdir() if path.name.startswith(".")]
    int8_size = (directory / "model.onnx").stat().st_size
    assert int8_size < 0.9 * (fastpitch_exports["fp32"] / "model.onnx").stat().st_size
    model = open_acoustic_model(directory, RuntimeOptions(threads=1))
    ids, lengths = texts()
    output = model.generate(ids, lengths, Controls(pace=1.25))  # controls still reach the graph
    assert output.mel_lengths.tolist() == [30 * 2, 21 * 2]  # 3 / 1.25 frames per symbol, rounded
    output = model.generate(ids, lengths, Controls())
    expected = pytorch_mels(tiny_model("fastpitch"))
    assert output.mels.shape == expected.shape
    difference = float(np.abs(output.mels - expected).max())
    assert 0 < difference < MAX_ABS_DIFF  # quantized (not exact), and close


def test_int8_fastspeech_runs_close_to_fp32(tmp_path):
    loaded = tiny_model("fastspeech")
    summary = export_model(loaded, tmp_path / "int8", ExportOptions(quantize="int8"))
    assert summary["quantization"] == "int8"
    manifest = json.loads((tmp_path / "int8" / MANIFEST_NAME).read_text())
    assert manifest["quantization"] == "int8"
    graph = onnx.load(tmp_path / "int8" / "model.onnx").graph
    assert "MatMulInteger" in {node.op_type for node in graph.node}
    model = open_acoustic_model(tmp_path / "int8", RuntimeOptions(threads=1))
    output = model.generate(*texts(), Controls())
    expected = pytorch_mels(loaded)
    assert output.mels.shape == expected.shape
    assert 0 < float(np.abs(output.mels - expected).max()) < MAX_ABS_DIFF


def test_unknown_quantization_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SpeechSynthError, match="--quantize int4: unknown; choose int8"):
        export_model(tiny_model("fastspeech"), tmp_path, ExportOptions(quantize="int4"))
    assert not list(tmp_path.iterdir())
    arguments = ["export", "--model", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "out")]
    assert main([*arguments, "--quantize", "fp8"]) == 2  # refused before the checkpoint is read
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--quantize fp8: unknown; choose int8" in error
