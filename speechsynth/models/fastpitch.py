"""FastPitch 1.0 and 1.1 as in NVIDIA DeepLearningExamples: same parameter names, same float ops.

`FastPitch(config).state_dict()` has exactly the keys of NVIDIA's `FastPitch(**config)` of the
matching version (1.0 = commit d057babe, 1.1 = HEAD; 1.1 with the learned aligner's `attention.*`
and, with energy conditioning, `energy_*`), so NVIDIA checkpoints load strictly and outputs match
NVIDIA's to float rounding.

The network: symbols -> FFT encoder -> duration, pitch (and energy) predictors; the pitch (and
energy) values per symbol, through a Conv1d embedding, are added to the encoder output; the
length regulator repeats each symbol's vector for its frames; FFT decoder -> Linear -> mel.

The two versions differ only in options of `FastPitchConfig` (`FastPitchConfig.from_nvidia` picks
them from an NVIDIA config dict):
- `duration_rounding`: "half_even" (1.0, `torch.round(d / pace)`) or "half_up" (1.1,
  `long(d / pace + 0.5)`);
- `pitch_formant_axis`: pitch tensors are [B, L] (1.0) or [B, formants=1, L] (1.1);
- `learned_aligner`: 1.1 learns durations from the mels (`attention.*`, MAS); 1.0 trains with a
  teacher's durations (`forward(..., durations=...)`) and has no aligner weights;
- `energy_conditioning` (NVIDIA's 1.1 kwarg): predicts and embeds log(1 + mean frame energy).

Deliberate differences from NVIDIA:
- the encoder masks symbols past `text_lengths` (NVIDIA masks symbols equal to `padding_idx`;
  the same for right-padded batches);
- with several attention heads, 1.0's head/batch ordering bug is not reproduced (HEAD's layout
  is used; NVIDIA's FastPitch recipes have one head, where both are the same);
- `forward` averages pitch / energy per symbol through the hard alignment (a matmul) instead of
  NVIDIA's cumulative sums: the same values up to float rounding;
- an empty decoder input (all durations round to 0) gives an empty mel instead of an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.aligner import (
    ConvAttention,
    alignment_from_durations,
    average_over_alignment,
    binarize_attention,
    durations_from_alignment,
)
from speechsynth.models.configs import ModelConfig, refuse_unknown_keys
from speechsynth.models.length_regulator import ROUNDING_MODES, regulate_length
from speechsynth.models.masks import mask_from_lengths
from speechsynth.models.temporal_predictor import TemporalPredictor
from speechsynth.models.transformer import FFTransformer

PitchTransform = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
"""`(pitch_normalised, text_lengths, mean_hz, std_hz) -> pitch_normalised`, as NVIDIA's
`inference.py build_pitch_transformation` lambdas."""

# LJSpeech's pitch statistics as NVIDIA publishes them for FastPitch 1.1 (train.py --pitch-mean /
# --pitch-std defaults, pyin F0): training normalises with them when a corpus has none, and
# inference uses them for a model whose pitch_std buffer is 0 (NVIDIA's inference.py hard-codes
# 218.14 / 67.24 for that case: only such a model, never trained with pitch, would differ).
LJSPEECH_PITCH_MEAN, LJSPEECH_PITCH_STD = 214.72203, 65.72038
NVIDIA_10_ONLY_KEYS = ("max_seq_len",)
NVIDIA_10_KWARGS = (  # FastPitch 1.0's constructor arguments (commit d057babe)
    "n_mel_channels", "max_seq_len", "n_symbols", "symbols_embedding_dim",
    "in_fft_n_layers", "in_fft_n_heads", "in_fft_d_head", "in_fft_conv1d_kernel_size",
    "in_fft_conv1d_filter_size", "in_fft_output_size",
    "p_in_fft_dropout", "p_in_fft_dropatt", "p_in_fft_dropemb",
    "out_fft_n_layers", "out_fft_n_heads", "out_fft_d_head", "out_fft_conv1d_kernel_size",
    "out_fft_conv1d_filter_size", "out_fft_output_size",
    "p_out_fft_dropout", "p_out_fft_dropatt", "p_out_fft_dropemb",
    "dur_predictor_kernel_size", "dur_predictor_filter_size", "p_dur_predictor_dropout",
    "dur_predictor_n_layers", "pitch_predictor_kernel_size", "pitch_predictor_filter_size",
    "p_pitch_predictor_dropout", "pitch_predictor_n_layers",
)  # fmt: skip
NVIDIA_11_ONLY_KEYS = ("padding_idx", "pitch_embedding_kernel_size", "energy_conditioning")
OWN_OPTIONS = ("duration_rounding", "pitch_formant_axis", "learned_aligner")
ALIGNER_SIGNATURE_KEY = "attention.key_proj.0.conv.weight"


@dataclass
class FastPitchConfig(ModelConfig):
    """NVIDIA's `FastPitch(**kwargs)` arguments of both versions (published defaults: d_model 384,
    6 + 6 layers, 1 head of 64, FFT filter 1536, predictor filters 256), plus the version options.

    `max_seq_len` (1.0 only) is accepted and unused, as in NVIDIA's code.
    """

    model_label: ClassVar[str] = "FastPitch"

    n_mel_channels: int = 80
    n_symbols: int = 148
    padding_idx: int = 0
    symbols_embedding_dim: int = 384
    in_fft_n_layers: int = 6
    in_fft_n_heads: int = 1
    in_fft_d_head: int = 64
    in_fft_conv1d_kernel_size: int = 3
    in_fft_conv1d_filter_size: int = 1536
    in_fft_output_size: int = 384
    p_in_fft_dropout: float = 0.1
    p_in_fft_dropatt: float = 0.1
    p_in_fft_dropemb: float = 0.0
    out_fft_n_layers: int = 6
    out_fft_n_heads: int = 1
    out_fft_d_head: int = 64
    out_fft_conv1d_kernel_size: int = 3
    out_fft_conv1d_filter_size: int = 1536
    out_fft_output_size: int = 384
    p_out_fft_dropout: float = 0.1
    p_out_fft_dropatt: float = 0.1
    p_out_fft_dropemb: float = 0.0
    dur_predictor_kernel_size: int = 3
    dur_predictor_filter_size: int = 256
    p_dur_predictor_dropout: float = 0.1
    dur_predictor_n_layers: int = 2
    pitch_predictor_kernel_size: int = 3
    pitch_predictor_filter_size: int = 256
    p_pitch_predictor_dropout: float = 0.1
    pitch_predictor_n_layers: int = 2
    pitch_embedding_kernel_size: int = 3
    pitch_conditioning_formants: int = 1
    energy_conditioning: bool = False
    energy_predictor_kernel_size: int = 3
    energy_predictor_filter_size: int = 256
    p_energy_predictor_dropout: float = 0.1
    energy_predictor_n_layers: int = 2
    energy_embedding_kernel_size: int = 3
    n_speakers: int = 1
    speaker_emb_weight: float = 1.0
    max_seq_len: int = 2048
    # Not NVIDIA kwargs: what tells FastPitch 1.0 and 1.1 apart (defaults: 1.1).
    duration_rounding: str = "half_up"  # "half_even" for FastPitch 1.0
    pitch_formant_axis: bool = True  # False: FastPitch 1.0's [B, L] pitch
    learned_aligner: bool = True  # False: FastPitch 1.0 (teacher durations), no attention.*

    def __post_init__(self) -> None:
        if self.duration_rounding not in ROUNDING_MODES:
            raise SpeechSynthError(
                f"FastPitch duration_rounding={self.duration_rounding!r}: "
                f"choose one of {', '.join(ROUNDING_MODES)}"
            )
        if not self.pitch_formant_axis and self.pitch_conditioning_formants != 1:
            raise SpeechSynthError(
                "FastPitch pitch_formant_axis=false (1.0's [B, L] pitch) needs "
                f"pitch_conditioning_formants=1, got {self.pitch_conditioning_formants}"
            )
        for name in ("pitch_embedding_kernel_size", "energy_embedding_kernel_size"):
            if getattr(self, name) % 2 != 1:
                raise SpeechSynthError(f"FastPitch {name} must be odd, got {getattr(self, name)}")

    @classmethod
    def from_nvidia(
        cls, values: Mapping[str, Any] | None, state_dict: Mapping[str, Tensor] | None = None
    ) -> FastPitchConfig:
        """From an NVIDIA checkpoint's `config` (FastPitch(**kwargs)) of either version.

        1.0 configs have `max_seq_len` and none of 1.1's `padding_idx`, `energy_conditioning`,
        `pitch_embedding_kernel_size`: they get half-to-even rounding, [B, L] pitch and no
        aligner. 1.1 configs get the aligner when `state_dict` holds its weights (NVIDIA's
        checkpoints do; its loader also accepts them without), or when there is no state_dict.
        """
        values = dict(values or {})
        refuse_unknown_keys(cls, values, "NVIDIA FastPitch")
        if is_nvidia_10_config(values):
            options = {
                "duration_rounding": "half_even",
                "pitch_formant_axis": False,
                "learned_aligner": False,
            }
        else:
            has_aligner = state_dict is None or ALIGNER_SIGNATURE_KEY in state_dict
            options = {"learned_aligner": has_aligner}
        return cls(**{**values, **options})

    def nvidia_kwargs(self) -> dict[str, Any]:
        """The config as NVIDIA's constructor of the matching version takes it."""
        values = asdict(self)
        if is_nvidia_10_style(self):
            return {name: values[name] for name in NVIDIA_10_KWARGS}
        dropped = {*OWN_OPTIONS, *NVIDIA_10_ONLY_KEYS}
        if self.pitch_conditioning_formants == 1:  # not in NVIDIA's models.py config
            dropped.add("pitch_conditioning_formants")
        return {name: value for name, value in values.items() if name not in dropped}


