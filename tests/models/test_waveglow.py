"""WaveGlow against NVIDIA's reference outputs (../shared/parity/waveglow.pt: 32 WN channels,
fp16 weights with the weight norm in place, outputs computed in float32)."""

from __future__ import annotations

import pytest
import torch

from speechsynth.audio.stft import STFT
from speechsynth.errors import SpeechSynthError
from speechsynth.models import waveglow
from speechsynth.models.checkpoint import load_state_dict_strict, write_checkpoint
from speechsynth.models.denoiser import STFT_SETTINGS, waveglow_denoiser
from speechsynth.models.registry import load_model
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("waveglow")


def make_model(reference: dict) -> WaveGlow:
    """The reference weights with the weight norm still in place (the training form)."""
    model = WaveGlow(WaveGlowConfig.from_dict(reference["config"])).eval()
    load_state_dict_strict(model, reference["state_dict"], "waveglow.pt")
    return model


@pytest.fixture(scope="module")
def folded(reference) -> WaveGlow:
    """What NVIDIA's inference runs: `remove_weightnorm` applied."""
    return make_model(reference).remove_weightnorm()


def max_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    assert actual.shape == expected.shape
    return (actual - expected).abs().max().item()


def max_relative_diff(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """|diff| relative to max(1, |expected|): absolute for small values, relative for large
    ones. log_det_W = B * T * logdet(W) grows with the number of groups T (1024 here), and the
    denoiser's bias magnitude reaches 19, so float32 rounding scales with the value there."""
    assert actual.shape == expected.shape
    return ((actual - expected).abs() / expected.abs().clamp(min=1.0)).max().item()


# ----------------------------------------------------------------------------- config, weights


def test_state_dict_has_nvidias_keys_shapes_and_order(reference):
    model = WaveGlow(WaveGlowConfig.from_dict(reference["config"]))
    ours = [(key, tuple(value.shape)) for key, value in model.state_dict().items()]
    theirs = [(key, tuple(value.shape)) for key, value in reference["state_dict"].items()]
    assert ours == theirs


def test_remove_weightnorm_gives_plain_weights(reference):
    model = make_model(reference).remove_weightnorm()
    keys = model.state_dict().keys()
    assert "WN.0.start.weight" in keys and not any(key.endswith("weight_g") for key in keys)
    g = reference["state_dict"]["WN.3.in_layers.2.weight_g"].float()
    v = reference["state_dict"]["WN.3.in_layers.2.weight_v"].float()
    expected = g * v / v.norm(dim=(1, 2), keepdim=True)
    assert max_diff(model.WN[3].in_layers[2].weight, expected) < 1e-7


def test_config_round_trip_and_unknown_keys():
    config = WaveGlowConfig.from_dict({"WN_config": {"n_channels": 256}})
    assert config.to_dict()["WN_config"] == {"n_layers": 8, "kernel_size": 3, "n_channels": 256}
    assert WaveGlowConfig.from_dict(config.to_dict()) == config
    assert config.flow_channels == [8] * 4 + [6] * 4 + [4] * 4
    with pytest.raises(SpeechSynthError, match=r"unknown WaveGlow config key.*n_flow"):
        WaveGlowConfig.from_dict({"n_flow": 12})
    with pytest.raises(SpeechSynthError, match=r"WN_config key.*channels"):
        WaveGlowConfig.from_dict({"WN_config": {"channels": 256}})


# ----------------------------------------------------------------------------- parity


def test_infer_with_recorded_noise(reference, folded):
    inputs = reference["inputs"]
    audio = folded.infer(inputs["mel"], sigma=inputs["sigma"], noise=inputs["noise_draws"])
    assert max_diff(audio, reference["outputs"]["audio"]) < TOLERANCE


def test_infer_in_time_tiles(reference, folded, monkeypatch):
    """The inference products run over tiles of time steps; uneven tiles change nothing."""
    monkeypatch.setattr(waveglow, "TILE_GROUPS", {torch.float32: 300})
    inputs = reference["inputs"]
    audio = folded.infer(inputs["mel"], sigma=inputs["sigma"], noise=inputs["noise_draws"])
    assert max_diff(audio, reference["outputs"]["audio"]) < TOLERANCE


def test_infer_sigma_zero(reference, folded):
    audio = folded.infer(reference["inputs"]["mel"], sigma=0.0)
    assert max_diff(audio, reference["outputs"]["audio_sigma0"]) < TOLERANCE


def test_infer_onnx_scales_only_the_first_channels(reference, folded):
    inputs = reference["inputs"]
    audio = folded.infer_onnx(inputs["mel"], inputs["z_onnx"], sigma=0.6)
    assert max_diff(audio, reference["outputs"]["audio_infer_onnx"]) < TOLERANCE


def test_training_direction_with_weight_norm(reference):
    model = make_model(reference)
    inputs, outputs = reference["inputs"], reference["outputs"]
    with torch.no_grad():
        z, log_s_list, log_det_w_list = model(inputs["mel"], inputs["train_audio"])
    assert max_diff(z, outputs["forward_z"]) < TOLERANCE
    assert len(log_s_list) == len(outputs["forward_log_s"]) == 12
    for log_s, expected in zip(log_s_list, outputs["forward_log_s"], strict=True):
        assert max_diff(log_s, expected) < TOLERANCE
    log_det_w = torch.stack(log_det_w_list)
    assert max_relative_diff(log_det_w, outputs["forward_log_det_W"]) < TOLERANCE


def test_denoiser_bias_and_output(reference, folded):
    denoiser = waveglow_denoiser(folded, STFT(*STFT_SETTINGS))
    outputs = reference["outputs"]
    assert max_relative_diff(denoiser.bias_spec, outputs["denoiser_bias_spec"]) < TOLERANCE
    denoised = denoiser(outputs["audio"], strength=0.01)
    assert max_diff(denoised, outputs["audio_denoised_strength0.01"]) < TOLERANCE


# ----------------------------------------------------------------------------- properties


def test_forward_then_reverse_returns_the_audio(reference):
    model = make_model(reference)
    inputs = reference["inputs"]
    with torch.no_grad():
        z, _, _ = model(inputs["mel"], inputs["train_audio"])
    audio = model.reverse(inputs["mel"], z)
    assert max_diff(audio, inputs["train_audio"]) < 1e-5  # float32 through 12 flows


def test_weight_norm_form_infers_like_the_folded_one(reference, folded):
    mel = reference["inputs"]["mel"]
    expected = folded.infer(mel, sigma=0.0)
    assert max_diff(make_model(reference).infer(mel, sigma=0.0), expected) < 1e-6


def test_bf16_products_stay_close(reference, folded):
    inputs = reference["inputs"]
    expected = folded.infer(inputs["mel"], sigma=0.6, noise=inputs["noise_draws"])
    audio = folded.infer(
        inputs["mel"], sigma=0.6, noise=inputs["noise_draws"], compute_dtype=torch.bfloat16
    )
    assert audio.dtype == torch.float32
    relative_rms = (audio - expected).pow(2).mean().sqrt() / expected.pow(2).mean().sqrt()
    assert relative_rms < 0.01


def test_a_batch_is_vocoded_like_its_items(reference, folded):
    mel = reference["inputs"]["mel"]
    batch = torch.cat([mel, mel.flip(2)])
    together = folded.infer(batch, sigma=0.0)
    alone = torch.cat([folded.infer(batch[i : i + 1], sigma=0.0) for i in range(2)])
    assert max_diff(together, alone) < 1e-5


def test_noise_hook_and_generator(reference, folded):
    mel = reference["inputs"]["mel"]
    shapes = []

    def zeros(shape):
        shapes.append(shape)
        return torch.zeros(shape)

    assert max_diff(folded.infer(mel, noise=zeros), folded.infer(mel, sigma=0.0)) == 0
    assert shapes == [(1, 4, 1024), (1, 2, 1024), (1, 2, 1024)]
    first = folded.infer(mel, generator=torch.Generator().manual_seed(3))
    again = folded.infer(mel, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, again)
    with pytest.raises(ValueError, match="ran out"):
        folded.infer(mel, noise=reference["inputs"]["noise_draws"][:2])


def test_cached_inverses_follow_weight_changes(reference):
    model = make_model(reference)
    mel = reference["inputs"]["mel"]
    before = model.infer(mel, sigma=0.0)
    changed = {key: value * 1.01 for key, value in reference["state_dict"].items()}
    model.load_state_dict(changed)
    fresh = WaveGlow(WaveGlowConfig.from_dict(reference["config"])).eval()
    fresh.load_state_dict(changed)
    after = model.infer(mel, sigma=0.0)
    assert max_diff(after, before) > 1e-3
    assert max_diff(after, fresh.infer(mel, sigma=0.0)) == 0


# ----------------------------------------------------------------------------- checkpoints


def test_nvidia_checkpoint_with_ddp_prefixes_loads(reference, tmp_path):
    path = tmp_path / "checkpoint_WaveGlow_10.pt"
    state_dict = {f"module.{key}": value for key, value in reference["state_dict"].items()}
    torch.save({"epoch": 10, "config": reference["config"], "state_dict": state_dict}, path)
    loaded = load_model(path)
    assert (loaded.name, loaded.origin) == ("waveglow", "nvidia")
    assert loaded.config.n_channels == 32
    inputs = reference["inputs"]
    audio = loaded.model.infer(inputs["mel"], sigma=0.6, noise=inputs["noise_draws"])
    assert max_diff(audio, reference["outputs"]["audio"]) < TOLERANCE


def test_own_checkpoint_loads(reference, tmp_path):
    model = make_model(reference)
    path = tmp_path / "ours.pt"
    payload = {"model_config": model.config.to_dict(), "state_dict": model.state_dict()}
    write_checkpoint(path, {"model_name": "waveglow", **payload})
    loaded = load_model(path, expected_name="waveglow")
    assert (loaded.name, loaded.origin) == ("waveglow", "speechsynth")
    assert isinstance(loaded.model, WaveGlow) and not loaded.model.training


def test_checkpoint_saved_after_remove_weightnorm_loads(reference, folded, tmp_path):
    path = tmp_path / "waveglow_folded.pt"
    state_dict = folded.state_dict()
    assert "WN.0.start.weight" in state_dict and "WN.0.start.weight_g" not in state_dict
    torch.save({"config": reference["config"], "state_dict": state_dict}, path)
    loaded = load_model(path)
    assert loaded.name == "waveglow"
    inputs = reference["inputs"]
    audio = loaded.model.infer(inputs["mel"], sigma=inputs["sigma"], noise=inputs["noise_draws"])
    assert max_diff(audio, reference["outputs"]["audio"]) < TOLERANCE
