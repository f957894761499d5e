"""The bundled voice reads text exactly as it did when it was trained (its ids are pinned)."""

from __future__ import annotations

import pytest

from speechsynth.infer.voice import bundled_checkpoint_path
from speechsynth.models.registry import load_model
from speechsynth.text import TextProcessor

# Ids the bundled voice's text setup (english_cleaners, p_arpabet 1.0, our ARPAbet rules) gave
# before english_cleaners switched to NVIDIA's transliteration: ASCII text must not change.
PINNED_IDS = {
    "Hello! This is speechsynth, speaking on a plain CPU with its bundled demo voice.": [
        106, 73, 117, 123, 2, 11, 91, 109, 131, 11, 109, 146, 11, 56, 53, 42, 42, 40, 45, 56,
        62, 51, 57, 45, 6, 11, 131, 129, 113, 116, 108, 120, 11, 66, 119, 11, 73, 11, 129, 117,
        102, 119, 11, 131, 114, 129, 114, 145, 141, 11, 144, 109, 91, 11, 109, 133, 131, 11, 88,
        74, 119, 90, 73, 117, 90, 11, 90, 94, 118, 122, 11, 143, 127, 131, 7,
    ],
    "Dr. Smith paid $3.50 for 12 apples on the 3rd of May, 1999.": [
        90, 66, 116, 133, 97, 11, 131, 118, 109, 134, 11, 129, 102, 90, 11, 134, 130, 113, 11,
        90, 66, 117, 97, 146, 6, 11, 104, 109, 104, 133, 112, 11, 131, 94, 119, 133, 131, 11, 104,
        78, 130, 11, 133, 144, 94, 117, 143, 11, 70, 129, 73, 117, 146, 11, 66, 119, 11, 91, 73,
        11, 134, 98, 90, 11, 74, 143, 11, 118, 102, 6, 11, 119, 86, 119, 133, 113, 119, 11, 119,
        86, 119, 133, 112, 1, 119, 86, 119, 7,
    ],
    "The quick brown fox jumps over the lazy dog.": [
        91, 73, 11, 116, 144, 109, 116, 11, 88, 130, 82, 119, 11, 104, 66, 116, 131, 11, 115, 74,
        118, 129, 131, 11, 123, 143, 97, 11, 91, 73, 11, 117, 102, 146, 112, 11, 90, 78, 105, 7,
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def voice_processor() -> TextProcessor:
    if not bundled_checkpoint_path().is_file():
        pytest.skip("the bundled voice is not in this checkout")
    loaded = load_model(bundled_checkpoint_path())
    assert loaded.text_setup == (("english_cleaners",), 1.0, "speechsynth")
    return TextProcessor.for_setup(loaded.text_setup, seed=0)


@pytest.mark.parametrize("text", list(PINNED_IDS))
def test_bundled_voice_reads_as_before(voice_processor, text):
    assert voice_processor.encode(text) == PINNED_IDS[text]
