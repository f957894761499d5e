"""HiFi-GAN's generator as in NVIDIA DeepLearningExamples (`HiFiGAN/hifigan/models.py`): same
parameter names, shapes and order, so NVIDIA's generator state_dicts load strictly.

mel [B, n_mel, T] (natural-log mel, as FastPitch outputs it) -> audio [B, 1, hop T], hop =
prod(upsample_rates). `conv_pre` (kernel 7), then per stage a leaky ReLU (0.1), a transposed
convolution (stride u, padding (k - u) // 2: length x u) and the average of one residual block
per kernel size; then a leaky ReLU with PyTorch's default slope 0.01 (NVIDIA's code, not 0.1),
`conv_post` (kernel 7, one channel) and tanh.

Every convolution carries NVIDIA's weight norm (`weight_g` / `weight_v`, norm over all dims but
the first; for the transposed convolutions that is one norm per INPUT channel).
`remove_weight_norm()` folds them into plain `weight`s, as NVIDIA's inference does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.configs import ModelConfig
from speechsynth.models.waveglow import WeightNormConv1d, weight_norm_scale

LRELU_SLOPE = 0.1  # inside the stages and residual blocks
RESBLOCK_TYPES = ("1", "2")  # "1": pairs of (dilated, plain) convs; "2": single dilated convs


@dataclass
class HiFiGanConfig(ModelConfig):
    """NVIDIA's generator `conf` (the dict `ckpt['config']` holds). The defaults are NVIDIA's
    `hifigan/arg_parser.py` defaults, its published V1 recipe; `HiFiGanConfig.preset("v2")` /
    `("v3")` are the smaller V2 / V3 generators of the HiFi-GAN paper (jik876's config_v2 /
    config_v3.json). `n_mel_channels` is not in NVIDIA's conf (their code hard-codes 80)."""

    model_label: ClassVar[str] = "HiFi-GAN"

    upsample_rates: list[int] = field(default_factory=lambda: [8, 8, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 4, 4])
    upsample_initial_channel: int = 512
    resblock: str = "1"
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [11, 7, 3])
    resblock_dilation_sizes: list[list[int]] = field(
        default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    )
    n_mel_channels: int = 80

    def __post_init__(self) -> None:
        self.resblock = str(self.resblock)
        if self.resblock not in RESBLOCK_TYPES:
            raise SpeechSynthError(
                f"HiFi-GAN resblock must be '1' or '2', got {self.resblock!r}; fix the config"
            )
        for first, second in (
            ("upsample_rates", "upsample_kernel_sizes"),
            ("resblock_kernel_sizes", "resblock_dilation_sizes"),
        ):
            if len(getattr(self, first)) != len(getattr(self, second)):
                raise SpeechSynthError(f"HiFi-GAN config: {first} and {second} differ in length")
        rates, kernels = self.upsample_rates, self.upsample_kernel_sizes
        if any((k - u) % 2 for k, u in zip(kernels, rates, strict=True)):
            raise SpeechSynthError(
                "HiFi-GAN config: each upsample kernel minus its rate must be even "
                f"(kernels {kernels}, rates {rates})"
            )

    @property
    def hop_length(self) -> int:
        """Audio samples per mel frame: the product of the upsample rates."""
        return math.prod(self.upsample_rates)

    @classmethod
    def preset(cls, name: str) -> HiFiGanConfig:
        """'v1' (NVIDIA's defaults), 'v2' or 'v3' (the paper's smaller generators)."""
        if name not in PRESETS:
            raise SpeechSynthError(
                f"unknown HiFi-GAN preset {name!r}; choose one of {', '.join(PRESETS)}"
            )
        return cls.from_dict(PRESETS[name].to_dict())  # a deep copy

    @classmethod
    def from_nvidia(
        cls, values: Mapping[str, Any] | None, state_dict: Mapping[str, Tensor]
    ) -> HiFiGanConfig:
        """NVIDIA's checkpoints hold the config (`ckpt['config']`); jik876's hold none (it lives
        in a config.json), so the sizes are then read from the weights' shapes."""
        if values is not None:
            return cls.from_dict(values)
        return cls(**sizes_from_state_dict(state_dict))

    @classmethod
    def normalised(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(values)
        for key in ("upsample_rates", "upsample_kernel_sizes", "resblock_kernel_sizes"):
            if key in values:
                values[key] = [int(item) for item in values[key]]
        if "resblock_dilation_sizes" in values:
            values["resblock_dilation_sizes"] = [
                [int(d) for d in row] for row in values["resblock_dilation_sizes"]
            ]
        return values


PRESETS: dict[str, HiFiGanConfig] = {
    "v1": HiFiGanConfig(),
    "v2": HiFiGanConfig(upsample_initial_channel=128, resblock_kernel_sizes=[3, 7, 11]),
    "v3": HiFiGanConfig(
        upsample_rates=[8, 8, 4],
        upsample_kernel_sizes=[16, 16, 8],
        upsample_initial_channel=256,
        resblock="2",
        resblock_kernel_sizes=[3, 5, 7],
        resblock_dilation_sizes=[[1, 2], [2, 6], [3, 12]],
    ),
}


def sizes_from_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    """The config a (nested-layout) generator state_dict was built with. Shapes give every size
    but two, which take the published recipes' values: each upsample rate is half its kernel,
    and the dilations are V1/V2's (block "1") or V3's (block "2")."""
    try:
        conv_pre = _weight(state_dict, "conv_pre")
        up_kernels = [
            _weight(state_dict, f"ups.{i}").shape[2] for i in range(_count(state_dict, "ups"))
        ]
        resblock = "1" if any(".convs1." in key for key in state_dict) else "2"
        first_conv = "convs1.0" if resblock == "1" else "convs.0"
        kernels = [
            _weight(state_dict, f"resblocks.0.{j}.{first_conv}").shape[2]
            for j in range(_count(state_dict, "resblocks.0"))
        ]
    except KeyError as error:
        raise SpeechSynthError(
            f"HiFi-GAN weights without a config and without {error}: not a generator "
            "state_dict; give NVIDIA's generator checkpoint"
        ) from None
    dilations = PRESETS["v1" if resblock == "1" else "v3"].resblock_dilation_sizes
    if len(kernels) != len(dilations):
        raise SpeechSynthError(
            f"HiFi-GAN weights with {len(kernels)} residual blocks per stage and no config: "
            "cannot tell their dilations; load it with NVIDIA's checkpoint config"
        )
    return {
        "upsample_rates": [k // 2 for k in up_kernels],
        "upsample_kernel_sizes": up_kernels,
        "upsample_initial_channel": conv_pre.shape[0],
        "resblock": resblock,
        "resblock_kernel_sizes": kernels,
        "resblock_dilation_sizes": [list(row) for row in dilations],
        "n_mel_channels": conv_pre.shape[1],
    }


def _weight(state_dict: Mapping[str, Tensor], name: str) -> Tensor:
    """Layer `name`'s weight (`weight_v` with the weight norm, `weight` folded)."""
    key = f"{name}.weight_v"
    return state_dict[key] if key in state_dict else state_dict[f"{name}.weight"]


def _count(state_dict: Mapping[str, Tensor], prefix: str) -> int:
    """How many numbered children `prefix.0`, `prefix.1`, ... the keys name."""
    indices = {
        key[len(prefix) + 1 :].split(".")[0] for key in state_dict if key.startswith(prefix + ".")
    }
    return len({index for index in indices if index.isdigit()})


# ----------------------------------------------------------------------------- building blocks


class WeightNormConvTranspose1d(WeightNormConv1d):
    """ConvTranspose1d (weight [C_in, C_out, k]) with NVIDIA's weight norm, dim 0: `weight_g`
    is [C_in, 1, 1], one norm per input channel. Padding (k - stride) // 2: length x stride."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int):
        super().__init__(out_channels, in_channels, kernel_size)  # g and v of the right shapes
        reference = nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride)
        with torch.no_grad():
            self.weight_v.copy_(reference.weight)
            self.weight_g.copy_(weight_norm_scale(reference.weight))
        self.bias = nn.Parameter(reference.bias.detach().clone())
        self.stride = stride
        self.padding = (kernel_size - stride) // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose1d(
            x, self.effective_weight(), self.bias, stride=self.stride, padding=self.padding
        )


class ResBlock1(nn.Module):
    """For each dilation d: x += conv(lrelu(conv_d(lrelu(x)))), the second conv undilated."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size, dilation=d) for d in dilations
        )
        self.convs2 = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size) for _ in dilations
        )

    def forward(self, x: Tensor) -> Tensor:
        for dilated, plain in zip(self.convs1, self.convs2, strict=True):
            xt = dilated(F.leaky_relu(x, LRELU_SLOPE))
            x = plain(F.leaky_relu(xt, LRELU_SLOPE)) + x
        return x


