"""Reading and writing audio files (WAV, FLAC, ... through soundfile)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path

log = logging.getLogger(__name__)


def load_audio(path: str | os.PathLike, sampling_rate: int, strict: bool = False) -> np.ndarray:
    """Load a clip as mono float32 in [-1, 1] at `sampling_rate`.

    int16 files are scaled by 1/32768, exactly as NVIDIA's loaders do. Multi-channel audio is
    averaged to mono. Another sample rate is resampled with a warning, or refused when `strict`.
    """
    path = Path(path)
    if not path.is_file():
        raise SpeechSynthError(
            f"{path}: audio file not found; check the path or the dataset layout"
        )
    try:
        samples, file_rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise SpeechSynthError(
            f"{path}: cannot read audio ({error}); re-encode it as 16-bit PCM WAV"
        ) from None
    if samples.shape[0] == 0:
        raise SpeechSynthError(f"{path}: audio file has no samples; remove it from the dataset")
    audio = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    if file_rate != sampling_rate:
        audio = _resample(audio, path, file_rate, sampling_rate, strict)
    return np.ascontiguousarray(audio, dtype=np.float32)


def _resample(
    audio: np.ndarray, path: Path, file_rate: int, sampling_rate: int, strict: bool
) -> np.ndarray:
    if strict:
        raise SpeechSynthError(
            f"{path}: sample rate is {file_rate} Hz, expected {sampling_rate} Hz; resample it "
            f"(e.g. `sox in.wav -r {sampling_rate} out.wav`) or drop --strict"
        )
    log.warning("%s: resampling %d Hz -> %d Hz", path, file_rate, sampling_rate)
    import librosa  # its resampler pulls in scipy.signal (~1 s): only when a file needs it

    return librosa.resample(audio, orig_sr=file_rate, target_sr=sampling_rate)


def save_mel(path: str | os.PathLike, mel: Any) -> None:
    """Write a log-mel [n_mels, frames] as a float32 .npy file atomically (as NVIDIA's inference
    scripts can save mels for a separate vocoder run)."""
    array = np.asarray(mel, dtype=np.float32)
    if array.ndim != 2:
        raise SpeechSynthError(f"{path}: a mel must be [n_mels, frames], got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise SpeechSynthError(f"{path}: refusing to write a mel containing NaN or infinity")
    with atomic_path(path) as temp_path:
        np.save(temp_path, array)


def save_audio(
    path: str | os.PathLike, audio: np.ndarray, sampling_rate: int, subtype: str = "PCM_16"
) -> None:
    """Write mono float audio atomically (temp file + rename), clipping it to [-1, 1]."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise SpeechSynthError(f"{path}: refusing to write audio containing NaN or infinity")
    audio = np.clip(audio, -1.0, 1.0)
    with atomic_path(path) as temp_path:
        soundfile.write(temp_path, audio, sampling_rate, subtype=subtype)
