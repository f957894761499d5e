"""FastPitch 1.0 / 1.1 against NVIDIA's reference outputs (../shared/parity/fastpitch*.pt)."""

from __future__ import annotations

import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.pitch_transforms import PitchTransformSpec, build_pitch_transform
from speechsynth.models.aligner import beta_binomial_prior
from speechsynth.models.checkpoint import load_state_dict_strict
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig
from speechsynth.models.registry import detect_spec, load_model

TOLERANCE = 1e-4
FIXTURES = ("fastpitch10", "fastpitch11", "fastpitch11_energy")
INFER_KEYS = (
    *(f"infer_{batch}_pace{pace}" for batch in ("b1", "b2") for pace in ("1.0", "0.8", "1.25")),
    *(f"infer_b1_pitch_{name}" for name in ("flatten", "invert", "amplify2.0", "shift+50Hz")),
    "infer_b1_teacher_forced",
)
TRANSFORMS = {
    "flatten": PitchTransformSpec(flatten=True),
    "invert": PitchTransformSpec(invert=True),
    "amplify2.0": PitchTransformSpec(amplify=2.0),
    "shift+50Hz": PitchTransformSpec(shift_hz=50.0),
}
INFER_FIELDS = {  # NVIDIA's output name -> ours
    "mel_out": "mels",
    "dec_lens": "mel_lengths",
    "dur_pred": "durations_pred",
    "pitch_pred": "pitch_pred",
    "energy_pred": "energy_pred",
}


@pytest.fixture(scope="module")
def references(load_parity) -> dict[str, dict]:
    return {name: load_parity(name) for name in FIXTURES}


@pytest.fixture(scope="module")
def models(references) -> dict[str, FastPitch]:
    return {name: make_model(reference) for name, reference in references.items()}


def make_model(reference: dict) -> FastPitch:
    config = FastPitchConfig.from_nvidia(reference["config"], reference["state_dict"])
    model = FastPitch(config).eval()
    load_state_dict_strict(model, reference["state_dict"], "fixture")
    return model


def assert_close(actual, expected, label: str) -> None:
    if expected is None:
        assert actual is None, label
        return
    assert actual.shape == expected.shape, label
    assert (actual.float() - expected.float()).abs().max().item() < TOLERANCE, label


def nvidia_infer(model: FastPitch, reference: dict, key: str):
    inputs, expected = reference["inputs"], reference["outputs"][key]
    batch = "_b2_" in key
    text = inputs["batch_text_ids" if batch else "text_ids"]
    lengths = inputs["batch_input_lengths" if batch else "input_lengths"]
    options: dict = {"padding_invariant": False}  # NVIDIA's float operations in a batch
    if "pace" in key:
        options["pace"] = float(key.split("pace")[1])
    if "_pitch_" in key:
        options["pitch_transform"] = build_pitch_transform(TRANSFORMS[key.split("_pitch_")[1]])
    if "teacher" in key:
        options.update(
            durations=expected["dur_tgt"],
            pitch=expected["pitch_tgt"],
            energy=expected.get("energy_tgt"),
        )
    return model.infer(text, lengths, **options)


# ---------------------------------------------------------------------------------- parity


@pytest.mark.parametrize("key", INFER_KEYS)
@pytest.mark.parametrize("name", FIXTURES)
def test_infer_matches_nvidia(references, models, name, key):
    output = nvidia_infer(models[name], references[name], key)
    expected = references[name]["outputs"][key]
    for theirs, ours in INFER_FIELDS.items():
        if theirs in expected:
            assert_close(getattr(output, ours), expected[theirs], f"{name} {key} {theirs}")


