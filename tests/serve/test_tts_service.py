"""The served model's logic without Triton: request checks, batching, padding."""

import numpy as np
import pytest

from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.voice import load_voice
from speechsynth.serve.tts_service import RequestError, TtsService, padded


@pytest.fixture(scope="module")
def service() -> TtsService:
    return TtsService(load_voice(), batch_size=4, max_text_chars=1000)


def _text(*items: bytes) -> dict:
    return {"TEXT": np.array([[item] for item in items], dtype=object)}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "TEXT: missing"),
        (_text(b"   "), r"TEXT\[0\]: empty"),
        (_text(b"Fine.", b"\xff\xfeA"), r"TEXT\[1\]: not valid UTF-8"),
        (_text(b"x" * 1001), r"TEXT\[0\]: 1,001 characters, over this server's limit of 1,000"),
        ({**_text(b"Hi."), "PACE": np.array([[0.0]], np.float32)}, "PACE: 0.0 is out of range"),
        ({**_text(b"Hi."), "PACE": np.array([[np.nan]], np.float32)}, "PACE: send one finite"),
    ],
)
def test_bad_requests_name_the_input(service, inputs, message):
    with pytest.raises(RequestError, match=message):
        service.parse(inputs)


def test_requests_batched_together_get_what_each_gets_alone(service):
    texts = [b"Hello there.", b"A somewhat longer sentence, with a comma.", b"Bye."]
    together = service.speak(
        [service.parse(_text(texts[0], texts[1])), service.parse(_text(texts[2]))]
    )
    alone = [service.speak([service.parse(_text(text))])[0] for text in texts]
    (audio_01, lengths_01), (audio_2, _) = together
    assert audio_01.dtype == np.float32 and lengths_01.dtype == np.int32
    assert lengths_01.shape == (2, 1) and audio_01.shape == (2, lengths_01.max())
    pieces = [audio_01[0, : lengths_01[0, 0]], audio_01[1, : lengths_01[1, 0]], audio_2[0]]
    for piece, (audio, lengths) in zip(pieces, alone, strict=True):
        # no cross-talk: the same audio up to Griffin-Lim's amplification of the 4e-6 that
        # padding changes in a batch's mels
        assert len(piece) == lengths[0, 0]
        np.testing.assert_allclose(piece, audio[0], atol=2e-3)
        assert np.corrcoef(piece, audio[0])[0, 1] > 0.9999
    assert not audio_01[0, lengths_01[0, 0] :].any()  # zero padding


def test_pace_reaches_the_model(service):
    normal = service.speak([service.parse(_text(b"Speak a little faster now."))])[0][1]
    faster = {**_text(b"Speak a little faster now."), "PACE": np.array([[2.0]], np.float32)}
    fast = service.speak([service.parse(faster)])[0][1]
    assert fast[0, 0] < 0.6 * normal[0, 0]


def test_long_text_is_split_at_sentences_not_cut(service):
    sentence = "This sentence is one of several. "
    text = (sentence * 12).strip()  # 400 characters: two chunks of at most 300
    voice = service.voice
    expected = Synthesizer(voice.model, voice.vocoder).synthesize([("x", text)])[0]
    _, lengths = service.speak([service.parse(_text(text.encode()))])[0]
    assert expected.n_chunks > 1 and lengths[0, 0] == len(expected.audio)


def test_padded_keeps_every_sample():
    audio, lengths = padded([np.ones(3, np.float32), np.ones(5, np.float32)])
    assert lengths.ravel().tolist() == [3, 5] and audio.sum() == 8 and audio.shape == (2, 5)


def test_generated_mels_are_what_speak_vocodes(service):
    request = service.parse(_text(b"Hello there.", b"A longer second sentence."))
    ((mels, lengths),) = service.generate([request])
    assert mels.shape[:2] == (2, 80) and mels.shape[2] == lengths.max()
    audio = service.vocode([service.parse_mels({"MEL": mels, "MEL_LENGTH": lengths})])[0]
    spoken = service.speak([request])[0]
    assert audio[1].ravel().tolist() == spoken[1].ravel().tolist()


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "MEL: missing"),
        ({"MEL": np.zeros((1, 79, 5), np.float32)}, r"MEL: shape \[1, 79, 5\]; send \[N, 80"),
        ({"MEL": np.zeros((1, 80, 5), np.float32), "MEL_LENGTH": np.array([[9]])}, "MEL_LENGTH"),
    ],
)
def test_bad_mels_name_the_input(service, inputs, message):
    with pytest.raises(RequestError, match=message):
        service.parse_mels(inputs)


def test_a_stream_is_say_streams_chunks_joined_to_the_whole(service):
    from speechsynth.infer.voice import STREAM_CHUNK_CHARS
    from speechsynth.text import split_sentences

    text = "The first sentence is here. A second one follows it, with a comma, and then the end."
    chunks = list(service.stream(service.parse(_text(text.encode()))))
    assert len(chunks) == len(split_sentences(text, STREAM_CHUNK_CHARS)) >= 1
    voice = service.voice
    synthesizer = Synthesizer(
        voice.model, voice.vocoder, batch_size=1, max_chars_per_chunk=STREAM_CHUNK_CHARS
    )
    [whole] = synthesizer.synthesize([("whole", text)])
    np.testing.assert_array_equal(np.concatenate(chunks), whole.audio)


def test_a_stream_takes_one_text(service):
    with pytest.raises(RequestError, match="a streaming request holds one text"):
        next(service.stream(service.parse(_text(b"One.", b"Two."))))


def test_a_text_the_voice_cannot_speak_fails_its_own_request_only(service):
    with pytest.raises(RequestError, match=r"TEXT\[1\]: nothing to say in '你好'"):
        service.parse(_text(b"Fine.", "你好".encode()))
    [(_, lengths)] = service.speak([service.parse(_text(b"Fine."))])
    assert lengths[0, 0] > 0
