"""Inference: the acoustic-model and vocoder interfaces, the runtimes behind them (PyTorch,
ONNX Runtime), and batched synthesis (text -> mel -> audio).

Names are imported lazily, as in `speechsynth.audio`, so that importing the package (the CLI's
--help) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AcousticModel": "speechsynth.infer.acoustic",
    "Controls": "speechsynth.infer.acoustic",
    "GriffinLimVocoder": "speechsynth.infer.griffin_lim_vocoder",
    "RuntimeOptions": "speechsynth.infer.runtimes",
    "Vocoder": "speechsynth.infer.vocoder_interface",
    "VocoderOptions": "speechsynth.infer.vocoder_interface",
    "load_vocoder": "speechsynth.infer.runtimes",
    "open_acoustic_model": "speechsynth.infer.runtimes",
    "SynthesisResult": "speechsynth.infer.synthesizer",
    "Synthesizer": "speechsynth.infer.synthesizer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'speechsynth.infer' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
