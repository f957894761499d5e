"""The mel basis and analysis window every STFT here uses, in numpy (no torch, no librosa at
import: a runtime that only vocodes with Griffin-Lim starts fast).

`mel_filterbank` is librosa's (imported when first needed); `mel_pseudo_inverse`, what
Griffin-Lim maps log-mels back with, is cached in the user's cache folder per mel setting, so
later processes read 160 KB instead of importing librosa and scipy (~2 s).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from speechsynth.audio.config import MelConfig
from speechsynth.fileio import atomic_path, cache_dir


def periodic_hann(win_length: int, filter_length: int) -> np.ndarray:
    """The periodic Hann window (scipy's `get_window("hann", fftbins=True)`), zero-padded to
    `filter_length`, centred (librosa's `pad_center`)."""
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win_length) / win_length)
    left = (filter_length - win_length) // 2
    return np.pad(window, (left, filter_length - win_length - left))


def mel_filterbank(config: MelConfig) -> np.ndarray:
    """librosa's Slaney-scale, Slaney-normalised mel basis [n_mels, n_fft // 2 + 1]."""
    import librosa  # ~1-2 s to import: only when the basis is not cached

    return librosa.filters.mel(
        sr=config.sampling_rate,
        n_fft=config.filter_length,
        n_mels=config.n_mel_channels,
        fmin=config.mel_fmin,
        fmax=config.mel_fmax,
    )


def mel_pseudo_inverse(config: MelConfig) -> np.ndarray:
    """The least-squares inverse of `mel_filterbank(config)`, [n_fft // 2 + 1, n_mels] float32,
    from the user's cache when it is there (computed and cached when it is not)."""
    key = hashlib.sha1(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir() / f"mel-pinv-{key}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        pass  # absent or damaged: compute it
    inverse = np.linalg.pinv(mel_filterbank(config)).astype(np.float32)
    try:
        with atomic_path(path) as staging, staging.open("wb") as handle:
            np.save(handle, inverse)
    except OSError:
        pass  # an unwritable cache only costs the next process the computation
    return inverse
