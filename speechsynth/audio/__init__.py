"""Audio front end: file I/O, NVIDIA's STFT and log-mel, Griffin-Lim inversion.

Names are imported lazily so that light users (the CLI's --help, `MelConfig`) do not pay for
importing torch, scipy and librosa.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MelConfig": "speechsynth.audio.config",
    "GriffinLim": "speechsynth.audio.griffin_lim",
    "load_audio": "speechsynth.audio.io",
    "save_audio": "speechsynth.audio.io",
    "STFT": "speechsynth.audio.stft",
    "MelSpectrogram": "speechsynth.audio.stft",
    "dynamic_range_compression": "speechsynth.audio.stft",
    "dynamic_range_decompression": "speechsynth.audio.stft",
    "mel_filterbank": "speechsynth.audio.stft",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'speechsynth.audio' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
