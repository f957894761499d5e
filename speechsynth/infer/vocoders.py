"""Vocoders: batches of log-mel spectrograms to waveforms, behind one interface.

Every consumer (synthesis, and later benchmarking and serving) goes through `Vocoder.__call__`
and `load_vocoder(spec)`, so a new vocoder is one subclass plus one branch in `load_vocoder`.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from speechsynth.audio.config import MelConfig
from speechsynth.audio.griffin_lim import GriffinLim
from speechsynth.errors import SpeechSynthError
from speechsynth.infer.denoiser import DEFAULT_STRENGTH, Denoiser
from speechsynth.models.masks import padding_mask
from speechsynth.models.registry import load_model
from speechsynth.models.waveglow import WaveGlow

GRIFFIN_LIM = "griffin-lim"
VOCODER_NAMES = (GRIFFIN_LIM,)  # and the path of a WaveGlow checkpoint

# log(1e-5): the log-mel of silence (NVIDIA's clamp floor). Frames past an utterance's length are
# set to it, so a vocoder never renders the batch padding (zeros, i.e. loud) into the real audio.
SILENCE_LOG_MEL = math.log(1e-5)


class Vocoder(ABC):
    """Log-mel [B, n_mels, T] plus lengths [B] -> one float32 waveform per utterance."""

    def __init__(self, mel_config: MelConfig | None = None) -> None:
        self.mel_config = mel_config or MelConfig()

    @property
    def sampling_rate(self) -> int:
        return self.mel_config.sampling_rate

    @property
    def hop_length(self) -> int:
        return self.mel_config.hop_length

    @abstractmethod
    def vocode(self, mels: Tensor) -> Tensor:
        """Padded log-mels [B, n_mels, T] -> audio [B, hop_length * T] in [-1, 1]."""

    def to(self, device: torch.device) -> Vocoder:
        """Move any weights to `device` (where the mels are); nothing to move by default."""
        return self

    def __call__(self, mels: Tensor, mel_lengths: Tensor) -> list[np.ndarray]:
        """Each utterance's audio, trimmed to `hop_length * mel_lengths[i]` samples."""
        if mels.dim() != 3 or mels.size(0) != len(mel_lengths):
            raise ValueError(
                f"expected mels [B, n_mels, T] and B lengths, got {tuple(mels.shape)} "
                f"and {len(mel_lengths)} lengths"
            )
        lengths = [int(length) for length in mel_lengths]
        self.to(mels.device)  # outside inference mode: moved weights stay ordinary tensors
        with torch.inference_mode():
            audio = self.vocode(_silence_padding(mels, lengths)).float().cpu().numpy()
        return [audio[i, : self.hop_length * length].copy() for i, length in enumerate(lengths)]


def _silence_padding(mels: Tensor, lengths: list[int]) -> Tensor:
    past_end = padding_mask(torch.tensor(lengths, device=mels.device), mels.size(2))
    return mels.masked_fill(past_end.unsqueeze(1), SILENCE_LOG_MEL)


class GriffinLimVocoder(Vocoder):
    """Griffin-Lim phase reconstruction: no trained weights, robotic but dependable."""

    def __init__(
        self,
        n_iter: int = 60,
        mel_config: MelConfig | None = None,
        momentum: float = 0.99,
        seed: int | None = 0,
    ) -> None:
        super().__init__(mel_config)
        if n_iter < 1:
            raise SpeechSynthError(f"Griffin-Lim needs at least 1 iteration, got {n_iter}")
        self.griffin_lim = GriffinLim(self.mel_config, n_iter=n_iter, momentum=momentum, seed=seed)

    def vocode(self, mels: Tensor) -> Tensor:
        return self.griffin_lim(mels)

    def to(self, device: torch.device) -> GriffinLimVocoder:
        self.griffin_lim.to(device)
        return self


