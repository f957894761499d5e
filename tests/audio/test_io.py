import numpy as np
import pytest
import soundfile

from speechsynth.audio import load_audio, save_audio
from speechsynth.errors import SpeechSynthError


def write_int16(path, samples: np.ndarray, rate: int) -> None:
    soundfile.write(path, samples, rate, subtype="PCM_16")


def test_int16_is_scaled_by_1_over_32768(tmp_path):
    ints = np.array([0, 1, -1, 32767, -32768, 1000], dtype=np.int16)
    path = tmp_path / "x.wav"
    write_int16(path, ints, 22050)
    audio = load_audio(path, 22050)
    assert audio.dtype == np.float32
    np.testing.assert_array_equal(audio, ints.astype(np.float32) / 32768.0)


def test_stereo_is_mixed_to_mono(tmp_path):
    left = np.full(1000, 0.5, dtype=np.float32)
    right = np.full(1000, -0.25, dtype=np.float32)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 22050, subtype="FLOAT")
    audio = load_audio(path, 22050)
    assert audio.shape == (1000,)
    np.testing.assert_allclose(audio, 0.125)


def test_flac_is_read(tmp_path):
    samples = (np.sin(np.arange(2000) / 10) * 0.3).astype(np.float32)
    path = tmp_path / "clip.flac"
    soundfile.write(path, samples, 22050)
    assert np.abs(load_audio(path, 22050) - samples).max() < 1e-4


def test_other_rate_is_resampled_with_a_warning(tmp_path, caplog):
    path = tmp_path / "44k.wav"
    write_int16(path, np.zeros(44100, dtype=np.int16), 44100)
    audio = load_audio(path, 22050)
    assert abs(len(audio) - 22050) <= 1
    assert "resampling 44100 Hz -> 22050 Hz" in caplog.text


def test_other_rate_is_an_error_when_strict(tmp_path):
    path = tmp_path / "44k.wav"
    write_int16(path, np.zeros(100, dtype=np.int16), 44100)
    with pytest.raises(SpeechSynthError, match=r"44k.wav: sample rate is 44100 Hz, expected 22050"):
        load_audio(path, 22050, strict=True)


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(SpeechSynthError, match=r"nope.wav: audio file not found"):
        load_audio(tmp_path / "nope.wav", 22050)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(SpeechSynthError, match=r"corrupt.wav: cannot read audio"):
        load_audio(corrupt, 22050)


def test_save_round_trips_and_leaves_no_temp_file(tmp_path):
    samples = np.linspace(-0.5, 0.5, 500, dtype=np.float32)
    path = tmp_path / "out" / "clip.wav"
    save_audio(path, samples, 22050)
    assert np.abs(load_audio(path, 22050) - samples).max() <= 1 / 32768
    assert sorted(p.name for p in path.parent.iterdir()) == ["clip.wav"]


def test_failed_save_keeps_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "clip.wav"
    save_audio(path, np.zeros(10), 22050)
    before = path.read_bytes()
    with pytest.raises(SpeechSynthError, match="NaN"):
        save_audio(path, np.array([0.0, np.nan]), 22050)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["clip.wav"]
