"""Tacotron 2 exported to ONNX and run by ONNX Runtime, against NVIDIA's reference outputs."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.export.tacotron2 import DECODER_INPUTS, DECODER_OUTPUTS, export_tacotron2
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.onnx_runtime import OnnxExport
from speechsynth.infer.onnx_tacotron2 import OnnxTacotron2
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model, text_setup_of
from speechsynth.models.export_manifest import MANIFEST_NAME, is_export_dir
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import load_model

TOLERANCE = 1e-4
PARITY_OUTPUTS = ("mel_outputs", "mel_outputs_postnet", "gate_outputs", "alignments")


@pytest.fixture(scope="module")
def reference(parity_dir) -> dict:
    return torch.load(parity_dir / "tacotron2.pt", weights_only=True)


@pytest.fixture(scope="module")
def loaded(parity_dir):
    return load_model(parity_dir / "tacotron2.pt")


@pytest.fixture(scope="module")
def deterministic_export(loaded, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("t2-onnx")
    export_tacotron2(loaded, directory, prenet_dropout=False)
    return directory


def max_diff(actual, expected: torch.Tensor) -> float:
    actual = torch.as_tensor(actual)
    assert actual.shape == expected.shape
    return (actual - expected).abs().max().item()


def onnx_tacotron2(directory: Path) -> OnnxTacotron2:
    return OnnxTacotron2(OnnxExport(directory, RuntimeOptions()))


def test_export_has_nvidias_parts_names_and_dynamic_text_axis(deterministic_export):
    assert is_export_dir(deterministic_export)
    decoder = onnx.load(str(deterministic_export / "decoder_iter.onnx"))
    assert [i.name for i in decoder.graph.input] == list(DECODER_INPUTS)
    assert [o.name for o in decoder.graph.output] == list(DECODER_OUTPUTS)
    memory = next(i for i in decoder.graph.input if i.name == "memory")
    assert memory.type.tensor_type.shape.dim[1].dim_param  # a named, dynamic text length
    encoder = onnx.load(str(deterministic_export / "encoder.onnx"))
    assert [o.name for o in encoder.graph.output] == ["memory", "processed_memory", "lens"]
    manifest = json.loads((deterministic_export / MANIFEST_NAME).read_text())
    assert manifest["model_name"] == "tacotron2" and manifest["prenet_dropout"] is False
    assert manifest["text_cleaners"] == ["english_cleaners"]
    assert manifest["text_rules"] == "speechsynth"
    # The export reads text as its checkpoint did, with nothing else (`text --model DIR`).
    assert text_setup_of(deterministic_export) == (("english_cleaners",), 0.0, "speechsynth")


def test_onnx_runtime_inference_matches_nvidia(deterministic_export, reference):
    """NVIDIA's no-dropout `infer` for exactly 150 steps, through the three ONNX parts."""
    model = onnx_tacotron2(deterministic_export)
    inputs, expected = reference["inputs"], reference["outputs"]["nodropout"]
    controls = Controls(max_decoder_steps=reference["n_decoder_steps"])
    [result] = model.decode_utterances(
        inputs["text_ids"].numpy(), inputs["input_lengths"].numpy(), controls, stop_at_gate=False
    )
    names = {"mel_outputs_postnet": "mel"}
    for name in PARITY_OUTPUTS:
        assert max_diff(result[names.get(name, name)][None], expected[name]) < TOLERANCE, name
    assert result["mel_length"] == int(expected["mel_lengths"][0])
    assert not result["stopped"]


def test_onnx_batch_gives_each_utterance_its_own_result_and_stops_at_the_gate(
    deterministic_export, loaded
):
    """Rows of different lengths; a gate threshold the random gate crosses mid-way, so both
    runtimes must stop at the same frame and zero what follows it."""
    onnx_model, torch_model = onnx_tacotron2(deterministic_export), loaded.model
    lengths = (31, 17)
    texts = [
        torch.randint(12, 64, (length,), generator=torch.Generator().manual_seed(length))
        for length in lengths
    ]
    with torch.no_grad(), config_overridden(torch_model, prenet_dropout_at_inference=False):
        probe = torch_model.infer(texts[0][None], torch.tensor([31]), max_decoder_steps=60)
    threshold = float(torch.sigmoid(probe.gate_outputs[0, 20:40]).max()) - 1e-4
    padded = torch.zeros(2, 31, dtype=torch.long)
    padded[0], padded[1, :17] = texts[0], texts[1]
    controls = Controls(max_decoder_steps=60, gate_threshold=threshold)
    batch = onnx_model.generate(padded.numpy(), torch.tensor(lengths).numpy(), controls)
    for row, text in enumerate(texts):
        with (
            torch.no_grad(),
            config_overridden(
                torch_model, prenet_dropout_at_inference=False, gate_threshold=threshold
            ),
        ):
            alone = torch_model.infer(text[None], torch.tensor([len(text)]), max_decoder_steps=60)
        frames = alone.mel_outputs_postnet.size(2)
        assert int(batch.mel_lengths[row]) == int(alone.mel_lengths[0])
        own_frames = batch.mels[row, :, :frames]
        assert max_diff(own_frames, alone.mel_outputs_postnet[0]) < TOLERANCE
        assert not batch.mels[row, :, frames:].any()
    assert int(batch.mel_lengths[0]) < 40 and not bool(batch.hit_max_decoder_steps[0])


def test_exported_prenet_dropout_stays_on_at_inference(loaded, tmp_path):
    export_tacotron2(loaded, tmp_path, prenet_dropout=True)
    model = onnx_tacotron2(tmp_path)
    text, lengths = torch.randint(12, 64, (1, 20)).numpy(), torch.tensor([20]).numpy()
    controls = Controls(max_decoder_steps=10)
    first = model.decode_utterances(text, lengths, controls, stop_at_gate=False)[0]
    second = model.decode_utterances(text, lengths, controls, stop_at_gate=False)[0]
    # fresh masks every run, as NVIDIA's export
    assert abs(first["mel_outputs"] - second["mel_outputs"]).max() > 1e-3


def test_a_broken_export_is_a_one_line_error(deterministic_export, tmp_path):
    with pytest.raises(SpeechSynthError, match="is it a directory written by"):
        open_acoustic_model(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("encoder.onnx", "decoder_iter.onnx", MANIFEST_NAME):
        (broken / name).write_bytes((deterministic_export / name).read_bytes())
    with pytest.raises(SpeechSynthError, match=r"postnet\.onnx: missing"):
        open_acoustic_model(broken)
    (broken / "postnet.onnx").write_bytes(b"not onnx")
    with pytest.raises(SpeechSynthError, match=r"postnet\.onnx: not a readable ONNX model"):
        open_acoustic_model(broken)


def test_only_tacotron2_exports(parity_dir, tmp_path):
    fastspeech = load_model(parity_dir / "fastspeech.pt")
    with pytest.raises(SpeechSynthError, match="this export takes Tacotron 2"):
        export_tacotron2(fastspeech, tmp_path)
    assert not any(tmp_path.iterdir())