def load_vocoder(
    spec: str,
    *,
    griffin_lim_iters: int = 60,
    sigma: float = 0.6,
    denoiser_strength: float = DEFAULT_STRENGTH,
    precision: str = "fp32",
) -> Vocoder:
    """The vocoder `spec` names: `griffin-lim`, or the path of a WaveGlow checkpoint (ours or
    NVIDIA's); the other arguments apply to the WaveGlow vocoder only."""
    if spec == GRIFFIN_LIM:
        return GriffinLimVocoder(n_iter=griffin_lim_iters)
    if _looks_like_path(spec):
        return _load_checkpoint_vocoder(
            Path(spec), sigma=sigma, denoiser_strength=denoiser_strength, precision=precision
        )
    raise SpeechSynthError(
        f"unknown vocoder {spec!r}: give one of {', '.join(VOCODER_NAMES)} "
        "or the path of a vocoder checkpoint"
    )


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or "/" in spec or spec.endswith((".pt", ".pth", ".ckpt"))


def _load_checkpoint_vocoder(
    path: Path, *, sigma: float, denoiser_strength: float, precision: str
) -> Vocoder:
    """Recognise the checkpoint (WaveGlow; later HiFi-GAN) and build its vocoder."""
    if not path.is_file():
        raise SpeechSynthError(f"{path}: vocoder checkpoint not found; check the path")
    loaded = load_model(path)
    if not isinstance(loaded.model, WaveGlow):
        raise SpeechSynthError(
            f"{path}: is a {loaded.name} checkpoint, not a vocoder; give a WaveGlow checkpoint "
            f"or {GRIFFIN_LIM}"
        )
    return WaveGlowVocoder(
        loaded.model,
        sigma=sigma,
        denoiser_strength=denoiser_strength,
        precision=precision,
        copy_model=False,
    )


# ----------------------------------------------------------------------------- WaveGlow

WAVEGLOW_PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def native_bf16_available(device: torch.device) -> bool:
    """Whether bfloat16 products run natively (a GPU, or a CPU with AVX512-BF16 / AMX)."""
    if device.type != "cpu":
        return True
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


