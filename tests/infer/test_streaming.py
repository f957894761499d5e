"""Streaming synthesis: chunks as they are made, which joined are the whole utterance's audio."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from speechsynth.cli import main
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.synthesizer import AudioChunk, Synthesizer
from speechsynth.infer.voice import bundled_voice_path, load_voice
from speechsynth.text import split_sentences

TEXT = (
    "The first sentence is short. The second one is a little longer, with a comma. "
    "A third follows, and then the end."
)
MAX_CHARS = 60


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    voice = load_voice(bundled_voice_path())
    return Synthesizer(
        voice.model, voice.vocoder, seed=7, max_chars_per_chunk=MAX_CHARS, controls=Controls()
    )


def test_the_joined_stream_is_the_whole_utterance(synthesizer):
    """Exactly `synthesize`'s audio when it too makes each chunk alone (batch 1); in a batch of
    8 the model's padded arithmetic moves the mels by float rounding, which Griffin-Lim's phase
    search carries into the audio at ~1e-3 of its RMS (measured 1.1e-3)."""
    streamed = np.concatenate([chunk.audio for chunk in synthesizer.stream(TEXT)])
    [whole] = _with_batch_size(synthesizer, 1).synthesize([("whole", TEXT)])
    np.testing.assert_array_equal(streamed, whole.audio)
    [batched] = _with_batch_size(synthesizer, 8).synthesize([("whole", TEXT)])
    rms = np.sqrt(np.mean(batched.audio**2))
    assert np.sqrt(np.mean((streamed - batched.audio) ** 2)) <= 2e-3 * rms


def _with_batch_size(synthesizer: Synthesizer, batch_size: int) -> Synthesizer:
    return Synthesizer(
        synthesizer.acoustic_model,
        synthesizer.vocoder,
        batch_size=batch_size,
        seed=synthesizer.seed,
        max_chars_per_chunk=MAX_CHARS,
    )


def test_chunks_are_the_documented_pieces_joined_by_silence(synthesizer):
    chunks = list(synthesizer.stream(TEXT))
    assert len(chunks) == len(split_sentences(TEXT, MAX_CHARS)) > 1
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert [chunk.is_last for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    gap = synthesizer.gap_frames * synthesizer.vocoder.hop_length
    for chunk in chunks[:-1]:
        assert not chunk.audio[-gap:].any() and chunk.audio[:-gap].any()
    ready = [chunk.ready_seconds for chunk in chunks]
    assert ready == sorted(ready) and ready[0] > 0


@pytest.mark.parametrize("text", ["   ", "?!... ,"])
def test_text_without_words_fails_before_any_chunk(synthesizer, text):
    stream = synthesizer.stream(text)
    with pytest.raises(SpeechSynthError):
        next(stream)


def test_say_streams_raw_pcm_and_a_wav_to_stdout(capsysbinary):
    assert main(["say", "--stream", "--format", "raw", "Hello there.", "--seed", "1"]) == 0
    raw = capsysbinary.readouterr().out
    assert main(["say", "--stream", "Hello there.", "--seed", "1"]) == 0
    wav = capsysbinary.readouterr().out
    assert wav[:4] == b"RIFF" and wav[44:] == raw and len(raw) % 2 == 0
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="int16")
    assert rate == 22050 and np.array_equal(audio, np.frombuffer(raw, "<i2"))


def test_say_streams_into_a_file_with_the_samples_a_whole_say_writes(tmp_path, capsys):
    streamed, whole = tmp_path / "streamed.wav", tmp_path / "whole.wav"
    assert main(["say", "--stream", "Hello there.", "-o", str(streamed), "--json"]) == 0
    assert '"time_to_first_audio"' in capsys.readouterr().out
    assert main(["say", "Hello there.", "-o", str(whole)]) == 0
    streamed_audio, _ = soundfile.read(streamed, dtype="int16")
    whole_audio, _ = soundfile.read(whole, dtype="int16")
    np.testing.assert_array_equal(streamed_audio, whole_audio)


def test_an_interrupted_stream_leaves_a_valid_file(tmp_path, capsys, monkeypatch):
    def one_chunk_then_ctrl_c(self, text, name="stream"):
        yield AudioChunk(np.full(2560, 0.25, np.float32), 0, False, 0.1)
        raise KeyboardInterrupt

    monkeypatch.setattr(Synthesizer, "stream", one_chunk_then_ctrl_c)
    output = tmp_path / "cut.wav"
    assert main(["say", "--stream", "Hello there. And more.", "-o", str(output)]) == 130
    audio, _ = soundfile.read(output)
    assert len(audio) == 2560 and np.allclose(audio, 0.25, atol=1e-4)
