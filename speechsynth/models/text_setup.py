"""How a model reads text, as its checkpoint or export records it (no torch: exports read it)."""

from __future__ import annotations

from typing import NamedTuple


class TextSetup(NamedTuple):
    """How a model reads text: what its checkpoint or export says it was trained with."""

    cleaners: tuple[str, ...]
    p_arpabet: float
    rules: str  # a name in speechsynth.text.TEXT_RULES


NVIDIA_CLEANERS = ("english_cleaners",)
# Names in speechsynth.text.TEXT_RULES (models/ sits beside text/, so it names them only).
SPEECHSYNTH_TEXT_RULES = "speechsynth"
NVIDIA_FASTPITCH11_RULES = "nvidia_fastpitch11"
# What NVIDIA's FastPitch 1.1 `inference.py` reads with when nothing else is said (its parser
# defaults), and the only symbol set our 148-row embeddings fit.
NVIDIA_FASTPITCH11_CLEANERS = ("english_cleaners_v2",)
NVIDIA_FASTPITCH11_SYMBOL_SET = "english_basic"
