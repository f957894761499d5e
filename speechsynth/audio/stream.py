"""Audio written as it is made: 16-bit PCM bytes, and a WAV header for a stream of unknown
length (both sizes at their maximum, as sox and ffmpeg write to pipes). A seekable file is
written with soundfile instead, which fixes the header when it closes."""

from __future__ import annotations

import struct

import numpy as np

# libsndfile's float -> 16-bit conversion (measured: x * 32768 rounded down, then clipped), so a
# streamed sample is the sample `save_audio` writes.
PCM16_SCALE = 32768
UNKNOWN_SIZE = 0xFFFFFFFF


def pcm16_bytes(audio: np.ndarray) -> bytes:
    """Float audio in [-1, 1] -> little-endian signed 16-bit samples (clipped, rounded)."""
    scaled = np.floor(np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * PCM16_SCALE)
    return np.clip(scaled, -PCM16_SCALE, PCM16_SCALE - 1).astype("<i2").tobytes()


def streaming_wav_header(sampling_rate: int, channels: int = 1) -> bytes:
    """A 44-byte PCM16 WAV header whose RIFF and data sizes say "until the stream ends"."""
    block_align = 2 * channels
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", UNKNOWN_SIZE),
            b"WAVEfmt ",
            struct.pack(
                "<IHHIIHH",
                16,
                1,
                channels,
                sampling_rate,
                sampling_rate * block_align,
                block_align,
                16,
            ),
            b"data",
            struct.pack("<I", UNKNOWN_SIZE),
        ]
    )
