"""Inference: batched synthesis (text -> mel -> audio) and the vocoders behind one interface.

Names are imported lazily, as in `speechsynth.audio`, so that importing the package (the CLI's
--help) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GriffinLimVocoder": "speechsynth.infer.vocoders",
    "Vocoder": "speechsynth.infer.vocoders",
    "load_vocoder": "speechsynth.infer.vocoders",
    "SynthesisResult": "speechsynth.infer.synthesizer",
    "Synthesizer": "speechsynth.infer.synthesizer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'speechsynth.infer' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
