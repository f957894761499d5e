import numpy as np
import pytest
import torch

from speechsynth.audio import STFT, MelConfig, MelSpectrogram, load_audio
from speechsynth.audio.stft import LOG_CLAMP_MIN


def test_mel_matches_nvidia_tacotron_stft(parity_dir, ljspeech_mini):
    reference = torch.load(parity_dir / "mel_LJ001-0001.pt", weights_only=True)["mel"]
    audio = load_audio(ljspeech_mini / "wavs" / "LJ001-0001.wav", 22050)
    mel = MelSpectrogram()(torch.from_numpy(audio))
    assert mel.shape == reference.shape == (80, 832)
    assert mel.dtype == torch.float32
    assert (mel - reference).abs().max().item() < 1e-4


def test_frame_count_is_one_plus_samples_over_hop():
    config = MelConfig()
    for n_samples in (256 * 10, 256 * 10 + 1, 256 * 11 - 1, 5000):
        mel = MelSpectrogram(config)(torch.zeros(n_samples))
        assert mel.shape == (80, config.n_frames(n_samples)) == (80, 1 + n_samples // 256)


def test_silence_sits_at_the_log_floor():
    mel = MelSpectrogram()(torch.zeros(4096))
    assert torch.allclose(mel, torch.full_like(mel, np.log(LOG_CLAMP_MIN)))


def test_batched_mel_equals_one_at_a_time():
    generator = torch.Generator().manual_seed(0)
    audio = torch.rand(3, 6000, generator=generator) * 2 - 1
    mel_spectrogram = MelSpectrogram()
    batched = mel_spectrogram(audio)
    for index in range(3):
        torch.testing.assert_close(batched[index], mel_spectrogram(audio[index]))


def test_mel_peaks_at_the_frequency_of_a_sine():
    config = MelConfig()
    time = torch.arange(config.sampling_rate) / config.sampling_rate
    low = MelSpectrogram(config)(0.5 * torch.sin(2 * torch.pi * 300 * time)).mean(dim=1)
    high = MelSpectrogram(config)(0.5 * torch.sin(2 * torch.pi * 3000 * time)).mean(dim=1)
    assert low.argmax() < high.argmax()


@pytest.mark.parametrize("n_samples", [8192, 10000])
def test_inverse_stft_reconstructs_the_signal(n_samples):
    generator = torch.Generator().manual_seed(1)
    audio = (torch.rand(1, n_samples, generator=generator) * 2 - 1) * 0.5
    stft = STFT()
    magnitude, phase = stft.transform(audio)
    rebuilt = stft.inverse(magnitude, phase)[:, 0]
    length = min(rebuilt.size(1), n_samples)
    torch.testing.assert_close(rebuilt[:, :length], audio[:, :length], atol=2e-4, rtol=0)
