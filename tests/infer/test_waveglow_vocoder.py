"""The WaveGlow vocoder: chunking, denoiser, loading through `load_vocoder`, the benchmark."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch

from speechsynth.cli import main
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.bench import bench_vocoder
from speechsynth.infer.chunked_vocoding import chunk_starts
from speechsynth.infer.precision import native_bf16_available
from speechsynth.infer.runtimes import load_vocoder
from speechsynth.infer.vocoder_interface import VocoderOptions
from speechsynth.infer.vocoders import WaveGlowVocoder
from speechsynth.models.checkpoint import write_checkpoint
from speechsynth.models.waveglow import WaveGlow, WaveGlowConfig


@pytest.fixture(scope="module")
def tiny_waveglow() -> WaveGlow:
    """NVIDIA's flow structure with 8 WN channels; the (zero-initialised) end layers drawn from
    N(0, 0.05) so every coupling really transforms its input."""
    torch.manual_seed(0)
    model = WaveGlow(WaveGlowConfig(WN_config={"n_channels": 8}))
    with torch.no_grad():
        for wn in model.WN:
            wn.end.weight.normal_(0.0, 0.05)
    return model.eval()


def speech_like_mel(frames: int, seed: int = 0) -> np.ndarray:
    """[1, 80, frames] float32 log-mel, smooth in time like speech (random walk in [-11.5, -1])."""
    steps = np.random.default_rng(seed).standard_normal((1, 80, frames), np.float32) * 0.3
    return (steps.cumsum(2) - 6.0).clip(-11.5, -1.0).astype(np.float32)


def energy(audio: np.ndarray) -> float:
    return float(np.mean(audio**2))


# ----------------------------------------------------------------------------- chunking


def test_chunks_overlap_and_cover_the_mel():
    assert chunk_starts(100, 1000, 32) == [0]
    assert chunk_starts(200, 80, 32) == [0, 48, 96, 144]
    starts = chunk_starts(1000, 300, 40)
    assert all(b - a == 260 for a, b in itertools.pairwise(starts))
    assert starts[-1] + 300 >= 1000 and 1000 - starts[-1] > 40


@pytest.mark.parametrize("sigma", [0.0, 0.6])
def test_chunked_output_agrees_with_whole(tiny_waveglow, sigma):
    """The chunked audio must match the whole-mel audio everywhere to -60 dB (1e-3 of its RMS).

    Why this tolerance holds: both use the same noise, and every sample the chunked output
    keeps comes from at least overlap/4 = 8 frames (256 groups) inside its chunk, beyond one
    coupling network's receptive field (255 groups) and the upsampler's 4 frames; what is
    left is the weak reach through the chain of 12 flows plus float rounding: measured at most
    1.4e-4 of the RMS here, and 1.5e-4 with the 32-channel parity model on a real LJSpeech mel
    (7x margin). -60 dB is far below audibility.
    """
    mel = speech_like_mel(200)
    options = {"sigma": sigma, "denoiser_strength": 0.0}
    whole = WaveGlowVocoder(tiny_waveglow, chunk_frames=1000, **options).vocode(mel)
    chunked_vocoder = WaveGlowVocoder(tiny_waveglow, chunk_frames=80, overlap_frames=32, **options)
    spans = []
    infer = chunked_vocoder.model.infer

    def recording_infer(mel, **kwargs):
        spans.append(mel.size(2))
        return infer(mel, **kwargs)

    chunked_vocoder.model.infer = recording_infer
    chunked = chunked_vocoder.vocode(mel)
    assert spans == [80, 80, 80, 56]  # memory bounded by the chunk size
    assert chunked.shape == whole.shape == (1, 200 * 256)
    rms = energy(whole) ** 0.5
    assert rms > 1e-3
    assert np.abs(chunked - whole).max() < 1e-3 * rms


def test_vocoder_leaves_the_callers_model_alone(tiny_waveglow):
    WaveGlowVocoder(tiny_waveglow)
    assert tiny_waveglow.WN[0].start.weight is None  # still weight-normed
    assert tiny_waveglow.WN[0].start.weight_g is not None


# ----------------------------------------------------------------------------- denoiser


def test_denoiser_lowers_the_energy_of_a_zero_mel(tiny_waveglow):
    vocoder = WaveGlowVocoder(tiny_waveglow, sigma=0.0)
    energies = []
    for strength in (0.0, 0.01, 1.0):
        vocoder.denoiser_strength = strength
        energies.append(energy(vocoder.vocode(np.zeros((1, 80, 40), np.float32))))
    assert energies[0] > energies[1] > energies[2]


def test_very_short_mels(tiny_waveglow):
    vocoder = WaveGlowVocoder(tiny_waveglow)
    assert vocoder.vocode(speech_like_mel(1)).shape == (1, 256)  # the denoiser pads its STFT
    assert vocoder.vocode(speech_like_mel(0)).shape == (1, 0)


def test_the_seed_fixes_the_noise(tiny_waveglow):
    mel = speech_like_mel(12)
    first, again, other, fresh = (
        WaveGlowVocoder(tiny_waveglow, seed=seed, denoiser_strength=0.0).vocode(mel)
        for seed in (3, 3, 4, None)
    )
    assert np.array_equal(first, again)
    assert not np.allclose(first, other) and not np.allclose(first, fresh)


# ----------------------------------------------------------------------------- loading


def test_load_vocoder_from_our_checkpoint(tiny_waveglow, tmp_path):
    path = tmp_path / "waveglow.pt"
    payload = {"model_config": tiny_waveglow.config.to_dict()}
    write_checkpoint(
        path, {"model_name": "waveglow", **payload, "state_dict": tiny_waveglow.state_dict()}
    )
    vocoder = load_vocoder(str(path), VocoderOptions(sigma=0.0, denoiser_strength=0.02))
    assert isinstance(vocoder, WaveGlowVocoder)
    assert (vocoder.sigma, vocoder.denoiser_strength, vocoder.precision) == (0.0, 0.02, "fp32")
    audios = vocoder(np.repeat(speech_like_mel(12), 2, axis=0), [12, 7])
    assert [len(audio) for audio in audios] == [12 * 256, 7 * 256]
    assert all(abs(audio).max() <= 1.0 for audio in audios)


def test_load_vocoder_from_nvidia_checkpoint(parity_dir):
    vocoder = load_vocoder(str(parity_dir / "waveglow.pt"))
    assert isinstance(vocoder, WaveGlowVocoder) and vocoder.model.config.n_channels == 32


def test_an_acoustic_model_is_not_a_vocoder(parity_dir):
    with pytest.raises(SpeechSynthError, match="a tacotron2 model, not a vocoder"):
        load_vocoder(str(parity_dir / "tacotron2.pt"))


def test_bad_vocoder_options(tiny_waveglow):
    with pytest.raises(SpeechSynthError, match="precision"):
        WaveGlowVocoder(tiny_waveglow, precision="int8")
    with pytest.raises(SpeechSynthError, match="overlap_frames < chunk_frames"):
        WaveGlowVocoder(tiny_waveglow, chunk_frames=32, overlap_frames=32)


@pytest.mark.skipif(not native_bf16_available(torch.device("cpu")), reason="no native bf16")
def test_bf16_vocoder_is_close_to_fp32(tiny_waveglow):
    mel = speech_like_mel(20)
    expected = WaveGlowVocoder(tiny_waveglow).vocode(mel)
    audio = WaveGlowVocoder(tiny_waveglow, precision="bf16").vocode(mel)
    assert energy(audio - expected) ** 0.5 < 0.01 * energy(expected) ** 0.5


# ----------------------------------------------------------------------------- benchmark


def test_bench_report_fields(tiny_waveglow):
    vocoder = WaveGlowVocoder(tiny_waveglow, denoiser_strength=0.0)
    result, audio = bench_vocoder(vocoder, mel_frames=8, batch_size=2, repeats=2)
    assert audio.shape == (2, 8 * 256)
    assert (result.precision, result.mel_frames, result.samples, result.repeats) == (
        "fp32",
        8,
        8 * 256,
        2,
    )
    assert math.isclose(result.samples_per_s, 2 * 8 * 256 / result.latency.mean)
    assert math.isclose(result.real_time_factor, result.samples_per_s / 22050)
    assert result.audio_relative_error is None
    again, _ = bench_vocoder(vocoder, mel_frames=8, batch_size=2, repeats=1, reference_audio=audio)
    assert again.audio_relative_error == 0.0  # same noise, same mel, same model


def test_cli_bench_waveglow(capsys):
    args = ["bench", "waveglow", "--channels", "4", "--mel-frames", "4", "--repeats", "1"]
    assert main([*args, "--threads", "1", "--precision", "fp32", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "waveglow" and report["threads"] == 1
    (run,) = report["runs"]
    assert run["channels"] == 4 and run["parameters"] > 0
    (result,) = run["inference"]
    assert result["samples"] == 1024 and result["samples_per_s"] > 0
    assert main([*args, "--precision", "int8"]) == 2
    assert "not available" in capsys.readouterr().err
