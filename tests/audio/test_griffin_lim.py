import numpy as np
import torch

from speechsynth.audio import GriffinLim, MelSpectrogram, load_audio


def mel_distance(audio: np.ndarray, target_mel: np.ndarray) -> float:
    rebuilt = MelSpectrogram()(torch.from_numpy(audio)).numpy()[:, : target_mel.shape[1]]
    return float(np.abs(rebuilt - target_mel).mean())


def test_griffin_lim_output_matches_the_input_mel(ljspeech_mini):
    audio = load_audio(ljspeech_mini / "wavs" / "LJ001-0002.wav", 22050)
    mel = MelSpectrogram()(torch.from_numpy(audio)).numpy()
    one_iteration = GriffinLim(n_iter=1)(mel)
    converged = GriffinLim(n_iter=32)(mel)
    assert converged.shape == (256 * mel.shape[1],) and converged.dtype == np.float32
    assert np.abs(converged).max() <= 1.0
    # Iterating must bring the spectrogram of the audio towards the target.
    assert mel_distance(converged, mel) < 0.6 * mel_distance(one_iteration, mel)
    assert mel_distance(converged, mel) < 0.2


def test_griffin_lim_is_batched_and_seeded():
    mels = np.random.default_rng(0).standard_normal((2, 80, 20)).astype(np.float32) - 6
    vocoder = GriffinLim(n_iter=4, seed=3)
    batch = vocoder(mels)
    assert batch.shape == (2, 20 * 256)
    np.testing.assert_array_equal(vocoder(mels), batch)
    np.testing.assert_allclose(vocoder(mels[1]), batch[1], atol=1e-5, rtol=0)


def test_the_stft_pair_matches_torchs():
    """The numpy STFT / inverse STFT are torch.stft / torch.istft with the same settings."""
    vocoder = GriffinLim()
    audio = np.random.default_rng(1).standard_normal((2, 256 * 30)).astype(np.float32) * 0.1
    spectrum = vocoder._stft(audio)
    window = torch.from_numpy(vocoder.window)
    expected = torch.stft(
        torch.from_numpy(audio), 1024, 256, 1024, window, center=True, return_complex=True
    ).numpy()
    np.testing.assert_allclose(spectrum, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(vocoder._istft(spectrum, audio.shape[1]), audio, atol=1e-6, rtol=0)


def test_the_mel_inverse_is_cached_and_equals_librosas_pseudo_inverse():
    from speechsynth.audio.config import MelConfig
    from speechsynth.audio.mel_basis import mel_filterbank, mel_pseudo_inverse

    expected = np.linalg.pinv(mel_filterbank(MelConfig()))
    first, again = mel_pseudo_inverse(MelConfig()), mel_pseudo_inverse(MelConfig())
    np.testing.assert_allclose(first, expected, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(first, again)
