"""Streamed audio bytes: the samples `save_audio` writes, behind a header soundfile reads."""

import io

import numpy as np
import soundfile

from speechsynth.audio.stream import pcm16_bytes, streaming_wav_header


def test_streamed_samples_are_the_samples_soundfile_writes():
    audio = np.random.default_rng(0).uniform(-1.2, 1.2, 20_000).astype(np.float32)
    clipped = np.clip(audio, -1.0, 1.0)
    buffer = io.BytesIO()
    soundfile.write(buffer, clipped, 22050, subtype="PCM_16", format="WAV")
    saved = np.frombuffer(buffer.getvalue()[44:], "<i2")
    np.testing.assert_array_equal(np.frombuffer(pcm16_bytes(audio), "<i2"), saved)


def test_a_stream_of_unknown_length_reads_as_a_wav():
    audio = np.sin(np.arange(5000) / 20).astype(np.float32) * 0.5
    data = streaming_wav_header(16000) + pcm16_bytes(audio)
    read, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == 16000 and len(read) == 5000
    assert np.abs(read - audio).max() < 1e-4