def is_nvidia_10_config(values: Mapping[str, Any]) -> bool:
    return any(key in values for key in NVIDIA_10_ONLY_KEYS) and not any(
        key in values for key in NVIDIA_11_ONLY_KEYS
    )


def is_nvidia_10_style(config: FastPitchConfig) -> bool:
    return not config.pitch_formant_axis and not config.learned_aligner


class FastPitchInference(NamedTuple):
    mels: Tensor  # [B, n_mels, T] (NVIDIA's infer permutes for inference.py)
    mel_lengths: Tensor  # [B] int64
    durations_pred: Tensor  # [B, L] frames, before rounding and pace (NVIDIA's dur_pred)
    pitch_pred: Tensor  # normalised, after pitch_transform: [B, 1, L] (1.1) or [B, L] (1.0)
    energy_pred: Tensor | None  # [B, L] log(1 + energy), None without energy or when given


class FastPitchOutput(NamedTuple):
    """The training forward's outputs, in NVIDIA's order."""

    mel_out: Tensor  # [B, T, n_mels] (not transposed); T <= the target mels' length
    dec_mask: Tensor  # [B, T, 1] bool
    dur_pred: Tensor  # [B, L] clamp(exp(log_dur_pred) - 1, 0, max_duration)
    log_dur_pred: Tensor  # [B, L]
    pitch_pred: Tensor  # [B, 1, L] (1.1) or [B, L] (1.0), normalised
    pitch_tgt: Tensor  # same shape: the per-symbol targets the embedding saw
    energy_pred: Tensor | None  # [B, L]
    energy_tgt: Tensor | None  # [B, L] log(1 + per-symbol mean energy)
    attn_soft: Tensor | None  # [B, 1, T_mel, L] (learned aligner only)
    attn_hard: Tensor | None  # [B, 1, T_mel, L] MAS
    attn_hard_dur: Tensor | None  # [B, L] frames per symbol (float)
    attn_logprob: Tensor | None  # [B, 1, T_mel, L]


