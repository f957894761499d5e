"""Long mels vocoded in overlapping chunks with one noise draw per utterance: the one
implementation the PyTorch and the ONNX WaveGlow vocoders share. numpy only, so the ONNX
vocoder runs without torch.

Mels longer than `chunk_frames` are cut into chunks that overlap by `overlap_frames`; each chunk
is vocoded with its slice of the utterance's noise, and neighbours are cross-faded linearly over
the middle half of the overlap (`crossfade_append`). So memory stays bounded by the chunk size,
and where the fade mixes two chunks both render the same noise, at least a quarter of the
overlap away from their edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from speechsynth.errors import SpeechSynthError

# (log-mels [B, n_mels, frames], their noise [B, channels, groups] or None) -> [B, hop frames]
SpanVocoder = Callable[[np.ndarray, np.ndarray | None], np.ndarray]
Denoise = Callable[[np.ndarray], np.ndarray]


def utterance_noise(batch: int, channels: int, groups: int, seed: int | None) -> np.ndarray:
    """N(0, 1) float32 [batch, channels, groups] for whole utterances, drawn once from a
    generator seeded with `seed` (None: a new draw every call). The same seed gives the same
    audio however the mel is chunked, and the same in every runtime."""
    return np.random.default_rng(seed).standard_normal((batch, channels, groups), np.float32)


@dataclass(frozen=True)
class Chunking:
    """How long mels are cut: `chunk_frames` per chunk, `overlap_frames` shared by neighbours."""

    chunk_frames: int = 1000
    overlap_frames: int = 32

    def __post_init__(self) -> None:
        if not 0 <= self.overlap_frames < self.chunk_frames:
            raise SpeechSynthError(
                f"need 0 <= overlap_frames < chunk_frames, got {self.overlap_frames} and "
                f"{self.chunk_frames}"
            )

    def vocode(
        self,
        mels: np.ndarray,
        noise: np.ndarray | None,
        vocode_span: SpanVocoder,
        hop_length: int,
    ) -> np.ndarray:
        """`mels` [B, n_mels, T] (T > 0) and their noise [B, C, G T] -> audio [B, hop T], one
        `vocode_span` call per chunk."""
        frames = mels.shape[2]
        groups_per_frame = 0 if noise is None else noise.shape[2] // frames
        audio = None
        for start in chunk_starts(frames, self.chunk_frames, self.overlap_frames):
            end = min(start + self.chunk_frames, frames)
            span_noise = None
            if noise is not None:
                span_noise = noise[:, :, start * groups_per_frame : end * groups_per_frame]
            chunk = vocode_span(mels[:, :, start:end], span_noise)
            if audio is None:
                audio = chunk
            else:
                audio = crossfade_append(audio, chunk, self.overlap_frames * hop_length)
        return audio


def vocode_utterances(
    mels: np.ndarray,
    noise: np.ndarray | None,
    vocode_span: SpanVocoder,
    denoise: Denoise | None,
    chunking: Chunking,
    hop_length: int,
) -> np.ndarray:
    """Padded log-mels [B, n_mels, T] -> audio [B, hop T] in [-1, 1]: vocoded in chunks, then
    denoised (unless `denoise` is None) and clipped."""
    if mels.shape[2] == 0:
        return np.zeros((mels.shape[0], 0), np.float32)
    audio = chunking.vocode(mels, noise, vocode_span, hop_length)
    if denoise is not None:
        audio = denoise(audio)
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False)


def chunk_starts(frames: int, chunk_frames: int, overlap_frames: int) -> list[int]:
    """First frames of the chunks covering `frames`, each overlapping the previous one by
    `overlap_frames` (the last chunk may be shorter, but never shorter than the overlap)."""
    starts = [0]
    while starts[-1] + chunk_frames < frames:
        starts.append(starts[-1] + chunk_frames - overlap_frames)
    return starts


def crossfade_append(audio: np.ndarray, chunk: np.ndarray, overlap: int) -> np.ndarray:
    """`audio` [B, N] followed by `chunk` [B, M] that shares its first `overlap` samples with
    the end of `audio`. Near its own edge a chunk lacks context (the upsampling kernel spans
    four frames, a coupling network sees 255 groups = 8 frames either side), so each keeps a
    quarter of the overlap to itself and the middle half fades linearly from `audio` to
    `chunk`: with the default 32-frame overlap every sample used is at least 8 frames from the
    edge of the chunk it comes from."""
    margin = overlap // 4
    fade = overlap - 2 * margin
    if fade == 0:
        return np.concatenate([audio[:, : audio.shape[1] - margin], chunk[:, margin:]], 1)
    fade_in = (np.arange(fade, dtype=np.float32) + np.float32(0.5)) / np.float32(fade)
    fade_start = audio.shape[1] - overlap + margin
    mixed = audio[:, fade_start : fade_start + fade] * (np.float32(1.0) - fade_in)
    mixed += chunk[:, margin : margin + fade] * fade_in
    return np.concatenate([audio[:, :fade_start], mixed, chunk[:, margin + fade :]], 1)
