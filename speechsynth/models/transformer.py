"""The feed-forward transformer (FFT) of FastPitch and FastSpeech: one implementation, two dialects.

A stack of post-LayerNorm blocks, each
  multi-head self-attention (q, k, v from one Linear) -> output projection -> dropout
  -> residual + LayerNorm -> zero the padded frames
  -> Conv1d -> ReLU -> Conv1d -> dropout -> residual + LayerNorm -> zero the padded frames,
after adding sinusoidal positions to the input (and, for FastPitch, embedding dropout).

Parameter names are NVIDIA FastPitch's (`fastpitch/transformer.py`): `word_emb`, `pos_emb.inv_freq`,
`layers.N.dec_attn.{qkv_net,o_net,layer_norm}`, `layers.N.pos_ff.{CoreNet.0,CoreNet.2,layer_norm}`.
NVIDIA FastSpeech's FFTBlocks (`fastspeech/model/module.py`) is the same network with other names
(renamed by `speechsynth.models.fastspeech`) and these differences, all options here:

- `qkv_layout`: "chunked" (FastPitch: q of all heads, then k, then v) or "per_head"
  (FastSpeech: per head q, k, v);
- `positions`: "concatenated" (FastPitch: [sin | cos] halves of p * inv_freq, positions 0, 1, ..,
  from the saved buffer `inv_freq`) or "table" (FastSpeech: a frozen, saved [max_len + 1, d]
  table, interleaved sin / cos, row 0 for padding, positions 1, 2, ...);
- `mask_value` for padded keys: -inf (FastPitch) or -65504, fp16's lowest (FastSpeech);
- `output_bias`: FastPitch's o_net has no bias, FastSpeech's fc has one;
- embedding dropout `dropemb`: FastPitch only (0.0 in every recipe).

Both scale attention scores by 1/sqrt(d_head) (FastSpeech divides by 8.0 for its fixed d_k = 64,
which multiplying by 0.125 reproduces exactly) and mask only padded keys. Padded frames of the
output are zero. NVIDIA's valid frames still depend on how much padding follows them (the
feed-forward's ReLU(bias) in padded frames reaches the last valid frame through the second
convolution); `padding_invariant=True` zeroes them in between, so that a padded batch item gets
the output it would get alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.fx.experimental.symbolic_shapes import guard_or_false

from speechsynth.models.masks import mask_from_lengths

QKV_LAYOUTS = ("chunked", "per_head")
POSITION_KINDS = ("concatenated", "table")


class ConcatenatedSinusoids(nn.Module):
    """FastPitch's positions: [sin(p * inv_freq) | cos(p * inv_freq)] for p = 0, 1, ...;
    `inv_freq = 1 / 10000^(2i / d)` is a (saved) buffer, as in NVIDIA's checkpoints."""

    def __init__(self, d_model: int):
        super().__init__()
        inv_freq = 1 / (10000 ** (torch.arange(0.0, d_model, 2.0) / d_model))
        self.register_buffer("inv_freq", inv_freq)

    def forward(self, length: int, dtype: torch.dtype) -> Tensor:
        """-> [1, length, d_model], computed in the buffer's precision and then cast to `dtype`.

        The angles must not be computed in bfloat16 (8-bit mantissa): position 600 would be off
        by up to 2 and its angle by radians, scrambling every frame's position (mels ~10 % off).
        A low-precision copy of the model therefore keeps this module in fp32."""
        positions = torch.arange(length, device=self.inv_freq.device).to(self.inv_freq.dtype)
        angles = torch.matmul(positions.unsqueeze(-1), self.inv_freq.unsqueeze(0))
        return torch.cat([angles.sin(), angles.cos()], dim=1).unsqueeze(0).to(dtype)


