"""The shared FFT transformer in both dialects: padding, positions, q/k/v layouts, masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from speechsynth.models.transformer import (
    ConcatenatedSinusoids,
    FFTransformer,
    MultiHeadSelfAttention,
    interleaved_sinusoid_table,
)

FASTSPEECH_DIALECT = {
    "qkv_layout": "per_head",
    "positions": "table",
    "max_positions": 64,
    "mask_value": -65504.0,
    "output_bias": True,
}


def small_transformer(**options) -> FFTransformer:
    torch.manual_seed(0)
    return FFTransformer(2, 2, 16, 8, 32, 3, 0.1, 0.1, **options).eval()


@pytest.mark.parametrize("dialect", [{"n_embed": 10}, FASTSPEECH_DIALECT], ids=["fp", "fs"])
def test_a_padded_batch_item_equals_the_item_alone(dialect):
    model = small_transformer(**dialect)
    generator = torch.Generator().manual_seed(1)
    if "n_embed" in dialect:
        inputs = torch.randint(1, 10, (2, 9), generator=generator)
        inputs[1, 5:] = 0
    else:
        inputs = torch.randn(2, 9, 16, generator=generator)
        inputs[1, 5:] = 123.0  # garbage in padded frames must not leak
    lengths = torch.tensor([9, 5])
    with torch.no_grad():
        batch, mask = model(inputs, lengths, padding_invariant=True)
        alone, _ = model(inputs[1:2, :5], lengths[1:], padding_invariant=True)
        nvidia, _ = model(inputs, lengths)  # NVIDIA's ops: the padding leaks into the item
    assert torch.allclose(batch[1, :5], alone[0], atol=1e-6)
    assert not torch.allclose(nvidia[1, :5], alone[0], atol=1e-3)
    assert torch.equal(batch[0], nvidia[0])  # nothing changes for an unpadded item
    assert torch.equal(batch[1, 5:], torch.zeros(4, 16))
    assert mask[:, :, 0].tolist() == [[True] * 9, [True] * 5 + [False] * 4]


def test_concatenated_sinusoids_are_sin_then_cos():
    positions = ConcatenatedSinusoids(8)(5, torch.float32)[0]
    p, i = np.arange(5)[:, None], np.arange(4)[None, :]
    angles = p / 10000 ** (2 * i / 8)
    expected = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    assert np.allclose(positions.numpy(), expected, atol=1e-6)


def test_interleaved_table_has_a_zero_padding_row_and_alternates_sin_cos():
    table = interleaved_sinusoid_table(6, 8).numpy()
    p, i = np.arange(6)[:, None], np.arange(8)[None, :]
    angles = p / np.power(10000, 2 * (i // 2) / 8)
    expected = np.where(i % 2 == 0, np.sin(angles), np.cos(angles))
    expected[0] = 0.0
    assert np.allclose(table, expected, atol=1e-7)


def test_the_two_qkv_layouts_are_the_same_attention_with_permuted_weights():
    torch.manual_seed(0)
    heads, d_head = 2, 4
    chunked = MultiHeadSelfAttention(heads, 8, d_head, 0.0, 0.0, "chunked").eval()
    per_head = MultiHeadSelfAttention(heads, 8, d_head, 0.0, 0.0, "per_head").eval()
    # chunked rows: [part][head][d]; per-head rows: [head][part][d]
    order = torch.arange(3 * heads * d_head).view(3, heads, d_head).transpose(0, 1).reshape(-1)
    with torch.no_grad():
        per_head.qkv_net.weight.copy_(chunked.qkv_net.weight[order])
        per_head.qkv_net.bias.copy_(chunked.qkv_net.bias[order])
        per_head.o_net.weight.copy_(chunked.o_net.weight)
        x = torch.randn(2, 5, 8)
        padding = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
        assert torch.allclose(chunked(x, padding), per_head(x, padding), atol=1e-6)


def test_mask_values_agree_and_padded_keys_get_no_weight():
    torch.manual_seed(0)
    attention = MultiHeadSelfAttention(1, 8, 8, 0.0, 0.0, mask_value=-math.inf).eval()
    x = torch.randn(1, 6, 8)
    padding = torch.tensor([[False] * 4 + [True] * 2])
    with torch.no_grad():
        reference = attention(x, padding)
        attention.mask_value = -65504.0
        assert torch.equal(attention(x, padding), reference)
        changed = x.clone()
        changed[0, 4:] = 50.0  # padded keys/values: no effect on the valid frames
        assert torch.allclose(attention(changed, padding)[0, :4], reference[0, :4], atol=1e-6)


def test_empty_input_and_bad_options():
    model = small_transformer()
    out, mask = model(torch.zeros(2, 0, 16), torch.tensor([0, 0]))
    assert out.shape == (2, 0, 16) and mask.shape == (2, 0, 1)
    with pytest.raises(ValueError, match="qkv_layout"):
        small_transformer(qkv_layout="mixed")
    with pytest.raises(ValueError, match="positions"):
        small_transformer(positions="learned")
    with pytest.raises(ValueError, match="max_seq_len"):
        small_transformer(**FASTSPEECH_DIALECT)(torch.zeros(1, 65, 16), torch.tensor([65]))