class ResBlock2(nn.Module):
    """For each dilation d: x += conv_d(lrelu(x)) (V3's lighter block)."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int]):
        super().__init__()
        self.convs = nn.ModuleList(
            WeightNormConv1d(channels, channels, kernel_size, dilation=d) for d in dilations
        )

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = conv(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x


# ----------------------------------------------------------------------------- generator


class HiFiGanGenerator(nn.Module):
    """NVIDIA's `Generator(conf)`: `conv_pre`, `ups.{i}`, `resblocks.{i}.{j}`, `conv_post`."""

    def __init__(self, config: HiFiGanConfig | None = None):
        super().__init__()
        self.config = config = config or HiFiGanConfig()
        width = config.upsample_initial_channel
        self.conv_pre = WeightNormConv1d(config.n_mel_channels, width, 7)
        block = ResBlock1 if config.resblock == "1" else ResBlock2
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        for i, (rate, kernel) in enumerate(
            zip(config.upsample_rates, config.upsample_kernel_sizes, strict=True)
        ):
            channels = width // 2 ** (i + 1)
            self.ups.append(WeightNormConvTranspose1d(channels * 2, channels, kernel, rate))
            self.resblocks.append(
                nn.ModuleList(
                    block(channels, k, d)
                    for k, d in zip(
                        config.resblock_kernel_sizes, config.resblock_dilation_sizes, strict=True
                    )
                )
            )
        self.conv_post = WeightNormConv1d(width // 2 ** len(self.ups), 1, 7)

    def stage(self, index: int, x: Tensor) -> Tensor:
        """Upsample stage `index`: lrelu, transposed conv, then the residual blocks' average
        (summed in kernel order, then divided, as NVIDIA)."""
        x = self.ups[index](F.leaky_relu(x, LRELU_SLOPE))
        blocks = self.resblocks[index]
        total = blocks[0](x)
        for block in blocks[1:]:
            total = total + block(x)
        return total / len(blocks)

    def pre_tanh(self, mel: Tensor) -> Tensor:
        """mel [B, n_mel, T] -> conv_post's output [B, 1, hop T], before the tanh."""
        x = self.conv_pre(mel)
        for index in range(len(self.ups)):
            x = self.stage(index, x)
        return self.conv_post(F.leaky_relu(x))  # PyTorch's default slope 0.01, as NVIDIA

    def forward(self, mel: Tensor) -> Tensor:
        """mel [B, n_mel, T] -> audio [B, 1, hop T] in [-1, 1] (NVIDIA's output shape)."""
        return torch.tanh(self.pre_tanh(mel))

    @torch.no_grad()
    def infer(self, mel: Tensor) -> Tensor:
        """mel [B, n_mel, T] -> audio [B, hop T] in the weights' dtype."""
        weight = self.conv_pre.effective_weight()
        return self(mel.to(weight.dtype)).squeeze(1)

    def fold_weight_norms_stored_folded(self, state_dict: Mapping[str, Tensor]) -> None:
        """Fold each weight norm that `state_dict` holds as a plain `weight` (a file saved after
        `remove_weight_norm`), so that it loads strictly."""
        for name, module in self.named_modules():
            if isinstance(module, WeightNormConv1d) and f"{name}.weight" in state_dict:
                module.fold()

    def remove_weight_norm(self) -> HiFiGanGenerator:
        """Fold every weight norm into a plain weight (NVIDIA's `remove_weight_norm`)."""
        for module in self.modules():
            if isinstance(module, WeightNormConv1d):
                module.fold()
        return self