def interleaved_sinusoid_table(rows: int, d_model: int) -> Tensor:
    """FastSpeech's table: row p, column i = sin / cos (even / odd i) of p / 10000^(2 (i // 2) / d),
    computed in float64 as NVIDIA's numpy code; row 0 (padding) is zero."""
    positions = torch.arange(rows, dtype=torch.float64).unsqueeze(1)
    exponents = 2 * (torch.arange(d_model) // 2).to(torch.float64) / d_model
    angles = positions / torch.pow(10000.0, exponents).unsqueeze(0)
    table = torch.empty_like(angles)
    table[:, 0::2] = angles[:, 0::2].sin()
    table[:, 1::2] = angles[:, 1::2].cos()
    table[0] = 0.0
    return table.float()


class SinusoidTable(nn.Module):
    """FastSpeech's frozen position table as a (saved) buffer `weight` [max_positions + 1, d]."""

    def __init__(self, max_positions: int, d_model: int):
        super().__init__()
        self.register_buffer("weight", interleaved_sinusoid_table(max_positions + 1, d_model))

    def forward(self, length: int, dtype: torch.dtype) -> Tensor:
        """-> [1, length, d_model]: rows 1..length (the caller zeroes padded frames)."""
        if length >= self.weight.size(0):
            raise ValueError(
                f"{length} positions exceed the table's {self.weight.size(0) - 1} (max_seq_len)"
            )
        return self.weight[1 : length + 1].to(dtype).unsqueeze(0)


class MultiHeadSelfAttention(nn.Module):
    def __init__(
        self,
        n_head: int,
        d_model: int,
        d_head: int,
        dropout: float,
        dropatt: float,
        qkv_layout: str = "chunked",
        mask_value: float = -math.inf,
        output_bias: bool = False,
    ):
        super().__init__()
        if qkv_layout not in QKV_LAYOUTS:
            raise ValueError(f"qkv_layout must be one of {QKV_LAYOUTS}, got {qkv_layout!r}")
        self.n_head, self.d_head = n_head, d_head
        self.scale = 1 / (d_head**0.5)
        self.qkv_layout, self.mask_value = qkv_layout, mask_value
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=output_bias)
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, key_padding: Tensor) -> Tensor:
        """x [B, T, d_model], key_padding [B, T] bool (True = padded) -> [B, T, d_model]."""
        batch, length, _ = x.shape
        q, k, v = self._heads(self.qkv_net(x))
        scores = torch.bmm(q, k.transpose(1, 2)) * self.scale
        mask = key_padding.unsqueeze(1).repeat(self.n_head, length, 1)
        scores = scores.masked_fill(mask, self.mask_value)
        probs = self.dropatt(F.softmax(scores, dim=2))
        heads = torch.bmm(probs, v).view(self.n_head, batch, length, self.d_head)
        heads = heads.permute(1, 2, 0, 3).reshape(batch, length, self.n_head * self.d_head)
        return self.layer_norm(x + self.drop(self.o_net(heads)))

    def _heads(self, qkv: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """[B, T, 3 H Dh] -> q, k, v, each [H * B, T, Dh] (head-major)."""
        batch, length, _ = qkv.shape
        if self.qkv_layout == "chunked":
            parts = [p.view(batch, length, self.n_head, self.d_head) for p in qkv.chunk(3, dim=2)]
        else:
            grouped = qkv.view(batch, length, self.n_head, 3 * self.d_head)
            parts = list(grouped.split(self.d_head, dim=3))
        heads = self.n_head * batch  # not -1: T may be a data-dependent size in an export
        q, k, v = (p.permute(2, 0, 1, 3).reshape(heads, length, self.d_head) for p in parts)
        return q, k, v


class PositionwiseConvFF(nn.Module):
    def __init__(self, d_model: int, d_inner: int, kernel_size: int, dropout: float):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"the FFT convolution kernel must be odd, got {kernel_size}")
        padding = kernel_size // 2
        self.CoreNet = nn.Sequential(  # NVIDIA's name
            nn.Conv1d(d_model, d_inner, kernel_size, 1, padding),
            nn.ReLU(),
            nn.Conv1d(d_inner, d_model, kernel_size, 1, padding),
            nn.Dropout(dropout),
        )
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, hidden_mask: Tensor | None = None) -> Tensor:
        """x [B, T, d]; `hidden_mask` [B, T, 1] zeroes padded frames between the convolutions
        (NVIDIA does not: ReLU(bias) there reaches the last valid frame through the second)."""
        conv1, relu, conv2, dropout = self.CoreNet
        hidden = relu(conv1(x.transpose(1, 2)))
        if hidden_mask is not None:
            hidden = hidden * hidden_mask.transpose(1, 2)
        return self.layer_norm(x + dropout(conv2(hidden)).transpose(1, 2))