@pytest.mark.parametrize("name", FIXTURES)
def test_training_forward_matches_nvidia(references, models, name):
    reference = references[name]
    inputs, expected = reference["inputs"], reference["outputs"]["forward_b1"]
    mels = expected["mel_tgt"]
    common = (inputs["text_ids"], inputs["input_lengths"], mels, torch.tensor([mels.size(2)]))
    with torch.no_grad():
        if name == "fastpitch10":  # teacher durations and per-symbol pitch
            output = models[name](*common, expected["pitch_tgt"], durations=expected["dur_tgt"])
        else:  # learned aligner, dense pitch and energy
            output = models[name](
                *common,
                expected["pitch_dense"],
                energy=expected["energy_dense"],
                attn_prior=expected["attn_prior"],
            )
    compared = [field for field in output._fields if field in expected]
    assert len(compared) == (6 if name == "fastpitch10" else 12)
    for field in compared:
        assert_close(getattr(output, field), expected[field], f"{name} forward {field}")
    if name == "fastpitch10":
        assert output.attn_soft is None and output.attn_hard is None


# ------------------------------------------------------------------------- names and configs


def read_keys(path) -> dict[str, tuple[int, ...]]:
    keys = {}
    for line in path.read_text().splitlines():
        name, shape, _ = line.split("\t")
        keys[name] = tuple(int(size) for size in shape.strip("[]").split(",") if size.strip())
    return keys


@pytest.mark.parametrize("name", FIXTURES)
def test_state_dict_has_nvidias_keys_in_order_and_shapes(references, parity_dir, name):
    expected = read_keys(parity_dir / f"keys_{name}.txt")
    model = make_model(references[name])
    ours = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert list(ours) == list(expected)
    assert ours == expected


def test_nvidia_configs_map_to_each_version(references):
    v10 = FastPitchConfig.from_nvidia(references["fastpitch10"]["config"])
    assert (v10.duration_rounding, v10.pitch_formant_axis, v10.learned_aligner) == (
        "half_even",
        False,
        False,
    )
    v11 = FastPitchConfig.from_nvidia(references["fastpitch11"]["config"])
    assert (v11.duration_rounding, v11.pitch_formant_axis, v11.learned_aligner) == (
        "half_up",
        True,
        True,
    )
    state_dict = references["fastpitch11"]["state_dict"]
    without_aligner = {k: v for k, v in state_dict.items() if not k.startswith("attention.")}
    config = FastPitchConfig.from_nvidia(references["fastpitch11"]["config"], without_aligner)
    assert not config.learned_aligner
    for name in FIXTURES:
        config = FastPitchConfig.from_nvidia(references[name]["config"])
        assert config.nvidia_kwargs() == references[name]["config"]


def test_defaults_are_nvidias_published_hyperparameters():
    config = FastPitchConfig()
    assert (config.symbols_embedding_dim, config.in_fft_n_layers, config.out_fft_n_layers) == (
        384,
        6,
        6,
    )
    assert (config.in_fft_n_heads, config.in_fft_d_head, config.in_fft_conv1d_filter_size) == (
        1,
        64,
        1536,
    )
    assert config.dur_predictor_filter_size == config.pitch_predictor_filter_size == 256
    assert FastPitchConfig.from_dict(config.to_dict()) == config


def test_unknown_and_invalid_config_values_are_errors():
    with pytest.raises(SpeechSynthError, match="unknown FastPitch config key"):
        FastPitchConfig.from_dict({"n_layers": 3})
    with pytest.raises(SpeechSynthError, match="duration_rounding"):
        FastPitchConfig(duration_rounding="up")


# --------------------------------------------------------------------------------- behaviour


def test_a_padded_batch_item_gets_what_it_would_get_alone(references, models):
    model, inputs = models["fastpitch11_energy"], references["fastpitch11_energy"]["inputs"]
    text, lengths = inputs["batch_text_ids"], inputs["batch_input_lengths"]
    batch = model.infer(text, lengths)
    alone = model.infer(text[1:, : lengths[1]], lengths[1:])
    frames = int(alone.mel_lengths[0])
    assert int(batch.mel_lengths[1]) == frames
    assert torch.allclose(batch.mels[1, :, :frames], alone.mels[0], atol=1e-5)
    assert torch.allclose(batch.durations_pred[1, : lengths[1]], alone.durations_pred[0], atol=1e-5)
    # NVIDIA's batch result differs (the padding leaks in), as the fixture records
    nvidia = references["fastpitch11_energy"]["outputs"]["infer_b2_pace1.0"]["dec_lens"]
    assert int(nvidia[1]) != frames


