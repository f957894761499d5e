"""How a PyTorch acoustic model computes: fp32, bf16 (mixed), int8 (Tacotron 2), or "auto".

- "fp32": the model as it is (NVIDIA's numbers).
- "bf16": bfloat16 where it is safe, fp32 where it is not. FastPitch and FastSpeech run only
  the convolutions of their decoder's feed-forward blocks in bfloat16 (about 90 % of a call's
  arithmetic at 600 frames); the encoder, the duration / pitch / energy predictors, attention,
  positions, LayerNorms and residual sums stay fp32. So the durations are exactly fp32's (the
  whole path to them is untouched) and the mels stay within 0.3 % (relative RMS) of fp32's.
  A whole-model bfloat16 cast was 10 % off: the decoder's sinusoidal positions were computed
  in bfloat16 (position 600 rounds to a multiple of 4, its angles lose radians; now computed in
  fp32, `models.transformer.ConcatenatedSinusoids`), and attention energies from bfloat16
  queries and keys change which frames attend where (5 % after the first decoder layer).
  Tacotron 2 (and WaveGlow, `infer.vocoders`) are cast whole.
- "int8": dynamic int8 quantization of Tacotron 2's two decoder LSTM cells (per-tensor weight
  scales, activations quantized on the fly). A decoder step is memory-bandwidth bound: its LSTM
  cells read about 72 MB of fp32 weights per step, 18 MB in int8, which a large L3 cache holds.
  The rest of the model stays fp32, so inputs and outputs are unchanged.
  Asked for on a CPU without native bfloat16, it runs, emulated and many times slower than
  fp32 ("auto" never picks it there; vocoders refuse it, `refuse_slow_bf16`).
- "auto": the fastest of these that keeps a model's mels within 1 % of fp32 (durations
  identical) on the device at hand (`default_precision`).

`speechsynth bench MODEL --precision all` measures every option beside fp32 in one run.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.fastpitch import FastPitch
from speechsynth.models.fastspeech import FastSpeech
from speechsynth.models.tacotron2 import Tacotron2
from speechsynth.models.transformer import PositionwiseConvFF
from speechsynth.models.waveglow import WaveGlow

AUTO = "auto"
PRECISIONS = ("fp32", "bf16", "int8")

# network -> the modules whose feed-forward convolutions "bf16" runs in bfloat16; a network
# not listed is cast whole
BF16_SCOPES: dict[type[nn.Module], Callable[[nn.Module], list[nn.Module]]] = {
    FastPitch: lambda model: [model.decoder],
    FastSpeech: lambda model: [model.mel_side],
}

# network -> its options, fastest first, each within 1 % of fp32 (rounded durations identical)
# on `speechsynth bench` (README, "Precision"); the first the device runs well is the default
PREFERENCES: dict[type[nn.Module], tuple[str, ...]] = {
    Tacotron2: ("int8", "fp32"),
    FastPitch: ("bf16", "fp32"),
    FastSpeech: ("bf16", "fp32"),
    WaveGlow: ("bf16", "fp32"),  # audio within 0.25 % (README)
}


def native_bf16_available(device: torch.device) -> bool:
    """Whether bfloat16 products run natively (a GPU, or a CPU with AVX512-BF16 / AMX);
    elsewhere they are emulated and many times slower than fp32."""
    if device.type != "cpu":
        return True
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def refuse_slow_bf16(precision: str, device: torch.device) -> None:
    if precision == "bf16" and not native_bf16_available(device):
        raise SpeechSynthError(
            "this CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX), where bf16 "
            "is many times slower than fp32: use precision fp32 (or auto)"
        )


def int8_available(device: torch.device) -> bool:
    """Whether dynamic int8 quantization runs: on the CPU, with a quantized engine."""
    engines = [engine for engine in torch.backends.quantized.supported_engines if engine != "none"]
    return device.type == "cpu" and bool(engines)


def runs_well(precision: str, device: torch.device) -> bool:
    if precision == "bf16":
        return native_bf16_available(device)
    if precision == "int8":
        return int8_available(device)
    return True


def default_precision_for(model_class: type, device: torch.device) -> str:
    """The fastest safe option for a `model_class` network on `device` (`PREFERENCES`; fp32
    for the rest)."""
    preferences = PREFERENCES.get(model_class, ("fp32",))
    return next(option for option in (*preferences, "fp32") if runs_well(option, device))


def resolve_precision(model: nn.Module, precision: str, device: torch.device) -> str:
    """`precision` with "auto" replaced by the model's default on `device`."""
    return default_precision_for(type(model), device) if precision == AUTO else precision


def prepare_for_inference(model: nn.Module, precision: str = "fp32") -> nn.Module:
    """`model` in eval mode for "fp32"; otherwise an inference-only copy at `precision` (the
    original is left as it is). "auto" is resolved for the model's device."""
    device = next(model.parameters()).device
    precision = resolve_precision(model, precision, device)
    if precision not in PRECISIONS:
        raise SpeechSynthError(
            f"unknown precision {precision!r}; choose one of {', '.join((*PRECISIONS, AUTO))}"
        )
    if precision == "fp32":
        return model.eval()
    if precision == "int8" and not isinstance(model, Tacotron2):
        raise SpeechSynthError(
            "int8 quantizes Tacotron 2's decoder LSTMs; use fp32 or bf16 for this model"
        )
    if precision == "int8" and not int8_available(device):
        raise SpeechSynthError(f"int8 runs on the CPU only (the model is on {device}): use fp32")
    fast = copy.deepcopy(model).eval()
    if precision == "bf16":
        return to_mixed_bf16(fast)
    quantize_decoder_lstms(fast)
    return fast


class BFloat16Island(nn.Module):
    """`inner` computing in bfloat16 inside an fp32 network: its input is cast to bfloat16 and
    its output back to the input's type."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner.to(torch.bfloat16)

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x.to(torch.bfloat16)).to(x.dtype)


def to_mixed_bf16(model: nn.Module) -> nn.Module:
    """`model` (changed in place) with bfloat16 where `BF16_SCOPES` says, else cast whole."""
    scopes = BF16_SCOPES.get(type(model))
    if scopes is None:
        return model.to(torch.bfloat16)
    for scope in scopes(model):
        for block in scope.modules():
            if isinstance(block, PositionwiseConvFF):
                block.CoreNet[0] = BFloat16Island(block.CoreNet[0])
                block.CoreNet[2] = BFloat16Island(block.CoreNet[2])
    return model


def quantize_decoder_lstms(model: Tacotron2) -> None:
    """Replace the decoder's LSTM cells by dynamically quantized int8 ones, in place."""
    if not int8_available(torch.device("cpu")):
        raise SpeechSynthError("this torch build has no quantized engine: int8 is unavailable")
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; it still works in our torch pin.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        quantize_dynamic(model.decoder, {nn.LSTMCell}, dtype=torch.qint8, inplace=True)


def model_dtype(model: nn.Module) -> torch.dtype:
    """The floating-point type the model takes its inputs in (a whole-model cast changes it)."""
    return next(model.parameters()).dtype
