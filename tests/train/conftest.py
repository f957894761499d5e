"""Fixtures for the trainer tests: real LJSpeech clips cut to equal lengths."""

from __future__ import annotations

import pytest
import soundfile
from training_helpers import EQUAL_SAMPLES, EQUAL_TEXTS

from speechsynth.data.formats import Utterance


@pytest.fixture
def equal_length_clips(ljspeech_mini, tmp_path) -> list[Utterance]:
    """Two real clips cropped to the same length, with equally long texts."""
    utterances = []
    for index, (clip_id, text) in enumerate(
        zip(("LJ001-0002", "LJ001-0008"), EQUAL_TEXTS, strict=True)
    ):
        audio, rate = soundfile.read(ljspeech_mini / "wavs" / f"{clip_id}.wav", dtype="int16")
        path = tmp_path / "clips" / f"clip{index}.wav"
        path.parent.mkdir(exist_ok=True)
        soundfile.write(path, audio[:EQUAL_SAMPLES], rate, subtype="PCM_16")
        utterances.append(Utterance(f"clip{index}", text, audio_path=path))
    assert len(EQUAL_TEXTS[0]) == len(EQUAL_TEXTS[1])
    return utterances