def test_pace_two_halves_the_frames(references, models):
    model, inputs = models["fastpitch11"], references["fastpitch11"]["inputs"]
    durations = torch.full((1, 128), 4)
    normal = model.infer(inputs["text_ids"], inputs["input_lengths"], durations=durations)
    fast = model.infer(inputs["text_ids"], inputs["input_lengths"], pace=2.0, durations=durations)
    assert normal.mel_lengths.tolist() == [512] and fast.mel_lengths.tolist() == [256]


def test_pitch_transform_sees_normalised_pitch_lengths_and_the_buffers(references, models):
    model, inputs = models["fastpitch10"], references["fastpitch10"]["inputs"]
    seen = {}

    def transform(pitch, lengths, mean, std):
        seen.update(shape=tuple(pitch.shape), lengths=lengths.tolist(), mean=mean, std=std)
        return pitch * 0.0

    output = model.infer(inputs["text_ids"], inputs["input_lengths"], pitch_transform=transform)
    assert seen["shape"] == (1, 128) and seen["lengths"] == [128]
    assert float(seen["mean"]) == pytest.approx(214.72203)
    assert float(seen["std"]) == pytest.approx(65.72038)
    assert output.pitch_pred.abs().max() == 0
    untrained = FastPitch(FastPitchConfig.from_nvidia(references["fastpitch10"]["config"]))
    untrained.eval().infer(inputs["text_ids"], inputs["input_lengths"], pitch_transform=transform)
    # One LJSpeech constant for training and this fallback: NVIDIA's published FastPitch 1.1 value.
    assert float(seen["mean"]) == pytest.approx(214.72203)
    assert float(seen["std"]) == pytest.approx(65.72038)


def tiny_config(**overrides) -> FastPitchConfig:
    sizes = {
        "symbols_embedding_dim": 16,
        "in_fft_output_size": 16,
        "out_fft_output_size": 16,
        "in_fft_n_layers": 1,
        "out_fft_n_layers": 1,
        "in_fft_d_head": 8,
        "out_fft_d_head": 8,
        "in_fft_conv1d_filter_size": 32,
        "out_fft_conv1d_filter_size": 32,
        "dur_predictor_filter_size": 16,
        "pitch_predictor_filter_size": 16,
        "energy_predictor_filter_size": 16,
        "n_mel_channels": 10,
    }
    return FastPitchConfig(**{**sizes, **overrides})


def test_training_with_the_aligner_on_a_padded_batch():
    torch.manual_seed(0)
    model = FastPitch(tiny_config(energy_conditioning=True)).train()
    text = torch.randint(1, 148, (2, 7))
    text[1, 5:] = 0
    text_lengths, mel_lengths = torch.tensor([7, 5]), torch.tensor([20, 13])
    mels = torch.randn(2, 10, 20)
    pitch = torch.randn(2, 1, 20) * (torch.rand(2, 1, 20) > 0.3)
    prior = torch.zeros(2, 20, 7)
    prior[0] = beta_binomial_prior(7, 20).float()
    prior[1, :13, :5] = beta_binomial_prior(5, 13).float()
    output = model(text, text_lengths, mels, mel_lengths, pitch, torch.rand(2, 20), None, prior)
    assert output.attn_hard_dur.sum(1).tolist() == [20, 13]
    assert output.attn_hard_dur[1, 5:].sum() == 0
    assert output.mel_out.shape == (2, 20, 10)
    assert output.pitch_tgt.shape == (2, 1, 7) and output.energy_tgt.shape == (2, 7)
    loss = output.mel_out.pow(2).mean() + output.log_dur_pred.pow(2).mean()
    loss = loss + output.pitch_pred.pow(2).mean() + output.energy_pred.pow(2).mean()
    loss = loss + output.attn_logprob.clamp_min(-50).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert model.attention.key_proj[0].conv.weight.grad.abs().sum() > 0


