"""The runtime registry: which backend serves a model file, and the errors when none does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, Controls
from speechsynth.infer.onnx_runtime import OnnxFastSpeech
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model, open_vocoder
from speechsynth.infer.torch_backends import TorchFastPitch, TorchFastSpeech, TorchTacotron2
from speechsynth.infer.vocoder_interface import VocoderOptions
from speechsynth.models.export_manifest import MANIFEST_NAME


@pytest.fixture(scope="module")
def fastspeech_export(parallel_exports):
    return parallel_exports["fastspeech"][0]


@pytest.mark.parametrize(
    ("fixture", "backend"),
    [
        ("tacotron2.pt", TorchTacotron2),
        ("fastpitch11.pt", TorchFastPitch),
        ("fastspeech.pt", TorchFastSpeech),
    ],
)
def test_each_checkpoint_gets_its_models_backend(parity_dir, fixture, backend):
    model = open_acoustic_model(parity_dir / fixture, RuntimeOptions(precision="fp32"))
    assert type(model) is backend and isinstance(model, AcousticModel)
    assert model.describe() == {
        "model_name": backend.name,
        "runtime": "pytorch",
        "device": "cpu",
        "precision": "fp32",
    }


def test_an_export_gets_the_onnx_backend_and_both_runtimes_agree(parity_dir, fastspeech_export):
    onnx_model = open_acoustic_model(fastspeech_export)
    torch_model = open_acoustic_model(parity_dir / "fastspeech.pt")
    assert type(onnx_model) is OnnxFastSpeech and onnx_model.runtime == "onnx"
    ids = np.array([[12, 30, 41, 22, 17, 9], [40, 21, 33, 0, 0, 0]], dtype=np.int64)
    lengths = np.array([6, 3], dtype=np.int64)
    controls = Controls(alpha=1.2)
    onnx_out = onnx_model.generate(ids, lengths, controls)
    torch_out = torch_model.generate(ids, lengths, controls)
    assert onnx_out.mel_lengths.tolist() == torch_out.mel_lengths.tolist()
    assert np.abs(onnx_out.mels - torch_out.mels).max() < 1e-4
    assert not onnx_out.hit_max_decoder_steps.any()


def test_a_vocoder_as_the_voice_says_pass_it_with_vocoder(parity_dir):
    with pytest.raises(SpeechSynthError, match=r"waveglow model is a vocoder .* --vocoder"):
        open_acoustic_model(parity_dir / "waveglow.pt")


def test_a_text_model_as_the_vocoder_is_refused(parity_dir):
    with pytest.raises(SpeechSynthError, match="is a fastspeech model, not a vocoder"):
        open_vocoder(parity_dir / "fastspeech.pt", VocoderOptions())


def test_an_unknown_model_in_a_manifest_names_the_supported_ones(fastspeech_export, tmp_path):
    manifest = json.loads((fastspeech_export / MANIFEST_NAME).read_text())
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({**manifest, "model_name": "vits"}))
    with pytest.raises(
        SpeechSynthError, match=r"synthesis with vits is not supported .* \(text models: tacotron2"
    ):
        open_acoustic_model(tmp_path)


def test_options_of_the_other_runtime_are_refused(parity_dir, fastspeech_export):
    with pytest.raises(SpeechSynthError, match="--providers and --engine-cache choose how an"):
        open_acoustic_model(parity_dir / "fastspeech.pt", RuntimeOptions(providers=("cpu",)))
    with pytest.raises(SpeechSynthError, match="drop --precision / --device"):
        open_acoustic_model(fastspeech_export, RuntimeOptions(precision="bf16"))


def test_a_directory_without_a_manifest_asks_whether_it_is_an_export(tmp_path):
    with pytest.raises(SpeechSynthError, match="is it a directory written by `speechsynth export`"):
        open_acoustic_model(tmp_path)


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        (Controls(pace=1.1), r"fastspeech model has no pace control \(its controls: alpha\)"),
        (Controls(max_decoder_steps=5), "no max_decoder_steps control"),
    ],
)
def test_controls_a_model_lacks_are_one_line_errors(fastspeech_export, controls, message):
    model = open_acoustic_model(fastspeech_export)
    with pytest.raises(SpeechSynthError, match=message):
        model.generate(np.array([[12, 30]]), np.array([2]), controls)


def test_control_values_are_checked():
    with pytest.raises(SpeechSynthError, match="pace must be greater than 0"):
        Controls(pace=0)
    with pytest.raises(SpeechSynthError, match="gate_threshold must be between 0 and 1"):
        Controls(gate_threshold=1.5)
