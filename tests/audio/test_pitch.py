import numpy as np
import pytest
import torch

from speechsynth.audio import MelConfig, MelSpectrogram
from speechsynth.audio.pitch import estimate_pitch, frame_energy, normalise_pitch
from speechsynth.errors import SpeechSynthError

RATE = 22050


def sine(frequency: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


@pytest.mark.parametrize("method", ["praat", "pyin"])
@pytest.mark.parametrize("frequency", [200.0, 120.0])
def test_pitch_of_a_sine_is_its_frequency(method, frequency):
    audio = sine(frequency, 0.8)
    n_frames = MelConfig().n_frames(len(audio))
    f0 = estimate_pitch(audio, RATE, n_frames, method)
    assert f0.dtype == np.float32 and f0.shape == (n_frames,)
    inner = f0[2:-2]  # pyin's first frame sees half a window of padding
    assert bool((inner > 0).all()), "a steady sine is voiced throughout"
    np.testing.assert_allclose(inner, frequency, rtol=0.02)
    assert abs(np.median(inner) / frequency - 1) < 0.01


@pytest.mark.parametrize("method", ["praat", "pyin"])
def test_silence_is_unvoiced_and_voicing_follows_the_signal(method):
    assert not estimate_pitch(np.zeros(RATE // 2, np.float32), RATE, 44, method).any()

    audio = np.concatenate([sine(200.0, 0.6), np.zeros(int(0.6 * RATE), np.float32)])
    n_frames = MelConfig().n_frames(len(audio))
    f0 = estimate_pitch(audio, RATE, n_frames, method)
    assert f0.shape == (n_frames,)
    split = round(0.6 * RATE / 256)  # the mel frame where the sine stops
    assert bool((f0[5 : split - 5] > 0).all())
    assert not f0[split + 5 :].any()
    assert not np.isnan(f0).any()


def test_frame_count_is_the_mel_length_padded_or_trimmed():
    audio = sine(150.0, 0.5)
    mel_frames = MelSpectrogram()(torch.from_numpy(audio)).size(1)
    assert estimate_pitch(audio, RATE, mel_frames, "praat").shape == (mel_frames,)
    longer = estimate_pitch(audio, RATE, mel_frames + 2, "pyin")
    assert longer.shape == (mel_frames + 2,) and not longer[-2:].any()
    assert estimate_pitch(audio, RATE, mel_frames - 2, "pyin").shape == (mel_frames - 2,)
    with pytest.raises(SpeechSynthError, match="not computed from this audio"):
        estimate_pitch(audio, RATE, mel_frames + 20, "pyin")


def test_bad_requests_are_clear_errors():
    with pytest.raises(SpeechSynthError, match="unknown pitch method 'crepe'"):
        estimate_pitch(sine(100.0, 0.2), RATE, 18, "crepe")
    with pytest.raises(SpeechSynthError, match="too short"):
        estimate_pitch(sine(100.0, 0.02), RATE, 2, "praat")
    with pytest.raises(SpeechSynthError, match="mono audio"):
        estimate_pitch(np.zeros((2, 100), np.float32), RATE, 1, "pyin")


def test_normalise_pitch_keeps_unvoiced_at_zero():
    values = torch.tensor([0.0, 200.0, 250.0, 0.0, 150.0])
    normalised = normalise_pitch(values, 200.0, 50.0)
    assert normalised.tolist() == [0.0, 0.0, 1.0, 0.0, -1.0]
    assert values.tolist() == [0.0, 200.0, 250.0, 0.0, 150.0]  # not in place
    array = normalise_pitch(values.numpy(), 200.0, 50.0)
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    assert array.tolist() == [0.0, 0.0, 1.0, 0.0, -1.0]
    with pytest.raises(SpeechSynthError, match="std must be positive"):
        normalise_pitch(values, 200.0, 0.0)


def test_frame_energy_is_the_l2_norm_of_each_mel_frame():
    mel = torch.randn(80, 7)
    energy = frame_energy(mel)
    assert energy.shape == (7,)
    torch.testing.assert_close(energy, mel.pow(2).sum(dim=0).sqrt())
    batch = torch.stack([mel, 2 * mel])
    torch.testing.assert_close(frame_energy(batch), torch.stack([energy, 2 * energy]))
    with pytest.raises(SpeechSynthError, match="energy needs a mel"):
        frame_energy(torch.zeros(7))
