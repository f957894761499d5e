"""The HiFi-GAN vocoder: loading through `load_vocoder`, NVIDIA's outputs, the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
import torch

from speechsynth.cli import main
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.runtimes import load_vocoder
from speechsynth.infer.vocoder_interface import VocoderOptions
from speechsynth.infer.vocoders import HiFiGanVocoder
from speechsynth.models.hifigan import HiFiGanConfig, HiFiGanGenerator

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def reference(load_parity) -> dict:
    return load_parity("hifigan")


@pytest.fixture(scope="module")
def checkpoint(reference, tmp_path_factory) -> str:
    """The reference generator saved as NVIDIA's train.py saves `hifigan_gen_checkpoint_*.pt`."""
    path = tmp_path_factory.mktemp("hifigan") / "hifigan_gen_checkpoint_10.pt"
    content = {
        "generator": reference["state_dict"],
        "gen_ema": None,
        "config": reference["config"]["conf"],
        "train_setup": reference["train_setup_default"],
        "train_state": {"epoch": 10, "iters_all": 100},
    }
    torch.save(content, path)
    return str(path)


def max_diff(actual: np.ndarray, expected: torch.Tensor) -> float:
    assert actual.shape == tuple(expected.shape)
    return float(np.abs(actual - expected.numpy()).max())


def test_load_vocoder_gives_nvidias_audio(checkpoint, reference):
    vocoder = load_vocoder(checkpoint)
    assert isinstance(vocoder, HiFiGanVocoder)
    assert vocoder.describe() == {"vocoder": "hifigan", "runtime": "pytorch"}
    assert vocoder.model.conv_pre.weight is not None  # weight norm folded
    audio = vocoder.vocode(reference["inputs"]["batch_mel"].numpy())
    assert max_diff(audio, reference["outputs"]["batch_audio"][:, 0]) < TOLERANCE


def test_the_denoiser_strength_option(checkpoint, reference):
    vocoder = load_vocoder(checkpoint, VocoderOptions(denoiser_strength=0.005))
    audio = vocoder.vocode(reference["inputs"]["mel"].numpy())
    expected = reference["outputs"]["audio_denoised_strength0.005"][:, 0]
    assert max_diff(audio, expected) < TOLERANCE


def test_utterances_are_trimmed_and_in_range(checkpoint, reference):
    vocoder = load_vocoder(checkpoint, VocoderOptions(denoiser_strength=0.1))
    mels = reference["inputs"]["batch_mel"].numpy()
    first, second = vocoder(mels, [64, 40])
    assert (len(first), len(second)) == (64 * 256, 40 * 256)
    assert max(np.abs(first).max(), np.abs(second).max()) <= 1.0


def test_vocoder_leaves_the_callers_model_alone():
    torch.manual_seed(0)
    model = HiFiGanGenerator(HiFiGanConfig.preset("v2"))
    HiFiGanVocoder(model)
    assert model.conv_pre.weight is None and model.conv_pre.weight_g is not None


@pytest.mark.parametrize("frames", [0, 1])
def test_very_short_mels(frames):
    model = HiFiGanGenerator(HiFiGanConfig(upsample_initial_channel=16))
    vocoder = HiFiGanVocoder(model, denoiser_strength=0.01)
    audio = vocoder.vocode(np.full((2, 80, frames), -5.0, np.float32))
    assert audio.shape == (2, 256 * frames) and audio.dtype == np.float32


def test_bad_options_are_one_line_errors():
    model = HiFiGanGenerator(HiFiGanConfig(upsample_initial_channel=16))
    with pytest.raises(SpeechSynthError, match="unknown HiFi-GAN precision 'int8'"):
        HiFiGanVocoder(model, precision="int8")
    with pytest.raises(SpeechSynthError, match="must not be negative"):
        HiFiGanVocoder(model, denoiser_strength=-1.0)
    short_hop = HiFiGanConfig(
        upsample_rates=[8, 8, 2], upsample_kernel_sizes=[16, 16, 4], upsample_initial_channel=16
    )
    with pytest.raises(SpeechSynthError, match="upsamples by 128 samples per frame"):
        HiFiGanVocoder(HiFiGanGenerator(short_hop))


# ----------------------------------------------------------------------------- command line


def _error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_synthesize_with_fastpitch_and_hifigan(parity_dir, checkpoint, tmp_path):
    output_dir = tmp_path / "out"
    arguments = ["--model", str(parity_dir / "fastpitch11.pt"), "--vocoder", checkpoint]
    assert main(["synthesize", *arguments, "--text", "Hi.", "-o", str(output_dir)]) == 0
    summary = json.loads((output_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["vocoder"] == checkpoint
    audio, rate = soundfile.read(output_dir / "0001.wav")
    assert rate == 22050
    assert len(audio) == 256 * summary["utterances"][0]["frames"]
    assert np.abs(audio).max() > 0


def test_a_fastpitch_checkpoint_as_the_vocoder_is_refused(parity_dir, tmp_path, capsys):
    fastpitch = str(parity_dir / "fastpitch11.pt")
    arguments = ["--model", fastpitch, "--vocoder", fastpitch, "--text", "Hi."]
    assert main(["synthesize", *arguments, "-o", str(tmp_path / "out")]) == 2
    assert "is a fastpitch model, not a vocoder" in _error_line(capsys)


def test_a_hifigan_checkpoint_as_the_model_is_refused(checkpoint, tmp_path, capsys):
    arguments = ["--model", checkpoint, "--text", "Hi.", "-o", str(tmp_path / "out")]
    assert main(["synthesize", *arguments]) == 2
    assert "a hifigan model is a vocoder (mel -> audio), not a text model" in _error_line(capsys)
