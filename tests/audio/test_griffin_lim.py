import torch

from speechsynth.audio import GriffinLim, MelSpectrogram, load_audio


def mel_distance(audio: torch.Tensor, target_mel: torch.Tensor) -> float:
    rebuilt = MelSpectrogram()(audio)[:, : target_mel.size(1)]
    return (rebuilt - target_mel).abs().mean().item()


def test_griffin_lim_output_matches_the_input_mel(ljspeech_mini):
    audio = load_audio(ljspeech_mini / "wavs" / "LJ001-0002.wav", 22050)
    mel = MelSpectrogram()(torch.from_numpy(audio))
    one_iteration = GriffinLim(n_iter=1)(mel)
    converged = GriffinLim(n_iter=32)(mel)
    assert converged.shape == (256 * mel.size(1),)
    assert converged.abs().max() <= 1.0
    # Iterating must bring the spectrogram of the audio towards the target.
    assert mel_distance(converged, mel) < 0.6 * mel_distance(one_iteration, mel)
    assert mel_distance(converged, mel) < 0.2


def test_griffin_lim_is_batched_and_seeded():
    generator = torch.Generator().manual_seed(0)
    mels = torch.randn(2, 80, 20, generator=generator) - 6
    vocoder = GriffinLim(n_iter=4, seed=3)
    batch = vocoder(mels)
    assert batch.shape == (2, 20 * 256)
    torch.testing.assert_close(vocoder(mels), batch)
    torch.testing.assert_close(vocoder(mels[1]), batch[1], atol=1e-5, rtol=0)
