"""Fundamental frequency (F0) and energy per mel frame, as NVIDIA's FastPitch extracts them.

Two estimators, one per FastPitch version, both giving one value per mel frame in Hz, with 0
for unvoiced frames:

- `praat` (FastPitch 1.0, `extract_mels.py`): Praat's autocorrelation pitch through parselmouth,
  `Sound.to_pitch(time_step=duration / (n_frames + 3))` with Praat's default 75-600 Hz range.
  NVIDIA's odd time step makes Praat return about `n_frames` frames, the first centred about
  two mel hops into the clip (Praat centres its frames in the sound); kept as NVIDIA has it.
- `pyin` (FastPitch 1.1, `prepare_dataset.py estimate_pitch`): `librosa.pyin` between C2
  (65.41 Hz) and C7 (2093 Hz), frame length 1024, hop 256, centred frames: exactly one frame
  per mel frame; NaN (unvoiced) becomes 0.

Either is padded with zeros or trimmed to `n_frames`, as NVIDIA does. Pitch is normalised with
the dataset's mean and standard deviation of voiced values, unvoiced frames staying at 0
(`normalise_pitch`). FastPitch 1.1's optional energy is the L2 norm of each log-mel frame
(`frame_energy`).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from speechsynth.errors import SpeechSynthError

METHODS = ("praat", "pyin")
PYIN_FMIN = 65.40639132514966  # librosa.note_to_hz("C2"), NVIDIA's FastPitch 1.1 floor
PYIN_FMAX = 2093.004522404789  # librosa.note_to_hz("C7")
PRAAT_FMIN = 75.0  # Praat's defaults, which NVIDIA's FastPitch 1.0 keeps
PRAAT_FMAX = 600.0
MAX_FRAME_MISMATCH = 3  # NVIDIA's `maybe_pad` tolerance between pitch and mel frame counts

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, torch.Tensor)


def estimate_pitch(
    audio: np.ndarray,
    sample_rate: int,
    n_frames: int,
    method: str = "pyin",
    hop_length: int = 256,
    frame_length: int = 1024,
    fmin: float | None = None,
    fmax: float | None = None,
) -> np.ndarray:
    """Mono audio -> float32 [n_frames] F0 in Hz per mel frame, 0 where unvoiced.

    `n_frames` is the clip's mel length (`1 + len(audio) // hop_length` for our mels). `fmin` /
    `fmax` default to each method's NVIDIA settings (praat 75-600 Hz, pyin C2-C7); `hop_length`
    and `frame_length` apply to pyin (Praat's step follows from `n_frames`, its window from
    `fmin`). A result more than 3 frames off `n_frames` means the mel is not this clip's.
    """
    audio = np.asarray(audio)
    if audio.ndim != 1 or audio.size == 0:
        raise SpeechSynthError(
            f"pitch needs mono audio with samples, got an array of shape {audio.shape}"
        )
    if n_frames < 1:
        raise SpeechSynthError(f"pitch needs at least one mel frame, got {n_frames}")
    if method == "praat":
        f0 = _praat(audio, sample_rate, n_frames, fmin or PRAAT_FMIN, fmax or PRAAT_FMAX)
    elif method == "pyin":
        f0 = _pyin(
            audio, sample_rate, hop_length, frame_length, fmin or PYIN_FMIN, fmax or PYIN_FMAX
        )
    else:
        raise SpeechSynthError(
            f"unknown pitch method {method!r}; choose one of: {', '.join(METHODS)}"
        )
    if abs(len(f0) - n_frames) > MAX_FRAME_MISMATCH:
        raise SpeechSynthError(
            f"{method} gave {len(f0)} pitch frames for a clip of {audio.size} samples, but the "
            f"mel has {n_frames}; the mel was not computed from this audio (hop {hop_length})"
        )
    f0 = np.nan_to_num(f0[:n_frames], nan=0.0)
    return np.pad(f0, (0, n_frames - len(f0))).astype(np.float32)


def _praat(
    audio: np.ndarray, sample_rate: int, n_frames: int, fmin: float, fmax: float
) -> np.ndarray:
    import parselmouth  # heavy: only when Praat is asked for

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sample_rate)
    try:
        pitch = sound.to_pitch(
            time_step=sound.duration / (n_frames + 3), pitch_floor=fmin, pitch_ceiling=fmax
        )
    except parselmouth.PraatError as error:
        reason = " ".join(str(error).split())
        raise SpeechSynthError(
            f"Praat cannot analyse a clip of {sound.duration:.3f} s ({reason}); the clip is too "
            f"short for a {fmin:g} Hz pitch floor: remove it from the dataset"
        ) from None
    return pitch.selected_array["frequency"]


def _pyin(
    audio: np.ndarray,
    sample_rate: int,
    hop_length: int,
    frame_length: int,
    fmin: float,
    fmax: float,
) -> np.ndarray:
    import librosa  # heavy: only when pyin is asked for

    f0, _, _ = librosa.pyin(
        audio.astype(np.float32),
        fmin=fmin,
        fmax=fmax,
        sr=sample_rate,
        frame_length=frame_length,
        hop_length=hop_length,
    )
    return f0


def normalise_pitch(values: ArrayOrTensor, mean: float, std: float) -> ArrayOrTensor:
    """(values - mean) / std, unvoiced (0) values staying 0; a new array or tensor.

    `mean` and `std` are the dataset's statistics of voiced values (`pitch_stats.json`;
    NVIDIA's LJSpeech values for pyin: 214.72203, 65.72038).
    """
    if std <= 0:
        raise SpeechSynthError(f"pitch std must be positive, got {std}; check pitch_stats.json")
    if isinstance(values, torch.Tensor):
        return torch.where(values == 0, torch.zeros_like(values), (values - mean) / std)
    values = np.asarray(values)
    return np.where(values == 0, np.zeros_like(values), (values - mean) / std).astype(values.dtype)


def frame_energy(mel: torch.Tensor) -> torch.Tensor:
    """Log-mel [n_mels, T] or [B, n_mels, T] -> energy [T] or [B, T]: each frame's L2 norm.

    FastPitch 1.1's `--energy-conditioning` target, before its per-symbol averaging and log(1+x).
    """
    if mel.dim() not in (2, 3):
        raise SpeechSynthError(
            f"energy needs a mel of shape [n_mels, T] or [B, n_mels, T], got {tuple(mel.shape)}"
        )
    return torch.linalg.vector_norm(mel.float(), ord=2, dim=-2)
