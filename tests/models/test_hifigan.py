"""HiFi-GAN's generator against NVIDIA's reference outputs (../shared/parity/hifigan.pt: NVIDIA's
V1 recipe at a quarter of the width, weight norm in place, outputs computed in float32)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from speechsynth.errors import SpeechSynthError
from speechsynth.models.checkpoint import load_state_dict_strict, write_checkpoint
from speechsynth.models.denoiser import Denoiser
from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator
from speechsynth.models.registry import detect_spec, load_model

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("hifigan")


def make_model(reference: dict) -> HiFiGanGenerator:
    """The reference weights with the weight norm in place (the checkpoint form)."""
    model = HiFiGanGenerator(HiFiGanConfig.from_dict(reference["config"]["conf"])).eval()
    load_state_dict_strict(model, reference["state_dict"], "hifigan.pt")
    return model


@pytest.fixture(scope="module")
def folded(reference) -> HiFiGanGenerator:
    """What NVIDIA's inference runs: `remove_weight_norm` applied."""
    return make_model(reference).remove_weight_norm()


def max_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    assert actual.shape == expected.shape
    return (actual - expected).abs().max().item()


# ----------------------------------------------------------------------------- config, weights


def test_state_dict_has_nvidias_keys_shapes_and_order(reference):
    model = HiFiGanGenerator(HiFiGanConfig.from_dict(reference["config"]["conf"]))
    ours = [(key, tuple(value.shape)) for key, value in model.state_dict().items()]
    theirs = [(key, tuple(value.shape)) for key, value in reference["state_dict"].items()]
    assert ours == theirs


def test_defaults_are_nvidias_v1_recipe(reference):
    config = HiFiGanConfig()
    assert {**config.to_dict(), "n_mel_channels": None} == {
        **reference["default_config"]["conf"],
        "n_mel_channels": None,
    }
    model = HiFiGanGenerator(config)
    assert sum(value.numel() for value in model.state_dict().values()) == 13_936_130
    assert config.hop_length == 256


@pytest.mark.parametrize("preset", ["v1", "v2", "v3"])
def test_presets_upsample_by_the_hop(preset):
    config = HiFiGanConfig.preset(preset)
    assert config.hop_length == 256
    if preset == "v1":
        assert config == HiFiGanConfig()
        return
    model = HiFiGanGenerator(config).remove_weight_norm().eval()
    audio = model.infer(torch.full((1, 80, 3), -5.0))
    assert audio.shape == (1, 3 * 256) and audio.abs().max() <= 1.0


def test_config_errors_are_one_line():
    with pytest.raises(SpeechSynthError, match=r"unknown HiFi-GAN config key.*resblocks"):
        HiFiGanConfig.from_dict({"resblocks": "1"})
    with pytest.raises(SpeechSynthError, match="resblock must be '1' or '2'"):
        HiFiGanConfig(resblock="3")
    with pytest.raises(SpeechSynthError, match="unknown HiFi-GAN preset 'v4'"):
        HiFiGanConfig.preset("v4")
    assert HiFiGanConfig.from_dict(HiFiGanConfig.preset("v3").to_dict()).resblock == "2"


def test_remove_weight_norm_gives_nvidias_folded_weights(reference, folded):
    keys = folded.state_dict().keys()
    assert "ups.0.weight" in keys and not any(key.endswith("weight_g") for key in keys)
    for name, expected in reference["outputs"]["removed_weight_norm_weights"].items():
        assert max_diff(folded.state_dict()[name], expected) < 1e-7, name


# ----------------------------------------------------------------------------- outputs


def test_audio_with_the_weight_norm_in_place(reference):
    model = make_model(reference)
    outputs = reference["outputs"]
    with torch.no_grad():
        assert max_diff(model(reference["inputs"]["mel"]), outputs["audio_weightnorm"]) < TOLERANCE
        batch = model(reference["inputs"]["batch_mel"])
    assert max_diff(batch, outputs["batch_audio_weightnorm"]) < TOLERANCE


def test_audio_after_remove_weight_norm(reference, folded):
    outputs = reference["outputs"]
    assert max_diff(folded.infer(reference["inputs"]["mel"]), outputs["audio"][:, 0]) < TOLERANCE
    batch = folded.infer(reference["inputs"]["batch_mel"])
    assert max_diff(batch, outputs["batch_audio"][:, 0]) < TOLERANCE


