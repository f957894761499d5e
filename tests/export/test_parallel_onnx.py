"""FastPitch and FastSpeech exported to ONNX and run by ONNX Runtime, against PyTorch and
NVIDIA's reference outputs (the parity fixtures' weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy
import onnx
import pytest
import torch

from speechsynth.cli import main
from speechsynth.errors import SpeechSynthError
from speechsynth.export.parallel import FASTPITCH_CONTROLS, GRAPH_FILE, export_parallel
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.pitch_transforms import PitchTransformSpec, build_pitch_transform
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model, text_setup_of
from speechsynth.models.export_manifest import MANIFEST_NAME
from speechsynth.models.registry import load_model

TOLERANCE = 1e-4
# FastPitch 1.0 (half-even rounding, [B, L] pitch) and 1.1 with energy conditioning.
FASTPITCH_FIXTURES = ("fastpitch10", "fastpitch11_energy")
PITCH_SPECS = {
    "none": PitchTransformSpec(),
    "flatten": PitchTransformSpec(flatten=True),
    "invert": PitchTransformSpec(invert=True),
    "amplify2.0": PitchTransformSpec(amplify=2.0),
    "shift+50Hz": PitchTransformSpec(shift_hz=50.0),
    "all": PitchTransformSpec(invert=True, amplify=1.5, shift_hz=-20.0),
}


@pytest.fixture(scope="module")
def exports(parallel_exports) -> dict[str, tuple[Path, object]]:
    """name -> (export directory, the PyTorch LoadedModel it came from) (`tests/conftest.py`)."""
    return parallel_exports


def _batch(reference: dict, batch: str) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = reference["inputs"]
    if batch == "b1":
        return inputs["text_ids"], inputs.get("input_lengths", torch.tensor([128]))
    lengths = inputs.get("batch_input_lengths")
    if lengths is None:  # FastSpeech's fixture gives positions; its lengths are the non-zero ids
        lengths = (inputs["batch_text_ids"] != 0).sum(dim=1)
    return inputs["batch_text_ids"], lengths


def max_diff(actual, expected: torch.Tensor) -> float:
    actual = torch.as_tensor(actual)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return (actual.float() - expected.float()).abs().max().item()


def onnx_outputs(directory: Path, text: torch.Tensor, lengths: torch.Tensor, **controls) -> dict:
    """The export's graph outputs by name, through the ONNX runtime backend."""
    model = open_acoustic_model(directory)
    return model.outputs(text.numpy(), lengths.numpy(), Controls(**controls))


@pytest.mark.parametrize("batch", ["b1", "b2"])
@pytest.mark.parametrize("pace", [1.0, 0.8, 1.25])
@pytest.mark.parametrize("name", FASTPITCH_FIXTURES)
def test_fastpitch_onnx_matches_pytorch_at_each_pace(exports, load_parity, name, pace, batch):
    directory, loaded = exports[name]
    text, lengths = _batch(load_parity(name), batch)
    expected = loaded.model.infer(text, lengths, pace=pace)
    actual = onnx_outputs(directory, text, lengths, pace=pace)
    assert actual["mel_lengths"].tolist() == expected.mel_lengths.tolist()
    assert max_diff(actual["mels"], expected.mels) < TOLERANCE
    assert max_diff(actual["durations"], expected.durations_pred) < TOLERANCE
    assert max_diff(actual["pitch"], expected.pitch_pred) < TOLERANCE


@pytest.mark.parametrize("transform", list(PITCH_SPECS))
@pytest.mark.parametrize("name", FASTPITCH_FIXTURES)
def test_fastpitch_onnx_pitch_transforms(exports, load_parity, name, transform):
    directory, loaded = exports[name]
    text, lengths = _batch(load_parity(name), "b2")
    pitch_transform = build_pitch_transform(PITCH_SPECS[transform])
    expected = loaded.model.infer(text, lengths, pitch_transform=pitch_transform)
    actual = onnx_outputs(directory, text, lengths, pitch=PITCH_SPECS[transform])
    assert max_diff(actual["mels"], expected.mels) < TOLERANCE
    assert max_diff(actual["pitch"], expected.pitch_pred) < TOLERANCE


@pytest.mark.parametrize(
    "key",
    [
        "infer_b1_pace1.0",
        "infer_b1_pace0.8",
        "infer_b1_pace1.25",
        "infer_b1_pitch_flatten",
        "infer_b1_pitch_invert",
        "infer_b1_pitch_amplify2.0",
        "infer_b1_pitch_shift+50Hz",
    ],
)
@pytest.mark.parametrize("name", FASTPITCH_FIXTURES)
def test_fastpitch_onnx_matches_nvidia(exports, load_parity, name, key):
    reference = load_parity(name)
    expected = reference["outputs"][key]
    pace = float(key.split("pace")[1]) if "pace" in key else 1.0
    spec = PITCH_SPECS[key.split("_pitch_")[1]] if "_pitch_" in key else PitchTransformSpec()
    text, lengths = _batch(reference, "b1")
    actual = onnx_outputs(exports[name][0], text, lengths, pace=pace, pitch=spec)
    assert actual["mel_lengths"].tolist() == expected["dec_lens"].tolist()
    assert max_diff(actual["mels"], expected["mel_out"]) < TOLERANCE
    assert max_diff(actual["pitch"], expected["pitch_pred"]) < TOLERANCE


