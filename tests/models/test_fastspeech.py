"""FastSpeech against NVIDIA's reference outputs (../shared/parity/fastspeech.pt)."""

from __future__ import annotations

import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.models.checkpoint import load_state_dict_strict, write_checkpoint
from speechsynth.models.fastspeech import FastSpeech, FastSpeechConfig, nvidia_name
from speechsynth.models.registry import detect_spec, load_model

TOLERANCE = 1e-4
FORWARD_KEYS = tuple(f"forward_{b}_alpha{a}" for b in ("b1", "b2") for a in ("1.0", "1.3"))


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("fastspeech")


@pytest.fixture(scope="module")
def model(reference) -> FastSpeech:
    config = FastSpeechConfig.from_nvidia(reference["config"], reference["state_dict"])
    loaded = FastSpeech(config).eval()
    load_state_dict_strict(loaded, reference["state_dict"], "fastspeech.pt")
    return loaded


def text_inputs(reference: dict, batch: bool) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = reference["inputs"]
    text = inputs["batch_text_ids" if batch else "text_ids"]
    positions = inputs["batch_text_pos" if batch else "text_pos"]  # NVIDIA's 1..L, 0 = pad
    return text, (positions != 0).sum(dim=1)


def assert_close(actual: torch.Tensor, expected: torch.Tensor, label: str) -> None:
    assert actual.shape == expected.shape, label
    assert (actual.float() - expected.float()).abs().max().item() < TOLERANCE, label


@pytest.mark.parametrize("key", FORWARD_KEYS)
def test_forward_matches_nvidia(reference, model, key):
    expected = reference["outputs"][key]
    text, lengths = text_inputs(reference, "_b2_" in key)
    with torch.no_grad():
        output = model(text, lengths, alpha=float(key.split("alpha")[1]))
    assert_close(output.mel, expected["mel"], "mel")
    assert torch.equal(output.mel_mask, expected["mel_mask"])
    assert_close(output.durations, expected["duration"], "duration")
    assert output.mel_lengths.tolist() == expected["mel_mask"].sum(dim=(1, 2)).tolist()


def test_teacher_forced_matches_nvidia(reference, model):
    expected = reference["outputs"]["teacher_forced_b1"]
    text, lengths = text_inputs(reference, False)
    with torch.no_grad():
        output = model(text, lengths, durations=expected["dur_tgt"])
    assert_close(output.mel, expected["mel"], "mel")
    assert_close(output.log_dur_pred, expected["log_dur_pred"], "log_dur_pred")
    assert torch.equal(output.mel_mask, expected["mel_mask"])
    positions = torch.arange(1, output.mel.size(1) + 1).unsqueeze(0) * output.mel_mask[..., 0]
    assert torch.equal(positions, expected["mel_pos"])


def test_infer_transposes_and_is_padding_invariant(reference, model):
    text, lengths = text_inputs(reference, True)
    batch = model.infer(text, lengths)
    alone = model.infer(text[1:, : lengths[1]])  # lengths from the non-zero ids
    frames = int(alone.mel_lengths[0])
    assert batch.mels.shape[1] == 80 and int(batch.mel_lengths[1]) == frames
    assert torch.allclose(batch.mels[1, :, :frames], alone.mels[0], atol=1e-5)
    slower = model.infer(text[:1], lengths[:1], alpha=2.0)
    rounded = torch.round(batch.durations_pred[0] * 2.0).sum()
    assert int(slower.mel_lengths[0]) == int(rounded)


def test_state_dict_uses_nvidias_names_in_order_and_shapes(reference, parity_dir):
    model = FastSpeech(FastSpeechConfig.from_nvidia(reference["config"]))
    expected = {}
    for line in (parity_dir / "keys_fastspeech.txt").read_text().splitlines():
        name, shape, _ = line.split("\t")
        expected[name] = tuple(int(size) for size in shape.strip("[]").split(","))
    ours = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert list(ours) == list(expected)
    assert ours == expected
    assert nvidia_name("duration_predictor.layers.1.norm.bias") == (
        "length_regulator.duration_predictor.layer_norm_2.bias"
    )
    # the position tables are the same buffers NVIDIA saves
    table = model.state_dict()["mel_side.position.weight"]
    assert torch.allclose(table, reference["state_dict"]["mel_side.position.weight"], atol=1e-7)


def test_config_defaults_and_sizes_from_weights(reference):
    config = FastSpeechConfig()
    assert (config.d_model, config.phoneme_side_head, config.mel_side_n_layer) == (384, 2, 6)
    assert (config.phoneme_side_conv1d_filter_size, config.max_seq_len, config.n_symbols) == (
        1536,
        2048,
        149,
    )
    inferred = FastSpeechConfig.from_nvidia(None, reference["state_dict"])
    assert inferred.nvidia_kwargs() == reference["config"]
    with pytest.raises(SpeechSynthError, match="unknown"):
        FastSpeechConfig.from_dict({"heads": 2})
    with pytest.raises(SpeechSynthError, match="padding"):
        FastSpeechConfig(fft_conv1d_kernel=5)


def test_load_model_reads_an_nvidia_checkpoint_without_config(reference, tmp_path):
    path = tmp_path / "checkpoint_200000.pt"
    state_dict = {f"module.{key}": value for key, value in reference["state_dict"].items()}
    torch.save({"step": 200000, "model": state_dict, "optim": {}}, path)
    assert detect_spec(reference["state_dict"]).name == "fastspeech"
    loaded = load_model(path)
    assert (loaded.name, loaded.origin) == ("fastspeech", "nvidia")
    assert loaded.config.d_model == 64
    text, lengths = text_inputs(reference, False)
    with torch.no_grad():
        mel = loaded.model(text, lengths).mel
    assert_close(mel, reference["outputs"]["forward_b1_alpha1.0"]["mel"], "loaded mel")


def test_own_checkpoint_round_trip(reference, model, tmp_path):
    path = tmp_path / "own.pt"
    write_checkpoint(
        path,
        {
            "model_name": "fastspeech",
            "model_config": model.config.to_dict(),
            "state_dict": model.state_dict(),
        },
    )
    loaded = load_model(path, "fastspeech")
    assert loaded.origin == "speechsynth"
    for (key, ours), theirs in zip(
        loaded.model.state_dict().items(), reference["state_dict"].values(), strict=True
    ):
        assert torch.equal(ours, theirs), key


def test_training_step_reaches_every_parameter():
    torch.manual_seed(0)
    config = FastSpeechConfig(
        d_model=16,
        phoneme_side_n_layer=1,
        mel_side_n_layer=1,
        phoneme_side_conv1d_filter_size=32,
        mel_side_conv1d_filter_size=32,
        phoneme_side_output_size=16,
        mel_side_output_size=16,
        duration_predictor_filter_size=16,
        max_seq_len=64,
    )
    model = FastSpeech(config).train()
    text = torch.randint(1, 149, (2, 6))
    text[1, 4:] = 0
    durations = torch.tensor([[2, 1, 3, 1, 2, 1], [1, 2, 2, 1, 0, 0]])
    output = model(text, durations=durations)
    assert output.mel_lengths.tolist() == [10, 6]
    (output.mel.pow(2).mean() + output.log_dur_pred.pow(2).mean()).backward()
    assert all(p.grad is not None for p in model.parameters())