class _Encoded(NamedTuple):
    out: Tensor  # [B, L, d] encoder output
    mask: Tensor  # [B, L, 1] bool
    log_dur_pred: Tensor  # [B, L]
    dur_pred: Tensor  # [B, L]
    pitch_pred: Tensor  # [B, F, L] or [B, L]


class FastPitch(nn.Module):
    def __init__(self, config: FastPitchConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = FFTransformer(
            c.in_fft_n_layers,
            c.in_fft_n_heads,
            c.symbols_embedding_dim,
            c.in_fft_d_head,
            c.in_fft_conv1d_filter_size,
            c.in_fft_conv1d_kernel_size,
            c.p_in_fft_dropout,
            c.p_in_fft_dropatt,
            c.p_in_fft_dropemb,
            n_embed=c.n_symbols,
            padding_idx=c.padding_idx,
        )
        self.speaker_emb = (
            nn.Embedding(c.n_speakers, c.symbols_embedding_dim) if c.n_speakers > 1 else None
        )
        self.duration_predictor = self._predictor("dur_predictor", "p_dur_predictor_dropout")
        self.decoder = FFTransformer(
            c.out_fft_n_layers,
            c.out_fft_n_heads,
            c.symbols_embedding_dim,
            c.out_fft_d_head,
            c.out_fft_conv1d_filter_size,
            c.out_fft_conv1d_kernel_size,
            c.p_out_fft_dropout,
            c.p_out_fft_dropatt,
            c.p_out_fft_dropemb,
        )
        formants = c.pitch_conditioning_formants
        self.pitch_predictor = self._predictor(
            "pitch_predictor", "p_pitch_predictor_dropout", formants
        )
        self.pitch_emb = self._embedding(formants, c.pitch_embedding_kernel_size)
        self.register_buffer("pitch_mean", torch.zeros(1))
        self.register_buffer("pitch_std", torch.zeros(1))
        if c.energy_conditioning:
            self.energy_predictor = self._predictor(
                "energy_predictor", "p_energy_predictor_dropout"
            )
            self.energy_emb = self._embedding(1, c.energy_embedding_kernel_size)
        self.proj = nn.Linear(c.out_fft_output_size, c.n_mel_channels)
        if c.learned_aligner:
            self.attention = ConvAttention(c.n_mel_channels, c.symbols_embedding_dim)

    def _predictor(self, name: str, dropout_name: str, outputs: int = 1) -> TemporalPredictor:
        c = self.config
        return TemporalPredictor(
            c.in_fft_output_size,
            getattr(c, f"{name}_filter_size"),
            getattr(c, f"{name}_kernel_size"),
            getattr(c, dropout_name),
            getattr(c, f"{name}_n_layers"),
            outputs,
        )

    def _embedding(self, channels: int, kernel_size: int) -> nn.Conv1d:
        return nn.Conv1d(
            channels,
            self.config.symbols_embedding_dim,
            kernel_size,
            padding=(kernel_size - 1) // 2,
        )

    # ------------------------------------------------------------------------------- inference

    @torch.no_grad()
    def infer(
        self,
        text: Tensor,
        text_lengths: Tensor,
        pace: float = 1.0,
        durations: Tensor | None = None,
        pitch: Tensor | None = None,
        energy: Tensor | None = None,
        pitch_transform: PitchTransform | None = None,
        max_duration: float = 75,
        speaker: Tensor | int | None = None,
        padding_invariant: bool = True,
    ) -> FastPitchInference:
        """Mel spectrograms from symbol ids, as NVIDIA's `FastPitch.infer`.

        text [B, L] int (right-padded), text_lengths [B]; `pace` > 1 speaks faster (durations
        are divided by it). `durations` [B, L] frames, `pitch` (normalised; [B, L] or
        [B, formants, L]) and `energy` ([B, L] or [B, 1, L]) replace the predictions when given.
        `pitch_transform` edits the predicted pitch (not a given one) before it is embedded.
        `padding_invariant` (default): each utterance gets the output it would get alone;
        False: NVIDIA's float operations, where a padded utterance's output depends (slightly,
        mostly at its end) on how much padding follows it. Batch-1 results are the same.
        """
        invariant = padding_invariant
        enc = self._encode(text, text_lengths, speaker, max_duration, invariant)
        pitch_pred = enc.pitch_pred
        if pitch_transform is not None:
            mean, std = self._pitch_statistics()
            pitch_pred = pitch_transform(pitch_pred, text_lengths, mean, std)
        embed_mask = enc.mask if invariant else None
        pitch_values = pitch_pred if pitch is None else pitch
        enc_out = enc.out + self._embed(self.pitch_emb, pitch_values, embed_mask)
        energy_pred = None
        if self.config.energy_conditioning:
            if energy is None:
                energy_pred = self._predict(self.energy_predictor, enc_out, enc.mask, invariant)
            energy_values = energy_pred if energy is None else energy
            enc_out = enc_out + self._embed(self.energy_emb, energy_values, embed_mask)
        frames, mel_lengths = regulate_length(
            enc_out,
            enc.dur_pred if durations is None else durations,
            pace=pace,
            rounding=self.config.duration_rounding,
        )
        mel_out = self._decode(frames, mel_lengths, invariant)[0]
        return FastPitchInference(
            mel_out.transpose(1, 2), mel_lengths, enc.dur_pred, pitch_pred, energy_pred
        )

    # -------------------------------------------------------------------------------- training

    def forward(
        self,
        text: Tensor,
        text_lengths: Tensor,
        mels: Tensor,
        mel_lengths: Tensor,
        pitch: Tensor,
        energy: Tensor | None = None,
        durations: Tensor | None = None,
        attn_prior: Tensor | None = None,
        speaker: Tensor | int | None = None,
        max_duration: float = 75,
        padding_invariant: bool = False,
    ) -> FastPitchOutput:
        """Training forward with target durations and pitch (NVIDIA's `forward`).

        text [B, L], text_lengths [B], mels [B, n_mels, T] (targets, padded), mel_lengths [B].
        - Learned aligner (1.1): `durations` must be None; they come from MAS on the mels
          (`attn_prior` [B, T, L]: the beta-binomial prior, or None). `pitch` is dense per frame
          [B, formants, T] and `energy` per frame [B, T] (L2 norm of each mel frame); both are
          averaged per symbol over the MAS durations, energy then as log(1 + mean).
        - Teacher durations (1.0): `durations` [B, L] int frames; `pitch` is per symbol ([B, L]
          or [B, formants, L]); `energy` (if conditioned) per frame [B, T], averaged as above.
          The attn_* outputs are None.
        `padding_invariant` as in `infer` (off by default here: NVIDIA's training).
        """
        invariant = padding_invariant
        enc = self._encode(text, text_lengths, speaker, max_duration, invariant)
        alignment = self._align(text, text_lengths, mels, mel_lengths, durations, attn_prior)
        attn_hard = alignment[1]
        if attn_hard is None:  # teacher durations
            pitch_tgt = self._pitch_layout(_with_channel_axis(pitch), formants=True)
        else:
            durations = alignment[2]
            pitch_tgt = average_over_alignment(_with_channel_axis(pitch), attn_hard)
            pitch_tgt = self._pitch_layout(pitch_tgt, formants=True)
        embed_mask = enc.mask if invariant else None
        enc_out = enc.out + self._embed(self.pitch_emb, pitch_tgt, embed_mask)
        energy_pred = energy_tgt = None
        if self.config.energy_conditioning:
            if energy is None:
                raise SpeechSynthError("FastPitch with energy_conditioning needs energy targets")
            if attn_hard is None:
                attn_hard = alignment_from_durations(durations, mels.size(2))
            energy_pred = self._predict(self.energy_predictor, enc_out, enc.mask, invariant)
            energy_tgt = torch.log(1.0 + average_over_alignment(energy.unsqueeze(1), attn_hard))
            enc_out = enc_out + self._embed(self.energy_emb, energy_tgt, embed_mask)
            energy_tgt = energy_tgt.squeeze(1)
        frames, dec_lengths = regulate_length(
            enc_out, durations, rounding=self.config.duration_rounding, max_frames=mels.size(2)
        )
        mel_out, dec_mask = self._decode(frames, dec_lengths, invariant)
        predictions = (enc.dur_pred, enc.log_dur_pred, enc.pitch_pred, pitch_tgt)
        predictions += (energy_pred, energy_tgt)
        return FastPitchOutput(mel_out, dec_mask, *predictions, *alignment)

    def _align(
        self,
        text: Tensor,
        text_lengths: Tensor,
        mels: Tensor,
        mel_lengths: Tensor,
        durations: Tensor | None,
        attn_prior: Tensor | None,
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, Tensor | None]:
        """-> (attn_soft, attn_hard, attn_hard_dur, attn_logprob), all None with durations."""
        if durations is not None:
            if self.config.learned_aligner:
                raise SpeechSynthError(
                    "FastPitch with learned_aligner=true takes its durations from the mels; "
                    "set model.learned_aligner=false to train with teacher durations"
                )
            return None, None, None, None
        if not self.config.learned_aligner:
            raise SpeechSynthError(
                "FastPitch with learned_aligner=false needs teacher durations (`prepare durations`)"
            )
        text_padding = ~mask_from_lengths(text_lengths, text.size(1))
        text_emb = self.encoder.word_emb(text).transpose(1, 2)
        attn_soft, attn_logprob = self.attention(mels, text_emb, text_padding, attn_prior)
        attn_hard = binarize_attention(attn_soft, text_lengths, mel_lengths)
        attn_hard_dur = durations_from_alignment(attn_hard)
        if not torch.equal(attn_hard_dur.sum(dim=1).long(), mel_lengths.long()):
            raise SpeechSynthError("alignment durations do not add up to the mel lengths")
        return attn_soft, attn_hard, attn_hard_dur, attn_logprob

    # ----------------------------------------------------------------------------------- parts

    def _encode(
        self,
        text: Tensor,
        text_lengths: Tensor,
        speaker: Tensor | int | None,
        max_duration: float,
        invariant: bool,
    ) -> _Encoded:
        conditioning = self._speaker(speaker, text)
        out, mask = self.encoder(text, text_lengths, conditioning, invariant)
        log_dur_pred = self._predict(self.duration_predictor, out, mask, invariant)
        dur_pred = torch.clamp(torch.exp(log_dur_pred) - 1, 0, max_duration)
        predicted_pitch = self.pitch_predictor(out, mask, invariant)
        return _Encoded(out, mask, log_dur_pred, dur_pred, self._pitch_layout(predicted_pitch))

    @staticmethod
    def _predict(predictor: nn.Module, out: Tensor, mask: Tensor, invariant: bool) -> Tensor:
        """A one-output predictor's values [B, L]."""
        return predictor(out, mask, invariant).squeeze(-1)

    def _speaker(self, speaker: Tensor | int | None, text: Tensor) -> Tensor | float:
        if self.speaker_emb is None:
            return 0.0
        ids = torch.as_tensor(0 if speaker is None else speaker, device=text.device).long()
        ids = ids.expand(text.size(0)) if ids.dim() == 0 else ids
        return self.speaker_emb(ids).unsqueeze(1) * self.config.speaker_emb_weight

    def _pitch_layout(self, values: Tensor, formants: bool = False) -> Tensor:
        """Predictor output [B, L, F] (or averaged targets [B, F, L] with `formants`) -> this
        version's pitch layout: [B, F, L] (1.1) or [B, L] (1.0)."""
        values = values if formants else values.transpose(1, 2)
        return values if self.config.pitch_formant_axis else values.squeeze(1)

    @staticmethod
    def _embed(embedding: nn.Conv1d, values: Tensor, mask: Tensor | None = None) -> Tensor:
        """Per-symbol values [B, L] or [B, C, L] -> [B, L, d] through a Conv1d embedding;
        with `mask` [B, L, 1], values of padded symbols count as 0 (as for an item alone)."""
        values = _with_channel_axis(values).to(embedding.weight.dtype)
        if mask is not None:
            values = values * mask.transpose(1, 2)
        return embedding(values).transpose(1, 2)

    def _pitch_statistics(self) -> tuple[Tensor, Tensor]:
        # torch.where, not `if`: an exported graph cannot branch on a buffer's value.
        untrained = self.pitch_std[0] == 0.0
        mean = torch.where(untrained, LJSPEECH_PITCH_MEAN, self.pitch_mean[0])
        return mean, torch.where(untrained, LJSPEECH_PITCH_STD, self.pitch_std[0])

    def _decode(self, frames: Tensor, lengths: Tensor, invariant: bool) -> tuple[Tensor, Tensor]:
        """frames [B, T, d], lengths [B] -> (mel [B, T, n_mels], mask [B, T, 1])."""
        dec_out, dec_mask = self.decoder(frames, lengths, padding_invariant=invariant)
        return self.proj(dec_out), dec_mask


def _with_channel_axis(values: Tensor) -> Tensor:
    """[B, L] -> [B, 1, L]; [B, C, L] unchanged."""
    return values.unsqueeze(1) if values.dim() == 2 else values
