"""Tacotron 2 to ONNX in NVIDIA's three parts: encoder, one decoder step, postnet.

The split, input / output names and shapes are those of NVIDIA's
`tensorrt/convert_tacotron22onnx.py`, so their host loops (ONNX Runtime, TensorRT, Triton) read
our files: `encoder.onnx` (text -> memory, processed_memory, lens), `decoder_iter.onnx` (one
autoregressive step, with the attention and LSTM states in and out) and `postnet.onnx`.
A `speechsynth_onnx.json` manifest beside them records the model config and text front end,
so `speechsynth synthesize --model DIR` runs the export with nothing else.

Prenet dropout, which NVIDIA keeps on at inference, is drawn inside the decoder graph as in
NVIDIA's export: one 256-wide keep-mask per layer and step, shared by the batch
(`prenet_dropout=False` exports the deterministic decoder the parity tests compare).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.export.onnx_files import (
    DEFAULT_OPSET,
    export_graph,
    model_manifest,
    staged_directory,
)
from speechsynth.models.export_manifest import MANIFEST_NAME, write_manifest
from speechsynth.models.masks import padding_mask
from speechsynth.models.registry import LoadedModel
from speechsynth.models.tacotron2 import DecoderState, Tacotron2

PART_FILES = {
    "encoder": "encoder.onnx",
    "decoder_iter": "decoder_iter.onnx",
    "postnet": "postnet.onnx",
}
ENCODER_INPUTS = ("sequences", "sequence_lengths")
ENCODER_OUTPUTS = ("memory", "processed_memory", "lens")
DECODER_INPUTS = (
    "decoder_input",
    "attention_hidden",
    "attention_cell",
    "decoder_hidden",
    "decoder_cell",
    "attention_weights",
    "attention_weights_cum",
    "attention_context",
    "memory",
    "processed_memory",
    "mask",
)
DECODER_OUTPUTS = (
    "decoder_output",
    "gate_prediction",
    "out_attention_hidden",
    "out_attention_cell",
    "out_decoder_hidden",
    "out_decoder_cell",
    "out_attention_weights",
    "out_attention_weights_cum",
    "out_attention_context",
)
POSTNET_INPUTS = ("mel_outputs",)
POSTNET_OUTPUTS = ("mel_outputs_postnet",)


class EncoderForExport(nn.Module):
    """Batch-1 encoder (as NVIDIA's export): no packing, the LSTM reads the whole text."""

    def __init__(self, model: Tacotron2):
        super().__init__()
        self.model = model

    def forward(self, sequences: Tensor, sequence_lengths: Tensor) -> tuple[Tensor, ...]:
        x = self.model.embedding(sequences).transpose(1, 2)
        for block in self.model.encoder.convolutions:
            x = F.relu(block(x))
        memory, _ = self.model.encoder.lstm(x.transpose(1, 2))
        processed_memory = self.model.decoder.attention_layer.memory_layer(memory)
        return memory, processed_memory, sequence_lengths * 2  # `lens`: NVIDIA's, unused


class DecoderIterForExport(nn.Module):
    """One decoder step, prenet included, with every state tensor as an input and output."""

    def __init__(self, model: Tacotron2, prenet_dropout: bool):
        super().__init__()
        self.decoder = model.decoder
        self.dropout = model.config.prenet_dropout if prenet_dropout else 0.0

    def forward(
        self,
        decoder_input: Tensor,
        attention_hidden: Tensor,
        attention_cell: Tensor,
        decoder_hidden: Tensor,
        decoder_cell: Tensor,
        attention_weights: Tensor,
        attention_weights_cum: Tensor,
        attention_context: Tensor,
        memory: Tensor,
        processed_memory: Tensor,
        mask: Tensor,
    ) -> tuple[Tensor, ...]:
        x = decoder_input
        for layer in self.decoder.prenet.layers:
            x = F.relu(layer(x))
            if self.dropout > 0:
                keep = (torch.rand(x.size(1), device=x.device) >= self.dropout).to(x.dtype)
                x = x * keep / (1.0 - self.dropout)
        state = DecoderState(
            attention_hidden,
            attention_cell,
            decoder_hidden,
            decoder_cell,
            attention_weights,
            attention_weights_cum,
            attention_context,
        )
        mel_frame, gate_logit, new_state = self.decoder.step(
            x, state, memory, processed_memory, mask
        )
        return (mel_frame, gate_logit, *new_state)


class PostnetForExport(nn.Module):
    def __init__(self, model: Tacotron2):
        super().__init__()
        self.postnet = model.postnet

    def forward(self, mel_outputs: Tensor) -> Tensor:
        return mel_outputs + self.postnet(mel_outputs)


def example_inputs(model: Tacotron2, text_length: int = 16) -> dict[str, tuple[Tensor, ...]]:
    """Inputs of the right shapes and dtypes for each part (batch 1)."""
    config = model.config
    sequences = torch.randint(1, config.n_symbols, (1, text_length))
    lengths = torch.tensor([text_length])
    with torch.no_grad():
        memory, processed_memory, _ = EncoderForExport(model)(sequences, lengths)
    state = model.decoder.initial_state(memory)
    decoder_inputs = (
        torch.zeros(1, config.n_mel_channels),
        *state,
        memory,
        processed_memory,
        padding_mask(lengths, text_length),
    )
    mels = torch.zeros(1, config.n_mel_channels, 24)
    return {"encoder": (sequences, lengths), "decoder_iter": decoder_inputs, "postnet": (mels,)}


def _dynamic_shapes() -> dict[str, dict[str, Any]]:
    text = torch.export.Dim("seq_len", min=2, max=8192)
    frames = torch.export.Dim("mel_len", min=8, max=65536)
    decoder = {name: None for name in DECODER_INPUTS}
    for name in (
        "attention_weights",
        "attention_weights_cum",
        "memory",
        "processed_memory",
        "mask",
    ):
        decoder[name] = {1: text}
    return {
        "encoder": {"sequences": {1: text}, "sequence_lengths": None},
        "decoder_iter": decoder,
        "postnet": {"mel_outputs": {2: frames}},
    }


def export_tacotron2(
    loaded: LoadedModel,
    output_dir: str | Path,
    prenet_dropout: bool = True,
    opset: int = DEFAULT_OPSET,
) -> dict[str, Any]:
    """Write the three ONNX parts and the manifest to `output_dir` (all or nothing)
    -> a summary: directory, files, opset, prenet_dropout."""
    if loaded.name != "tacotron2":
        raise SpeechSynthError(
            f"{loaded.source}: a {loaded.name} checkpoint; this export takes Tacotron 2"
        )
    model: Tacotron2 = loaded.model.float().eval()
    modules = {
        "encoder": (EncoderForExport(model), ENCODER_INPUTS, ENCODER_OUTPUTS),
        "decoder_iter": (
            DecoderIterForExport(model, prenet_dropout),
            DECODER_INPUTS,
            DECODER_OUTPUTS,
        ),
        "postnet": (PostnetForExport(model), POSTNET_INPUTS, POSTNET_OUTPUTS),
    }
    inputs, shapes = example_inputs(model), _dynamic_shapes()
    with staged_directory(output_dir, MANIFEST_NAME) as staging:
        for part, (module, input_names, output_names) in modules.items():
            export_graph(
                module,
                inputs[part],
                staging / PART_FILES[part],
                input_names,
                output_names,
                shapes[part],
                opset,
            )
        defaults = {
            "max_decoder_steps": model.config.max_decoder_steps,
            "gate_threshold": model.config.gate_threshold,
        }
        manifest = model_manifest(
            loaded, PART_FILES, opset, inference_defaults=defaults, prenet_dropout=prenet_dropout
        )
        write_manifest(staging, manifest)
    return {
        "directory": str(output_dir),
        "files": dict(PART_FILES),
        "opset": opset,
        "prenet_dropout": prenet_dropout,
    }
