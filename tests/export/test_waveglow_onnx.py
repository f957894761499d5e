"""WaveGlow exported to ONNX and run by ONNX Runtime, against NVIDIA's `infer_onnx` output and
denoiser (the vocoder built on the export: tests/infer/test_onnx_waveglow.py)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnxruntime
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.export.exporters import export_model
from speechsynth.export.waveglow import export_waveglow
from speechsynth.models.export_manifest import MANIFEST_NAME
from speechsynth.models.registry import load_model


@pytest.fixture(scope="module")
def reference(parity_dir) -> dict:
    return torch.load(parity_dir / "waveglow.pt", weights_only=True)


def cpu_session(path):
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def exported(waveglow_onnx_dir):
    """The export of the command line, once per session (`tests/conftest.py`)."""
    return waveglow_onnx_dir, cpu_session(waveglow_onnx_dir / "waveglow.onnx")


def test_onnx_waveglow_matches_nvidias_infer_onnx(exported, reference):
    _, session = exported
    inputs = reference["inputs"]
    noise = torch.cat(list(inputs["noise_draws"]), dim=1)
    (audio,) = session.run(None, {"mel": inputs["mel"].numpy(), "z": noise.numpy()})
    expected = reference["outputs"]["audio_infer_onnx"].numpy()
    assert audio.shape == expected.shape
    assert np.abs(audio - expected).max() < 1e-4


def test_onnx_waveglow_takes_any_mel_length(exported, parity_dir):
    directory, session = exported
    waveglow = load_model(parity_dir / "waveglow.pt").model
    generator = torch.Generator().manual_seed(3)
    mel = torch.randn(2, 80, 23, generator=generator)
    noise = torch.randn(2, 8, 23 * 32, generator=generator)
    (audio,) = session.run(None, {"mel": mel.numpy(), "z": noise.numpy()})
    expected = waveglow.infer_onnx(mel, noise, sigma=0.6)
    assert audio.shape == (2, 23 * 256)
    assert np.abs(audio - expected.numpy()).max() < 1e-4
    manifest = json.loads((directory / MANIFEST_NAME).read_text())
    assert manifest["sigma"] == 0.6 and manifest["model_name"] == "waveglow"
    assert sorted(path.name for path in directory.iterdir()) == [
        "denoiser.onnx",
        MANIFEST_NAME,
        "waveglow.onnx",
    ]  # and no staging directory left behind


def test_onnx_denoiser_matches_nvidias(exported, reference):
    directory, _ = exported
    outputs = reference["outputs"]
    session = cpu_session(directory / "denoiser.onnx")
    feeds = {"audio": outputs["audio"].numpy(), "strength": numpy_strength(0.01)}
    (denoised,) = session.run(None, feeds)
    expected = outputs["audio_denoised_strength0.01"].numpy()
    assert np.abs(denoised - expected).max() < 1e-4
    short = outputs["audio"][:, :256].numpy()  # one frame: the graph pads, as the Denoiser does
    (denoised,) = session.run(None, {"audio": short, "strength": numpy_strength(0.01)})
    assert denoised.shape == short.shape


def numpy_strength(value: float) -> np.ndarray:
    return np.array([value], dtype=np.float32)


def test_models_without_an_export_are_refused(parity_dir, tmp_path):
    fastspeech = load_model(parity_dir / "fastspeech.pt")
    with pytest.raises(SpeechSynthError, match="not a WaveGlow checkpoint"):
        export_waveglow(fastspeech, tmp_path / "fs")
    unknown = dataclasses.replace(fastspeech, name="hifigan")
    with pytest.raises(SpeechSynthError, match="ONNX export of hifigan is not implemented"):
        export_model(unknown, tmp_path / "hifigan")
    assert not (tmp_path / "hifigan").exists()
