"""Faster Tacotron 2 inference on CPU by lowering the precision of the decoder's weights.

A decoder step is memory-bandwidth bound: at the default size its two LSTM cells read about
72 MB of fp32 weights per step, which is far more than the cache holds. Options:

- "fp32": the model as it is (NVIDIA's numbers).
- "bf16": the whole model in bfloat16 (half the bytes; outputs are bfloat16).
- "int8": dynamic int8 quantization of the two decoder LSTM cells (per-tensor weight scales,
  activations quantized on the fly): 18 MB, which fits a large L3 cache. The rest of the model
  stays fp32, so inputs and outputs are unchanged.

Both lower precisions change the outputs slightly; `speechsynth bench tacotron2 --precision`
measures by how much (mel error against fp32) and how much faster a step gets.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.tacotron2 import Tacotron2

PRECISIONS = ("fp32", "bf16", "int8")


def prepare_for_inference(model: Tacotron2, precision: str = "fp32") -> Tacotron2:
    """`model` in eval mode for "fp32"; otherwise an inference-only copy at `precision`
    (the original is left as it is)."""
    if precision not in PRECISIONS:
        raise SpeechSynthError(
            f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}"
        )
    if precision == "fp32":
        return model.eval()
    if precision == "int8" and not isinstance(model, Tacotron2):
        raise SpeechSynthError(
            "int8 quantizes Tacotron 2's decoder LSTMs; use fp32 or bf16 for this model"
        )
    fast = copy.deepcopy(model).eval()
    if precision == "bf16":
        return fast.to(torch.bfloat16)
    quantize_decoder_lstms(fast)
    return fast


def quantize_decoder_lstms(model: Tacotron2) -> None:
    """Replace the decoder's LSTM cells by dynamically quantized int8 ones, in place."""
    engines = [engine for engine in torch.backends.quantized.supported_engines if engine != "none"]
    if not engines:
        raise SpeechSynthError("this torch build has no quantized engine: int8 is unavailable")
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; it still works in our torch pin.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        quantize_dynamic(model.decoder, {nn.LSTMCell}, dtype=torch.qint8, inplace=True)


def model_dtype(model: Tacotron2) -> torch.dtype:
    """The floating-point type the model computes in (what its mel inputs must be)."""
    return model.embedding.weight.dtype