class WaveGlowVocoder(Vocoder):
    """WaveGlow with NVIDIA's denoiser, vocoding long mels in overlapping chunks.

    Mels longer than `chunk_frames` are cut into chunks that overlap by `overlap_frames`; each
    chunk is vocoded with its slice of one noise draw for the whole utterance, and neighbours
    are cross-faded linearly over the middle half of the overlap (`crossfade_append`). So
    memory stays bounded by the chunk size, and where the fade mixes two chunks both render the
    same noise, at least a quarter of the overlap away from their edges.
    Every call draws its noise from a generator seeded with `seed` (the same mel gives the
    same audio); `seed=None` uses torch's global generator, as NVIDIA does.
    """

    def __init__(
        self,
        model: WaveGlow | str | Path,
        *,
        sigma: float = 0.6,
        denoiser_strength: float = DEFAULT_STRENGTH,
        precision: str = "fp32",
        chunk_frames: int = 1000,
        overlap_frames: int = 32,
        seed: int | None = 0,
        mel_config: MelConfig | None = None,
        copy_model: bool = True,
    ) -> None:
        super().__init__(mel_config)
        if isinstance(model, (str, Path)):
            model, copy_model = load_model(model, expected_name="waveglow").model, False
        if precision not in WAVEGLOW_PRECISIONS:
            raise SpeechSynthError(
                f"unknown WaveGlow precision {precision!r}; choose one of "
                f"{', '.join(WAVEGLOW_PRECISIONS)}"
            )
        if not 0 <= overlap_frames < chunk_frames:
            raise SpeechSynthError(
                f"need 0 <= overlap_frames < chunk_frames, got {overlap_frames} and {chunk_frames}"
            )
        if sigma < 0 or denoiser_strength < 0:
            raise SpeechSynthError("sigma and the denoiser strength must not be negative")
        if model.upsample.stride[0] != self.hop_length:
            raise SpeechSynthError(
                f"WaveGlow upsamples by {model.upsample.stride[0]} samples per frame, but the "
                f"mels have a hop of {self.hop_length}"
            )
        # Our own folded copy: the caller's model may still be training.
        self.model = (copy.deepcopy(model) if copy_model else model).remove_weightnorm().eval()
        self.sigma = sigma
        self.denoiser_strength = denoiser_strength
        self.precision = precision
        self.chunk_frames = chunk_frames
        self.overlap_frames = overlap_frames
        self.seed = seed
        self._denoiser: Denoiser | None = None

    @property
    def compute_dtype(self) -> torch.dtype:
        return WAVEGLOW_PRECISIONS[self.precision]

    def to(self, device: torch.device) -> WaveGlowVocoder:
        self.model.to(device)
        if self._denoiser is not None:
            self._denoiser.to(device)
        return self

    @property
    def denoiser(self) -> Denoiser:
        """Built on first use: its bias is one WaveGlow pass over a silent mel."""
        if self._denoiser is None:
            self._denoiser = Denoiser(self.model)
        return self._denoiser

    def vocode(self, mels: Tensor) -> Tensor:
        device = mels.device
        if self.precision == "bf16" and not native_bf16_available(device):
            raise SpeechSynthError(
                "this CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX), where bf16 "
                "is slower than fp32: use precision fp32"
            )
        if mels.size(2) == 0:
            return mels.new_zeros(mels.size(0), 0)
        noise = self._utterance_noise(mels) if self.sigma > 0 else None
        audio = self._vocode_chunks(mels.float(), noise)
        if self.denoiser_strength > 0:
            audio = self.denoiser(audio, self.denoiser_strength)
        return audio.clamp(-1.0, 1.0)

    def _utterance_noise(self, mels: Tensor) -> list[Tensor]:
        """N(0, 1) for the whole utterance, in WaveGlow's draw order (see `NoiseSource`)."""
        config = self.model.config
        n_groups = mels.size(2) * self.hop_length // config.n_group
        generator = None
        if self.seed is not None:
            generator = torch.Generator(device=mels.device).manual_seed(self.seed)
        channels = [self.model.n_remaining_channels]
        channels += [config.n_early_size] * sum(map(config.emits_early, range(config.n_flows)))
        return [
            torch.randn(mels.size(0), n, n_groups, generator=generator, device=mels.device)
            for n in channels
        ]

    def _vocode_chunks(self, mels: Tensor, noise: list[Tensor] | None) -> Tensor:
        frames = mels.size(2)
        starts = chunk_starts(frames, self.chunk_frames, self.overlap_frames)
        audio = None
        for start in starts:
            end = min(start + self.chunk_frames, frames)
            chunk = self._vocode_span(mels, noise, start, end)
            if audio is None:
                audio = chunk
            else:
                audio = crossfade_append(audio, chunk, self.overlap_frames * self.hop_length)
        return audio

    def _vocode_span(
        self, mels: Tensor, noise: list[Tensor] | None, start: int, end: int
    ) -> Tensor:
        groups_per_frame = self.hop_length // self.model.config.n_group
        span = slice(start * groups_per_frame, end * groups_per_frame)
        return self.model.infer(
            mels[:, :, start:end],
            sigma=self.sigma,
            noise=None if noise is None else [draw[:, :, span] for draw in noise],
            compute_dtype=self.compute_dtype,
        )


def chunk_starts(frames: int, chunk_frames: int, overlap_frames: int) -> list[int]:
    """First frames of the chunks covering `frames`, each overlapping the previous one by
    `overlap_frames` (the last chunk may be shorter, but never shorter than the overlap)."""
    starts = [0]
    while starts[-1] + chunk_frames < frames:
        starts.append(starts[-1] + chunk_frames - overlap_frames)
    return starts


def crossfade_append(audio: Tensor, chunk: Tensor, overlap: int) -> Tensor:
    """`audio` [B, N] followed by `chunk` [B, M] that shares its first `overlap` samples with
    the end of `audio`. Near its own edge a chunk lacks context (the upsampling kernel spans
    four frames, a coupling network sees 255 groups = 8 frames either side), so each keeps a
    quarter of the overlap to itself and the middle half fades linearly from `audio` to
    `chunk`: with the default 32-frame overlap every sample used is at least 8 frames from the
    edge of the chunk it comes from."""
    margin = overlap // 4
    fade = overlap - 2 * margin
    if fade == 0:
        return torch.cat([audio[:, : audio.size(1) - margin], chunk[:, margin:]], 1)
    fade_in = (torch.arange(fade, device=audio.device) + 0.5) / fade
    fade_start = audio.size(1) - overlap + margin
    mixed = audio[:, fade_start : fade_start + fade] * (1.0 - fade_in)
    mixed += chunk[:, margin : margin + fade] * fade_in
    return torch.cat([audio[:, :fade_start], mixed, chunk[:, margin + fade :]], 1)
