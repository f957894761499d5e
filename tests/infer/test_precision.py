"""Inference precisions: each option's error bound on fixed weights, durations kept, and the
default each model gets (which the README's table must state)."""

import re
from pathlib import Path

import pytest
import torch

from speechsynth.infer import precision as precision_module
from speechsynth.infer.bench import (
    mel_relative_error,
    predict_even_durations,
    random_text,
    relative_rms_error,
)
from speechsynth.infer.precision import (
    BFloat16Island,
    default_precision_for,
    prepare_for_inference,
    resolve_precision,
)
from speechsynth.infer.runtimes import RuntimeOptions, open_acoustic_model
from speechsynth.models.fastpitch import FastPitch, FastPitchConfig
from speechsynth.models.fastspeech import FastSpeech
from speechsynth.models.hifigan import HiFiGanGenerator
from speechsynth.models.registry import load_model
from speechsynth.models.tacotron2 import Tacotron2, Tacotron2Config
from speechsynth.models.transformer import ConcatenatedSinusoids
from speechsynth.models.waveglow import WaveGlow

README = Path(__file__).resolve().parents[2] / "README.md"
CPU = torch.device("cpu")
BF16_BOUND = 0.005  # relative RMS of bf16 mels from fp32's (README: "within 0.5 %")
INT8_BOUND = 0.01  # Tacotron 2 int8, teacher-forced


def _infer(model, text, lengths):
    with torch.inference_mode():
        return model.infer(text, lengths)


def test_positions_are_computed_in_fp32_whatever_the_output_type():
    positions = ConcatenatedSinusoids(384)
    exact = positions(700, torch.float32)
    low = positions(700, torch.bfloat16)
    assert low.dtype == torch.bfloat16
    # bfloat16 rounding of values in [-1, 1] only (angles in bf16 were off by radians)
    assert (low.float() - exact).abs().max() < 4e-3


@pytest.mark.parametrize("fixture", ["fastpitch10.pt", "fastpitch11.pt", "fastspeech.pt"])
def test_bf16_mels_stay_within_bound_and_durations_are_fp32s(parity_dir, fixture):
    model = load_model(parity_dir / fixture).model.eval()
    text = random_text(2, 96, model.config.n_symbols, seed=1)  # 400+ frames: positions > 256
    lengths = torch.tensor([96, 70])
    exact = _infer(model, text, lengths)
    low = _infer(prepare_for_inference(model, "bf16"), text, lengths)
    assert torch.equal(low.durations_pred, exact.durations_pred)  # the same path, in fp32
    assert torch.equal(low.mel_lengths, exact.mel_lengths) and exact.mel_lengths.min() > 300
    error = relative_rms_error(low.mels.float(), exact.mels)
    assert 0 < error < BF16_BOUND


def test_bf16_fastpitch_at_nvidias_size_stays_within_bound():
    torch.manual_seed(0)
    model = FastPitch(FastPitchConfig()).eval()
    predict_even_durations(model, 5.0)  # 64 symbols -> 320 frames
    text = random_text(1, 64, model.config.n_symbols, seed=0)
    lengths = torch.tensor([64])
    exact = _infer(model, text, lengths)
    low = _infer(prepare_for_inference(model, "bf16"), text, lengths)
    assert exact.mels.shape[-1] == 320
    assert relative_rms_error(low.mels.float(), exact.mels) < BF16_BOUND


def test_bf16_runs_only_the_decoder_feed_forward_in_bfloat16(parity_dir):
    model = load_model(parity_dir / "fastpitch11.pt").model
    low = prepare_for_inference(model, "bf16")
    islands = [name for name, module in low.named_modules() if isinstance(module, BFloat16Island)]
    assert islands and all(
        re.fullmatch(r"decoder\.layers\.\d+\.pos_ff\.CoreNet\.[02]", n) for n in islands
    )
    bf16 = {name for name, p in low.named_parameters() if p.dtype == torch.bfloat16}
    assert bf16 and all(
        name.startswith("decoder.layers.") and ".pos_ff.CoreNet." in name for name in bf16
    )
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the original untouched


def test_int8_tacotron2_at_nvidias_size_stays_within_bound():
    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config()).eval()
    text = random_text(1, 48, model.config.n_symbols, seed=0)
    int8 = prepare_for_inference(model, "int8")
    assert mel_relative_error(model, int8, text, frames=40, seed=0) < INT8_BOUND


def test_defaults_follow_the_cpus_abilities(monkeypatch):
    monkeypatch.setattr(precision_module, "native_bf16_available", lambda device: False)
    assert default_precision_for(Tacotron2, CPU) == "int8"
    assert default_precision_for(FastPitch, CPU) == "fp32"
    assert default_precision_for(WaveGlow, CPU) == "fp32"
    monkeypatch.setattr(precision_module, "native_bf16_available", lambda device: True)
    assert default_precision_for(FastPitch, CPU) == "bf16"
    assert default_precision_for(FastSpeech, CPU) == "bf16"
    assert default_precision_for(WaveGlow, CPU) == "bf16"
    assert default_precision_for(HiFiGanGenerator, CPU) == "fp32"  # not measured yet
    assert default_precision_for(Tacotron2, torch.device("cuda")) == "fp32"  # int8 is CPU-only
    assert resolve_precision(Tacotron2(Tacotron2Config(n_symbols=10)), "fp32", CPU) == "fp32"


def test_the_readme_states_each_default(monkeypatch):
    """The README's table: | `model` | AVX2 CPU | CPU with native bf16 | GPU | ... |"""
    text = README.read_text(encoding="utf-8")
    cell = r" \| `([\w-]+)`"
    rows = {row[0]: row[1:] for row in re.findall(rf"^\| `(\w+)`{cell * 3} \|", text, re.M)}
    networks = {
        "tacotron2": Tacotron2,
        "fastpitch": FastPitch,
        "fastspeech": FastSpeech,
        "waveglow": WaveGlow,
    }
    assert set(rows) == set(networks)
    for name, network in networks.items():
        defaults = []
        for native in (False, True):
            monkeypatch.setattr(precision_module, "native_bf16_available", lambda d, n=native: n)
            defaults.append(default_precision_for(network, CPU))
        monkeypatch.undo()
        defaults.append(default_precision_for(network, torch.device("cuda")))
        assert rows[name] == tuple(defaults), name


def test_checkpoints_open_at_the_default_precision(parity_dir):
    tacotron2 = open_acoustic_model(parity_dir / "tacotron2.pt")
    assert tacotron2.describe()["precision"] == "int8"
    fp32 = open_acoustic_model(parity_dir / "tacotron2.pt", RuntimeOptions(precision="fp32"))
    assert fp32.describe()["precision"] == "fp32"