def test_teacher_durations_need_the_aligner_off():
    torch.manual_seed(0)
    text, lengths = torch.randint(1, 148, (1, 4)), torch.tensor([4])
    mels, durations = torch.randn(1, 10, 8), torch.tensor([[2, 2, 3, 1]])
    teacher = FastPitch(tiny_config(learned_aligner=False, pitch_formant_axis=False)).eval()
    output = teacher(text, lengths, mels, torch.tensor([8]), torch.randn(1, 4), durations=durations)
    assert output.mel_out.shape == (1, 8, 10) and output.attn_hard is None
    with pytest.raises(SpeechSynthError, match="learned_aligner"):
        FastPitch(tiny_config()).eval()(
            text, lengths, mels, torch.tensor([8]), torch.randn(1, 1, 4), durations=durations
        )
    with pytest.raises(SpeechSynthError, match="teacher durations"):
        teacher(text, lengths, mels, torch.tensor([8]), torch.randn(1, 4))


# -------------------------------------------------------------------------------- loading


@pytest.mark.parametrize("name", ["fastpitch10", "fastpitch11_energy"])
def test_load_model_reads_an_nvidia_checkpoint(references, tmp_path, name):
    reference = references[name]
    path = tmp_path / "FastPitch_checkpoint_100.pt"
    state_dict = {f"module.{key}": value for key, value in reference["state_dict"].items()}
    torch.save(
        {"epoch": 100, "iteration": 5, "config": reference["config"], "state_dict": state_dict},
        path,
    )
    assert detect_spec(reference["state_dict"]).name == "fastpitch"
    loaded = load_model(path)
    assert (loaded.name, loaded.origin) == ("fastpitch", "nvidia")
    assert loaded.config.learned_aligner == (name != "fastpitch10")
    key = "infer_b1_pace1.0"
    expected = reference["outputs"][key]["mel_out"]
    assert_close(nvidia_infer(loaded.model, reference, key).mels, expected, "loaded")


def _fastpitch11_checkpoint(fixture: dict, path, setup: dict) -> None:
    state = {"state_dict": fixture["state_dict"], "config": fixture["config"], "train_setup": setup}
    torch.save(state, path)


def test_nvidia_fastpitch_11_checkpoints_bring_their_text_setup(references, parity_dir, tmp_path):
    path = tmp_path / "FastPitch_checkpoint_1000.pt"
    setup = {
        "text_cleaners": ["english_cleaners_v2"],
        "p_arpabet": 1.0,
        "symbol_set": "english_basic",
    }
    _fastpitch11_checkpoint(references["fastpitch11"], path, setup)
    loaded = load_model(path)
    assert loaded.text_setup == (("english_cleaners_v2",), 1.0, "nvidia_fastpitch11")
    # Without train_setup: what NVIDIA's FastPitch 1.1 inference.py reads by default.
    bare = load_model(parity_dir / "fastpitch11.pt").text_setup
    assert bare == (("english_cleaners_v2",), 0.0, "nvidia_fastpitch11")
    # FastPitch 1.0 read english_cleaners, the Tacotron 2 way.
    older = load_model(parity_dir / "fastpitch10.pt").text_setup
    assert older == (("english_cleaners",), 0.0, "speechsynth")


def test_nvidia_symbol_sets_we_cannot_read_are_refused(references, tmp_path):
    path = tmp_path / "FastPitch_checkpoint_1000.pt"
    setup = {"text_cleaners": ["english_cleaners_v2"], "symbol_set": "english_mandarin_basic"}
    _fastpitch11_checkpoint(references["fastpitch11"], path, setup)
    with pytest.raises(SpeechSynthError, match="symbol set 'english_mandarin_basic'"):
        load_model(path)