@pytest.mark.parametrize("batch", ["b1", "b2"])
@pytest.mark.parametrize("alpha", [1.0, 1.3])
def test_fastspeech_onnx_matches_pytorch_and_nvidia(exports, load_parity, alpha, batch):
    directory, loaded = exports["fastspeech"]
    reference = load_parity("fastspeech")
    text, lengths = _batch(reference, batch)
    expected = loaded.model.infer(text, lengths, alpha=alpha)
    actual = onnx_outputs(directory, text, lengths, alpha=alpha)
    assert actual["mel_lengths"].tolist() == expected.mel_lengths.tolist()
    assert max_diff(actual["mels"], expected.mels) < TOLERANCE
    assert max_diff(actual["durations"], expected.durations_pred) < TOLERANCE
    if batch == "b1":  # NVIDIA's batch-1 output (mel [1, T, 80])
        nvidia = reference["outputs"][f"forward_b1_alpha{alpha}"]["mel"]
        assert max_diff(actual["mels"], nvidia.transpose(1, 2)) < TOLERANCE


def test_fastpitch_graph_names_and_manifest(exports):
    directory, loaded = exports["fastpitch11_energy"]
    graph = onnx.load(str(directory / GRAPH_FILE))
    assert [i.name for i in graph.graph.input] == ["text", "text_lengths", *FASTPITCH_CONTROLS]
    assert [o.name for o in graph.graph.output] == ["mels", "mel_lengths", "durations", "pitch"]
    text_axis = graph.graph.input[0].type.tensor_type.shape.dim
    assert text_axis[0].dim_param and text_axis[1].dim_param  # dynamic batch and length
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    assert manifest["model_name"] == "fastpitch"
    assert manifest["model_config"]["energy_conditioning"] is True
    assert text_setup_of(directory) == loaded.text_setup


def test_a_custom_pitch_function_needs_pytorch(exports, load_parity):
    text, lengths = _batch(load_parity("fastpitch10"), "b1")
    custom = PitchTransformSpec(custom=lambda hz, lengths: hz)
    with pytest.raises(SpeechSynthError, match="custom pitch function runs with a PyTorch"):
        onnx_outputs(exports["fastpitch10"][0], text, lengths, pitch=custom)


def test_synthesize_runs_exports_with_their_controls(exports, parity_dir, tmp_path, capsys):
    fastpitch, fastspeech = exports["fastpitch11_energy"][0], exports["fastspeech"][0]
    waveglow = str(parity_dir / "waveglow.pt")
    runs = {
        "fp": ["--model", str(fastpitch), "--pace", "1.2", "--pitch-shift", "20"],
        "fp-waveglow": ["--model", str(fastpitch), "--vocoder", waveglow],  # mixed runtimes
        "fs": ["--model", str(fastspeech), "--alpha", "1.3"],
    }
    for name, options in runs.items():
        argv = ["synthesize", *options, "--text", "Printing, in the only sense.", "--json"]
        assert main([*argv, "--save-mels", "-o", str(tmp_path / name)]) == 0
        summary = json.loads(capsys.readouterr().out)
        frames = summary["utterances"][0]["frames"]
        assert frames > 0
        assert (tmp_path / name / "0001.wav").stat().st_size > 1000
        assert numpy.load(tmp_path / name / "0001.npy").shape == (80, frames)


def test_broken_exports_are_one_line_errors(exports, tmp_path):
    directory = exports["fastspeech"][0]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / MANIFEST_NAME).write_bytes((directory / MANIFEST_NAME).read_bytes())
    with pytest.raises(SpeechSynthError, match=r"model\.onnx: missing"):
        open_acoustic_model(broken)
    (broken / GRAPH_FILE).write_bytes(b"not onnx")
    with pytest.raises(SpeechSynthError, match=r"model\.onnx: not a readable ONNX model"):
        open_acoustic_model(broken)
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    (broken / MANIFEST_NAME).write_text(json.dumps({**manifest, "model_name": "hifigan"}))
    with pytest.raises(SpeechSynthError, match="synthesis with hifigan is not supported"):
        open_acoustic_model(broken)


def test_other_models_are_refused_before_anything_is_written(parity_dir, tmp_path):
    tacotron2 = load_model(parity_dir / "tacotron2.pt")
    with pytest.raises(SpeechSynthError, match="this export takes fastpitch, fastspeech"):
        export_parallel(tacotron2, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_cpu_provider_runs_and_a_missing_one_is_named(exports, load_parity, tmp_path, capsys):
    directory, loaded = exports["fastspeech"]
    text, lengths = _batch(load_parity("fastspeech"), "b1")
    on_cpu = open_acoustic_model(directory, RuntimeOptions(providers=("cpu",)))
    assert on_cpu.providers() == ["CPUExecutionProvider"]
    expected = loaded.model.infer(text, lengths)
    actual = on_cpu.generate(text.numpy(), lengths.numpy(), Controls())
    assert max_diff(actual.mels, expected.mels) < TOLERANCE
    argv = ["synthesize", "--model", str(directory), "--text", "Hi.", "-o", str(tmp_path)]
    assert main([*argv, "--providers", "tensorrt,cpu"]) == 2
    err = capsys.readouterr().err
    assert "this onnxruntime has no tensorrt provider" in err and len(err.splitlines()) == 1