class TransformerLayer(nn.Module):
    def __init__(self, attention: MultiHeadSelfAttention, feed_forward: PositionwiseConvFF):
        super().__init__()
        self.dec_attn = attention
        self.pos_ff = feed_forward

    def forward(self, x: Tensor, mask: Tensor, padding_invariant: bool = False) -> Tensor:
        """x [B, T, d], mask [B, T, 1] bool (True = valid)."""
        x = self.dec_attn(x, ~mask.squeeze(2)) * mask
        return self.pos_ff(x, mask if padding_invariant else None) * mask


class FFTransformer(nn.Module):
    """`n_layer` FFT blocks over [B, T, d_model] inputs (or symbol ids when `n_embed` is set)."""

    def __init__(
        self,
        n_layer: int,
        n_head: int,
        d_model: int,
        d_head: int,
        d_inner: int,
        kernel_size: int,
        dropout: float,
        dropatt: float,
        dropemb: float = 0.0,
        n_embed: int | None = None,
        padding_idx: int = 0,
        qkv_layout: str = "chunked",
        positions: str = "concatenated",
        max_positions: int = 2048,
        mask_value: float = -math.inf,
        output_bias: bool = False,
    ):
        super().__init__()
        if positions not in POSITION_KINDS:
            raise ValueError(f"positions must be one of {POSITION_KINDS}, got {positions!r}")
        self.word_emb = (
            None if n_embed is None else nn.Embedding(n_embed, d_model, padding_idx=padding_idx)
        )
        self.pos_emb: nn.Module = (
            ConcatenatedSinusoids(d_model)
            if positions == "concatenated"
            else SinusoidTable(max_positions, d_model)
        )
        self.drop = nn.Dropout(dropemb)
        self.layers = nn.ModuleList(
            TransformerLayer(
                MultiHeadSelfAttention(
                    n_head, d_model, d_head, dropout, dropatt, qkv_layout, mask_value, output_bias
                ),
                PositionwiseConvFF(d_model, d_inner, kernel_size, dropout),
            )
            for _ in range(n_layer)
        )

    def forward(
        self,
        inputs: Tensor,
        lengths: Tensor,
        conditioning: Tensor | float = 0.0,
        padding_invariant: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """inputs [B, T] ids (with an embedding) or [B, T, d_model]; lengths [B];
        `conditioning` (e.g. a speaker embedding [B, 1, d]) is added to every frame.
        `padding_invariant`: each item's output is what it would be alone (NVIDIA's is not:
        see `PositionwiseConvFF`); off, the float operations are exactly NVIDIA's.

        -> (output [B, T, d_model] with zero padded frames, mask [B, T, 1] bool).
        """
        x = inputs if self.word_emb is None else self.word_emb(inputs)
        mask = mask_from_lengths(lengths, x.size(1)).unsqueeze(2)
        # Nothing to attend to (convolutions reject empty inputs). guard_or_false: an exported
        # graph, whose T is data-dependent, takes the non-empty path.
        if guard_or_false(x.size(1) == 0):
            return x, mask
        positions = self.pos_emb(x.size(1), x.dtype) * mask
        x = self.drop(x + positions + conditioning)
        for layer in self.layers:
            x = layer(x, mask, padding_invariant)
        return x, mask