def test_intermediates(reference, folded):
    expected = reference["outputs"]["intermediates_b1"]
    mel = reference["inputs"]["mel"]
    with torch.no_grad():
        x = folded.conv_pre(mel)
        assert max_diff(x, expected["conv_pre"]) < TOLERANCE
        ups0 = folded.ups[0](F.leaky_relu(x, 0.1))
        assert max_diff(ups0, expected["ups0"]) < TOLERANCE
        for index in range(4):
            x = folded.stage(index, x)
            assert max_diff(x, expected[f"stage{index}"]) < TOLERANCE, index
        pre_tanh = folded.pre_tanh(mel)
    assert max_diff(pre_tanh, expected["conv_post_pre_tanh"]) < TOLERANCE


def test_denoiser(reference, folded):
    """NVIDIA's HiFi-GAN denoiser is WaveGlow's with the generator rendering the silent mel."""
    from speechsynth.infer.vocoders import HiFiGanVocoder

    outputs = reference["outputs"]
    denoiser = HiFiGanVocoder(folded, denoiser_strength=0.005).denoiser
    assert isinstance(denoiser, Denoiser)
    bias, expected_bias = denoiser.bias_spec, outputs["denoiser_bias_spec"]
    # the bias magnitude reaches 94: float32 rounding scales with it
    assert ((bias - expected_bias).abs() / expected_bias.abs().clamp(min=1.0)).max() < TOLERANCE
    for key in ("audio", "batch_audio"):
        denoised = denoiser(outputs[key][:, 0], 0.005)
        assert max_diff(denoised, outputs[f"{key}_denoised_strength0.005"][:, 0]) < TOLERANCE


# ----------------------------------------------------------------------------- checkpoints


def nvidia_generator_checkpoint(reference: dict, state_dict: dict) -> dict:
    """`hifigan_gen_checkpoint_{epoch}.pt` as NVIDIA's train.py writes it."""
    return {
        "generator": state_dict,
        "gen_ema": None,
        "config": reference["config"]["conf"],
        "train_setup": reference["train_setup_default"],
        "train_state": {"epoch": 10, "iters_all": 100},
    }


def jik876_flat(state_dict: dict) -> dict:
    """jik876's original layout: the 12 residual blocks numbered flat."""
    renamed = {}
    for key, value in state_dict.items():
        parts = key.split(".")
        if parts[0] == "resblocks":
            parts[1:3] = [str(int(parts[1]) * 3 + int(parts[2]))]
        renamed[".".join(parts)] = value
    return renamed


def _assert_loads_the_reference(path, reference, origin="nvidia"):
    loaded = load_model(path)
    assert (loaded.name, loaded.origin) == ("hifigan", origin)
    assert loaded.config == HiFiGanConfig.from_dict(reference["config"]["conf"])
    audio = loaded.model.infer(reference["inputs"]["mel"])
    assert max_diff(audio, reference["outputs"]["audio"][:, 0]) < TOLERANCE


def test_nvidia_generator_checkpoint_loads(reference, tmp_path):
    state_dict = {f"module.{key}": value for key, value in reference["state_dict"].items()}
    content = nvidia_generator_checkpoint(reference, state_dict)
    # NVIDIA's inference reads `generator`, never `gen_ema`
    content["gen_ema"] = {key: torch.zeros_like(value) for key, value in state_dict.items()}
    torch.save(content, tmp_path / "hifigan_gen_checkpoint_10.pt")
    _assert_loads_the_reference(tmp_path / "hifigan_gen_checkpoint_10.pt", reference)


def test_jik876_checkpoint_loads_with_sizes_from_the_shapes(reference, tmp_path):
    assert detect_spec(jik876_flat(reference["state_dict"])).name == "hifigan"
    torch.save({"generator": jik876_flat(reference["state_dict"])}, tmp_path / "g_02500000")
    _assert_loads_the_reference(tmp_path / "g_02500000", reference)


def test_checkpoint_saved_after_remove_weight_norm_loads(reference, folded, tmp_path):
    content = nvidia_generator_checkpoint(reference, folded.state_dict())
    torch.save(content, tmp_path / "folded.pt")
    _assert_loads_the_reference(tmp_path / "folded.pt", reference)


def test_own_checkpoint_round_trip(reference, tmp_path):
    model = make_model(reference)
    payload = {"model_name": "hifigan", "model_config": model.config.to_dict()}
    write_checkpoint(tmp_path / "ours.pt", {**payload, "state_dict": model.state_dict()})
    _assert_loads_the_reference(tmp_path / "ours.pt", reference, origin="speechsynth")


def test_weights_of_another_size_are_a_one_line_error(reference, tmp_path):
    content = nvidia_generator_checkpoint(reference, reference["state_dict"])
    content["config"] = reference["default_config"]["conf"]
    torch.save(content, tmp_path / "mismatch.pt")
    with pytest.raises(SpeechSynthError, match=r"mismatch\.pt does not fit HiFiGanGenerator"):
        load_model(tmp_path / "mismatch.pt")
