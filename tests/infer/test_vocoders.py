import numpy as np
import pytest
import torch

from speechsynth.errors import SpeechSynthError
from speechsynth.infer import GriffinLimVocoder, Vocoder, load_vocoder
from speechsynth.infer.vocoder_interface import SILENCE_LOG_MEL, VocoderOptions


def _log_mels(batch: int, frames: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(batch, 80, frames, generator=generator) * 6 - 9


def test_load_griffin_lim():
    vocoder = load_vocoder("griffin-lim", VocoderOptions(griffin_lim_iters=7))
    assert isinstance(vocoder, GriffinLimVocoder)
    assert isinstance(vocoder, Vocoder)
    assert vocoder.sampling_rate == 22050
    assert vocoder.hop_length == 256
    assert vocoder.griffin_lim.n_iter == 7


def test_each_utterance_is_trimmed_to_its_length():
    vocoder = GriffinLimVocoder(n_iter=2)
    audios = vocoder(_log_mels(3, 12), torch.tensor([12, 5, 0]))
    assert [len(audio) for audio in audios] == [256 * 12, 256 * 5, 0]
    assert all(audio.dtype == np.float32 for audio in audios)
    assert np.all(np.abs(audios[0]) <= 1.0)


def test_padding_is_vocoded_as_silence():
    # The model returns zeros past an utterance's end, i.e. loud frames in log-mel: the vocoder
    # must render silence there instead, or the padding would bleed into the last real frames.
    vocoder = GriffinLimVocoder(n_iter=3)
    mels = _log_mels(2, 10)
    lengths = torch.tensor([10, 6])
    zero_padded, silence_padded = mels.clone(), mels.clone()
    zero_padded[1, :, 6:] = 0.0
    silence_padded[1, :, 6:] = SILENCE_LOG_MEL
    from_zeros = vocoder(zero_padded, lengths)
    from_silence = vocoder(silence_padded, lengths)
    np.testing.assert_array_equal(from_zeros[1], from_silence[1])


def test_shape_mismatch_is_an_error():
    with pytest.raises(SpeechSynthError, match="lengths"):
        GriffinLimVocoder(n_iter=1)(_log_mels(2, 4), torch.tensor([4]))


def test_unknown_vocoder_name():
    with pytest.raises(SpeechSynthError, match=r"unknown vocoder 'hifi'.*griffin-lim"):
        load_vocoder("hifi")


def test_missing_vocoder_checkpoint(tmp_path):
    with pytest.raises(SpeechSynthError, match="not found"):
        load_vocoder(str(tmp_path / "waveglow.pt"))


def test_unreadable_vocoder_checkpoint(tmp_path):
    checkpoint = tmp_path / "waveglow.pt"
    checkpoint.write_bytes(b"weights")
    with pytest.raises(SpeechSynthError, match=r"waveglow\.pt: not a checkpoint"):
        load_vocoder(str(checkpoint))


def test_griffin_lim_needs_an_iteration():
    with pytest.raises(SpeechSynthError, match="at least 1"):
        load_vocoder("griffin-lim", VocoderOptions(griffin_lim_iters=0))
