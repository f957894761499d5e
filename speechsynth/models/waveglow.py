"""WaveGlow as in NVIDIA DeepLearningExamples: same parameter names, shapes and flow order.

`WaveGlow(config).state_dict()` has exactly the keys of NVIDIA's `WaveGlow(**config)` with its
weight norm in place (`*.weight_g` / `*.weight_v`), so NVIDIA checkpoints load strictly.

Two ways to run it:
- `forward(mel, audio)`: the training direction (audio -> z), with the weight norm active, as
  NVIDIA's graph; returns what NVIDIA's `WaveGlowLoss` needs: (z, log_s per flow, log_det_W per
  flow).
- `infer(mel, sigma)` / `infer_onnx(mel, z, sigma)`: the inverse (z -> audio). The coupling
  networks then run on weights packed once per weight version (`PackedWaveNet`): weight norm
  folded, the `end` convolution folded into each layer's skip half, the conditioning bias folded
  into one addition, activations updated in place, and optionally bfloat16 matrix products
  (`compute_dtype`) while the flow's audio, the affine coupling and the 1x1 convolutions stay in
  float32. `remove_weightnorm()` folds the weight norm into plain `weight`s, as NVIDIA's
  inference does (then the state_dict has NVIDIA's post-`remove_weightnorm` keys).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.configs import ModelConfig

DEFAULT_WN_CONFIG = {"n_layers": 8, "kernel_size": 3, "n_channels": 512}
DEFAULT_SIGMA = 0.6  # NVIDIA's test_infer / TensorRT default (their export script bakes 0.9)
# Time steps (groups of 8 samples) per tile of the inference products, the fastest measured
# for 600 frames at 256 and 512 channels on one AVX512-BF16 core (whole sequences: 10-25% slower).
TILE_GROUPS = {torch.float32: 1024, torch.bfloat16: 4096}

NoiseSource = Callable[[tuple[int, ...]], Tensor]
"""`shape -> standard normal noise of that shape`, called for each draw in NVIDIA's order:
the initial [B, n_remaining_channels, T] noise, then [B, n_early_size, T] at each early flow
(k = 8, then k = 4 by default). `infer` multiplies every draw by sigma."""


@dataclass
class WaveGlowConfig(ModelConfig):
    """NVIDIA's `WaveGlow(**kwargs)` arguments (published defaults; 256 channels is the
    'waveglow256' variant). `WN_config` is the nested dict NVIDIA's checkpoints store."""

    model_label: ClassVar[str] = "WaveGlow"

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8
    n_early_every: int = 4
    n_early_size: int = 2
    WN_config: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WN_CONFIG))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.WN_config) - set(DEFAULT_WN_CONFIG))
        if unknown:
            raise SpeechSynthError(
                f"unknown WaveGlow WN_config key(s): {', '.join(unknown)} "
                f"(known: {', '.join(DEFAULT_WN_CONFIG)})"
            )
        self.WN_config = {**DEFAULT_WN_CONFIG, **self.WN_config}
        if self.kernel_size % 2 != 1 or self.n_channels % 2 != 0:
            raise SpeechSynthError(
                f"WaveGlow WN_config needs an odd kernel_size and an even n_channels, "
                f"got {self.kernel_size} and {self.n_channels}"
            )
        if self.n_group % 2 != 0 or self.n_early_size % 2 != 0 or self.n_early_every < 1:
            raise SpeechSynthError(
                "WaveGlow needs an even n_group and n_early_size and n_early_every >= 1"
            )
        if min(self.flow_channels) < 2:
            raise SpeechSynthError(
                f"WaveGlow: {self.n_flows} flows emitting {self.n_early_size} channels every "
                f"{self.n_early_every} leave fewer than 2 of the {self.n_group} channels"
            )

    @property
    def n_layers(self) -> int:
        return self.WN_config["n_layers"]

    @property
    def kernel_size(self) -> int:
        return self.WN_config["kernel_size"]

    @property
    def n_channels(self) -> int:
        return self.WN_config["n_channels"]

    def emits_early(self, flow: int) -> bool:
        """Whether `n_early_size` channels leave the flow before flow `flow` (training order)."""
        return flow > 0 and flow % self.n_early_every == 0

    @property
    def flow_channels(self) -> list[int]:
        """Channels each flow transforms: [8, 8, 8, 8, 6, 6, 6, 6, 4, 4, 4, 4] by default."""
        channels, remaining = [], self.n_group
        for flow in range(self.n_flows):
            if self.emits_early(flow):
                remaining -= self.n_early_size
            channels.append(remaining)
        return channels

    @property
    def noise_channels(self) -> list[int]:
        """Channels of each noise draw of inference, in draw order (`NoiseSource`): the last
        flow's, then `n_early_size` at each early flow from the last back: [4, 2, 2]."""
        early = [self.n_early_size for k in reversed(range(self.n_flows)) if self.emits_early(k)]
        return [self.flow_channels[-1], *early]

    @classmethod
    def normalised(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(values)
        if "WN_config" in values:
            values["WN_config"] = dict(values["WN_config"])
        return values


# ----------------------------------------------------------------------------- building blocks


class WeightNormConv1d(nn.Module):
    """Conv1d with weight = g * v / ||v|| (norm over dims 1, 2 per output channel), stored as
    `weight_g` [out, 1, 1] and `weight_v` like `torch.nn.utils.weight_norm`; `fold()` replaces
    them by a plain `weight`."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int = 1, dilation: int = 1
    ):
        super().__init__()
        reference = nn.Conv1d(in_channels, out_channels, kernel_size)  # PyTorch's default init
        self.dilation = dilation
        self.padding = dilation * (kernel_size - 1) // 2
        self.bias = nn.Parameter(reference.bias.detach().clone())
        self.register_parameter("weight", None)
        self.weight_g = nn.Parameter(weight_norm_scale(reference.weight.detach()))
        self.weight_v = nn.Parameter(reference.weight.detach().clone())

    @property
    def folded(self) -> bool:
        return self.weight is not None

    def effective_weight(self) -> Tensor:
        if self.weight is not None:
            return self.weight
        return self.weight_v * (self.weight_g / weight_norm_scale(self.weight_v))

    def fold(self) -> None:
        """Replace g and v by the weight they make, computed in float32."""
        if self.weight is not None:
            return
        with torch.no_grad():
            v = self.weight_v.float()
            weight = v * (self.weight_g.float() / weight_norm_scale(v))
        dtype = self.weight_v.dtype
        del self.weight_g, self.weight_v
        self.weight = nn.Parameter(weight.to(dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(
            x, self.effective_weight(), self.bias, padding=self.padding, dilation=self.dilation
        )


def weight_norm_scale(v: Tensor) -> Tensor:
    """||v|| over every dim but the first, shaped to broadcast against v."""
    return torch.linalg.vector_norm(v, dim=tuple(range(1, v.dim())), keepdim=True)


def gated_activation(pre_activation: Tensor, n_channels: int) -> Tensor:
    """WaveNet's gate: tanh(first half) * sigmoid(second half)."""
    return torch.tanh(pre_activation[:, :n_channels]) * torch.sigmoid(
        pre_activation[:, n_channels:]
    )


def parameter_versions(module: nn.Module) -> tuple:
    """Changes whenever a parameter is replaced, moved or modified in place (optimizer steps,
    `load_state_dict`): the key under which derived weights are cached."""
    return tuple(
        (name, p.data_ptr(), p._version, p.dtype, p.device) for name, p in module.named_parameters()
    )


class Invertible1x1Conv(nn.Module):
    """A channel-mixing 1x1 convolution, initialised to a random rotation (det +1)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        rotation = torch.linalg.qr(torch.randn(channels, channels))[0]
        if torch.det(rotation) < 0:
            rotation[:, 0] = -rotation[:, 0]
        with torch.no_grad():
            self.conv.weight.copy_(rotation.unsqueeze(2))
        self._inverse: Tensor | None = None
        self._inverse_key: tuple | None = None

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """z [B, C, T] -> (W z, log|det W| * B * T), the log-determinant in float32."""
        batch, _, n_groups = z.shape
        weight = self.conv.weight.squeeze(2)
        log_det_w = batch * n_groups * torch.logdet(weight.unsqueeze(0).float()).squeeze()
        return self.conv(z), log_det_w

    def inverse_weight(self) -> Tensor:
        """W^-1 [C, C, 1] in float32, computed once per weight version."""
        key = parameter_versions(self)
        if self._inverse is None or self._inverse_key != key:
            with torch.no_grad():
                self._inverse = self.conv.weight.squeeze(2).float().inverse().unsqueeze(2)
            self._inverse_key = key
        return self._inverse

    def inverse(self, z: Tensor) -> Tensor:
        return F.conv1d(z, self.inverse_weight().to(z.dtype))


# ----------------------------------------------------------------------------- coupling network


class WN(nn.Module):
    """The affine coupling's WaveNet: start 1x1 -> n_layers dilated gated layers with residual
    and skip 1x1s -> end 1x1 (zero-initialised), conditioned on the grouped mel."""

    def __init__(self, n_in_channels: int, n_cond_channels: int, wn_config: Mapping[str, int]):
        super().__init__()
        n_layers, kernel_size = wn_config["n_layers"], wn_config["kernel_size"]
        n_channels = wn_config["n_channels"]
        self.n_channels, self.kernel_size = n_channels, kernel_size
        self.in_layers = nn.ModuleList(
            WeightNormConv1d(n_channels, 2 * n_channels, kernel_size, dilation=2**i)
            for i in range(n_layers)
        )
        self.res_skip_layers = nn.ModuleList(
            WeightNormConv1d(n_channels, 2 * n_channels if i < n_layers - 1 else n_channels)
            for i in range(n_layers)
        )
        self.cond_layers = nn.ModuleList(
            WeightNormConv1d(n_cond_channels, 2 * n_channels) for _ in range(n_layers)
        )
        self.start = WeightNormConv1d(n_in_channels, n_channels)
        self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)
        self._packed: PackedWaveNet | None = None
        self._packed_key: tuple | None = None

    def forward(self, audio: Tensor, spect: Tensor) -> Tensor:
        """audio [B, n_in, T], spect [B, n_cond, T] -> [B, 2 n_in, T] = (b, log_s) stacked."""
        audio = self.start(audio)
        output = None
        last = len(self.in_layers) - 1
        for i, (in_layer, cond_layer, res_skip_layer) in enumerate(
            zip(self.in_layers, self.cond_layers, self.res_skip_layers, strict=True)
        ):
            acts = gated_activation(in_layer(audio) + cond_layer(spect), self.n_channels)
            res_skip = res_skip_layer(acts)
            if i < last:
                audio = res_skip[:, : self.n_channels] + audio
                skip = res_skip[:, self.n_channels :]
            else:
                skip = res_skip
            output = skip if output is None else skip + output
        return self.end(output)

    def packed(self, compute_dtype: torch.dtype) -> PackedWaveNet:
        """The inference form of the current weights (see `PackedWaveNet`), cached."""
        key = (compute_dtype, parameter_versions(self))
        if self._packed is None or self._packed_key != key:
            self._packed = None  # free the old copy before building the new one
            with torch.no_grad():
                self._packed = PackedWaveNet.pack(self, compute_dtype)
            self._packed_key = key
        return self._packed


class PackedLayer(NamedTuple):
    pre_weight: Tensor  # [2C, k C + n_cond]: in_layer's k taps side by side, then cond_layer
    pre_bias: Tensor  # [2C] = in_layer.bias + cond_layer.bias
    dilation: int
    res_weight: Tensor | None  # [C, C]: the residual half of res_skip (None for the last layer)
    res_bias: Tensor | None  # [C]
    skip_weight: Tensor  # [2 n_in, C] = end.weight @ the skip half of res_skip


@dataclass
class PackedWaveNet:
    """WN weights for inference: weight norm folded, matrices in `compute_dtype`.

    - A layer's pre-activation in_layer(x) + cond_layer(spect) is ONE matrix product: the
      dilated convolution's k taps and the conditioning are stacked along the input dimension
      (`StackedInput`: k shifted copies of x above the grouped mel). One large product runs
      faster than a convolution plus a product, and accumulates in one rounding.
    - `end` is linear, so end(sum_i skip_i(acts_i)) = sum_i (W_end W_skip_i) acts_i + biases:
      each skip half ([C, C]) becomes a [2 n_in, C] product, saving a tenth of the work and
      the [C, T] skip accumulator.
    - The residual stream, the start convolution and the output stay float32; only the big
      products (and the gate) run in `compute_dtype`.
    """

    start_weight: Tensor  # [C, n_in] float32
    start_bias: Tensor  # [C]
    layers: list[PackedLayer]
    out_bias: Tensor  # [2 n_in] float32
    n_channels: int
    kernel_size: int
    compute_dtype: torch.dtype

    @classmethod
    def pack(cls, wn: WN, compute_dtype: torch.dtype) -> PackedWaveNet:
        n_channels = wn.n_channels
        end_weight = wn.end.weight.squeeze(2).double()
        out_bias = wn.end.bias.double()
        layers = []
        last = len(wn.in_layers) - 1
        for i, (in_layer, cond_layer, res_skip_layer) in enumerate(
            zip(wn.in_layers, wn.cond_layers, wn.res_skip_layers, strict=True)
        ):
            taps = in_layer.effective_weight().unbind(2)
            cond = cond_layer.effective_weight().squeeze(2)
            res_skip_weight = res_skip_layer.effective_weight().squeeze(2).double()
            res_skip_bias = res_skip_layer.bias.double()
            skip_from = n_channels if i < last else 0
            out_bias = out_bias + end_weight @ res_skip_bias[skip_from:]
            layers.append(
                PackedLayer(
                    pre_weight=torch.cat([*taps, cond], 1).to(compute_dtype),
                    pre_bias=(in_layer.bias + cond_layer.bias).to(compute_dtype),
                    dilation=in_layer.dilation,
                    res_weight=res_skip_weight[:n_channels].to(compute_dtype) if i < last else None,
                    res_bias=res_skip_bias[:n_channels].to(compute_dtype) if i < last else None,
                    skip_weight=(end_weight @ res_skip_weight[skip_from:]).to(compute_dtype),
                )
            )
        return cls(
            start_weight=wn.start.effective_weight().squeeze(2).float(),
            start_bias=wn.start.bias.float(),
            layers=layers,
            out_bias=out_bias.float(),
            n_channels=n_channels,
            kernel_size=wn.kernel_size,
            compute_dtype=compute_dtype,
        )

    def __call__(self, audio: Tensor, stacked: StackedInput) -> Tensor:
        """audio [B, n_in, T] float32 -> [B, 2 n_in, T] float32, the same function as
        `WN.forward(audio, spect)` with spect the conditioning in `stacked`."""
        residual = pointwise(self.start_weight, audio, self.start_bias)
        output = self.out_bias[:, None].expand(audio.size(0), -1, audio.size(2)).clone()
        for layer in self.layers:
            stacked.fill_taps(residual, self.kernel_size, layer.dilation)
            # The taps now hold this layer's input, so the residual can be updated in place,
            # one stretch of time at a time: the [2C, tile] activations stay in cache and
            # small enough for the allocator to reuse (large buffers are mapped afresh).
            tile_length = TILE_GROUPS.get(self.compute_dtype, 4096)
            for start in range(0, audio.size(2), tile_length):
                tile = slice(start, start + tile_length)
                pre = pointwise(layer.pre_weight, stacked.buffer[:, :, tile], layer.pre_bias)
                acts = _gate_in_place(pre, self.n_channels)
                if layer.res_weight is not None:
                    residual[:, :, tile] += pointwise(layer.res_weight, acts, layer.res_bias)
                output[:, :, tile] += pointwise(layer.skip_weight, acts)
        return output


class StackedInput:
    """[B, k C + n_cond, T] in the compute dtype: rows j C .. (j + 1) C hold the WN's hidden
    state shifted for tap j of the current layer's dilated convolution (zeros past the ends,
    the convolution's padding); the last n_cond rows hold the grouped mel, written once."""

    def __init__(self, spect: Tensor, tap_rows: int, compute_dtype: torch.dtype):
        batch, n_cond, n_groups = spect.shape
        self.tap_rows = tap_rows
        self.buffer = spect.new_empty((batch, tap_rows + n_cond, n_groups), dtype=compute_dtype)
        self.buffer[:, tap_rows:] = spect

    def fill_taps(self, hidden: Tensor, kernel_size: int, dilation: int) -> None:
        channels, length = hidden.size(1), hidden.size(2)
        for tap in range(kernel_size):
            shift = (tap - kernel_size // 2) * dilation  # tap reads hidden[t + shift]
            rows = self.buffer[:, tap * channels : (tap + 1) * channels]
            kept = max(length - abs(shift), 0)
            if shift >= 0:
                rows[:, :, :kept] = hidden[:, :, length - kept :]
                rows[:, :, kept:] = 0
            else:
                rows[:, :, length - kept :] = hidden[:, :, :kept]
                rows[:, :, : length - kept] = 0


def pointwise(weight: Tensor, x: Tensor, bias: Tensor | None = None) -> Tensor:
    """A 1x1 convolution, weight [O, I] over x [B, I, T] -> [B, O, T], on the fastest CPU
    route measured: oneDNN's convolution for float32 (PyTorch sends 1x1 float32 convolutions
    and products to a slower BLAS path), a matrix product (oneDNN) for bfloat16."""
    x = x.to(weight.dtype)
    if x.dtype == torch.float32 and x.device.type == "cpu" and torch.backends.mkldnn.is_available():
        return torch.mkldnn_convolution(x, weight.unsqueeze(2), bias, [0], [1], [1], 1)
    if bias is None:
        return torch.matmul(weight, x)
    if x.size(0) == 1:
        return torch.addmm(bias[:, None], weight, x[0]).unsqueeze(0)
    return torch.baddbmm(bias[:, None], weight.expand(x.size(0), -1, -1), x)


def _gate_in_place(pre: Tensor, n_channels: int) -> Tensor:
    """tanh(a) * sigmoid(b) for pre = [a; b], written over a (no new buffers).

    tanh(a) is computed as 2 sigmoid(2a) - 1: PyTorch's CPU sigmoid is several times faster
    than its tanh, and the two agree to float32 rounding (about 1e-7 absolute).
    """
    a, b = pre[:, :n_channels], pre[:, n_channels:]
    return a.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0).mul_(b.sigmoid_())


# ----------------------------------------------------------------------------- WaveGlow


class WaveGlow(nn.Module):
    """Mel-conditioned normalising flow: n_flows x (invertible 1x1 conv, affine coupling)."""

    def __init__(self, config: WaveGlowConfig | None = None):
        super().__init__()
        self.config = config = config or WaveGlowConfig()
        mels = config.n_mel_channels
        self.upsample = nn.ConvTranspose1d(mels, mels, 1024, stride=256)
        self.WN = nn.ModuleList()
        self.convinv = nn.ModuleList()
        for channels in config.flow_channels:
            self.convinv.append(Invertible1x1Conv(channels))
            self.WN.append(WN(channels // 2, mels * config.n_group, config.WN_config))
        self.n_remaining_channels = config.flow_channels[-1]

    # ------------------------------------------------------------------ shared pieces

    def grouped_conditioning(self, mel: Tensor, n_samples: int | None = None) -> Tensor:
        """mel [B, n_mel, T_mel] -> upsampled and grouped [B, n_mel * n_group, samples / n_group].

        The transposed convolution gives 256 T_mel + 768 samples; inference keeps the first
        256 T_mel (NVIDIA drops the last kernel - stride), training the first `n_samples`.
        """
        upsampled = self.upsample(mel)
        if n_samples is None:
            n_samples = mel.size(2) * self.upsample.stride[0]
        elif upsampled.size(2) < n_samples:
            raise ValueError(f"{n_samples} audio samples need more than {mel.size(2)} mel frames")
        return group_channels(upsampled[:, :, :n_samples], self.config.n_group)

    # ------------------------------------------------------------------ training direction

    def forward(self, mel: Tensor, audio: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """mel [B, n_mel, T_mel], audio [B, N] -> (z [B, n_group, N / n_group], log_s per flow,
        log_det_W per flow). As NVIDIA, samples past the last whole group are ignored."""
        n_group = self.config.n_group
        n_samples = audio.size(1) // n_group * n_group
        spect = self.grouped_conditioning(mel, n_samples)
        audio = audio[:, :n_samples].unfold(1, n_group, n_group).permute(0, 2, 1)
        early_outputs, log_s_list, log_det_w_list = [], [], []
        for k, (convinv, wn) in enumerate(zip(self.convinv, self.WN, strict=True)):
            if self.config.emits_early(k):
                early_outputs.append(audio[:, : self.config.n_early_size])
                audio = audio[:, self.config.n_early_size :]
            audio, log_det_w = convinv(audio)
            n_half = audio.size(1) // 2
            audio_0, audio_1 = audio[:, :n_half], audio[:, n_half:]
            output = wn(audio_0, spect)
            log_s, bias = output[:, n_half:], output[:, :n_half]
            audio = torch.cat([audio_0, torch.exp(log_s) * audio_1 + bias], 1)
            log_s_list.append(log_s)
            log_det_w_list.append(log_det_w)
        return torch.cat([*early_outputs, audio], 1), log_s_list, log_det_w_list

    # ------------------------------------------------------------------ inference direction

    def fold_weight_norms_stored_folded(self, state_dict: Mapping[str, Tensor]) -> None:
        """Fold each weight norm that `state_dict` holds as a plain `weight` (a checkpoint saved
        after `remove_weightnorm`), so that it loads strictly."""
        for name, module in self.named_modules():
            if isinstance(module, WeightNormConv1d) and f"{name}.weight" in state_dict:
                module.fold()

    def remove_weightnorm(self) -> WaveGlow:
        """Fold every weight norm into a plain weight (NVIDIA's `remove_weightnorm`)."""
        for module in self.modules():
            if isinstance(module, WeightNormConv1d):
                module.fold()
        return self

    @torch.no_grad()
    def infer(
        self,
        mel: Tensor,
        sigma: float = DEFAULT_SIGMA,
        noise: NoiseSource | Sequence[Tensor] | None = None,
        generator: torch.Generator | None = None,
        compute_dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """mel [B, n_mel, T_mel] -> audio [B, 256 T_mel] float32: z ~ N(0, sigma^2) through the
        inverse flow. `noise` replaces the `torch.randn` draws (a `NoiseSource` or the recorded
        draws in NVIDIA's order); without it, sigma = 0 draws nothing. `compute_dtype` is the
        coupling networks' matrix precision (float32 or bfloat16)."""
        spect = self.grouped_conditioning(mel.float())
        draw = _noise_drawer(noise, generator, sigma, spect.device)
        batch, n_groups = spect.size(0), spect.size(2)
        audio = draw((batch, self.n_remaining_channels, n_groups))
        stacked = self._stacked_input(spect, compute_dtype)
        for k in reversed(range(self.config.n_flows)):
            audio = self._invert_flow(k, audio, stacked, compute_dtype)
            if self.config.emits_early(k):
                early = draw((batch, self.config.n_early_size, n_groups))
                audio = torch.cat([early, audio], 1)
        return ungroup(audio)

    def reverse(self, mel: Tensor, z: Tensor) -> Tensor:
        """The exact inverse of `forward`: z [B, n_group, T] laid out as `forward` returns it
        (early chunks first, in flow order, then the last flow's channels) -> audio [B, 8 T]."""
        config = self.config
        early_flows = [k for k in range(config.n_flows) if config.emits_early(k)]
        size = config.n_early_size
        early = [z[:, i * size : (i + 1) * size] for i in range(len(early_flows))]
        last = z[:, len(early_flows) * size :]
        return self.infer(mel, sigma=1.0, noise=[last, *reversed(early)])

    @torch.no_grad()
    def infer_onnx(self, mel: Tensor, z: Tensor, sigma: float = 0.9) -> Tensor:
        """NVIDIA's ONNX-export variant: z [B, n_group, T] given; only the first
        n_remaining_channels are multiplied by sigma, the early chunks are used as they are."""
        stacked = self._stacked_input(self.grouped_conditioning(mel.float()), torch.float32)
        audio = sigma * z[:, : self.n_remaining_channels].float()
        rest = z[:, self.n_remaining_channels :].float()
        for k in reversed(range(self.config.n_flows)):
            audio = self._invert_flow(k, audio, stacked, torch.float32)
            if self.config.emits_early(k):
                size = self.config.n_early_size
                audio, rest = torch.cat([rest[:, :size], audio], 1), rest[:, size:]
        return ungroup(audio)

    def _stacked_input(self, spect: Tensor, compute_dtype: torch.dtype) -> StackedInput:
        tap_rows = self.config.kernel_size * self.config.n_channels
        return StackedInput(spect, tap_rows, compute_dtype)

    def _invert_flow(
        self, k: int, audio: Tensor, stacked: StackedInput, compute_dtype: torch.dtype
    ) -> Tensor:
        n_half = audio.size(1) // 2
        audio_0, audio_1 = audio[:, :n_half], audio[:, n_half:]
        output = self.WN[k].packed(compute_dtype)(audio_0, stacked)
        bias, log_s = output[:, :n_half], output[:, n_half:]
        audio_1 = (audio_1 - bias) / torch.exp(log_s)
        return self.convinv[k].inverse(torch.cat([audio_0, audio_1], 1))


def group_channels(signal: Tensor, n_group: int) -> Tensor:
    """[B, C, N] -> [B, C * n_group, N / n_group], channel c * n_group + g = sample g of a group
    (NVIDIA's unfold / permute / view), contiguous."""
    batch, channels, n_samples = signal.shape
    grouped = signal.reshape(batch, channels, n_samples // n_group, n_group).permute(0, 1, 3, 2)
    return grouped.reshape(batch, channels * n_group, n_samples // n_group)


def ungroup(audio: Tensor) -> Tensor:
    """[B, n_group, T] -> [B, n_group * T]: sample n_group t + g = channel g at step t."""
    return audio.permute(0, 2, 1).reshape(audio.size(0), -1)


def _noise_drawer(
    noise: NoiseSource | Sequence[Tensor] | None,
    generator: torch.Generator | None,
    sigma: float,
    device: torch.device,
) -> Callable[[tuple[int, ...]], Tensor]:
    """A function shape -> sigma * N(0, 1) noise, from `noise` or torch.randn."""

    def fresh_noise(shape: tuple[int, ...]) -> Tensor:
        if sigma == 0:
            return torch.zeros(shape, device=device)
        return torch.randn(shape, generator=generator, device=device)

    if noise is None:
        source = fresh_noise
    elif callable(noise):
        source = noise
    else:
        source = recorded_noise(noise)

    def draw(shape: tuple[int, ...]) -> Tensor:
        sample = source(shape)
        if tuple(sample.shape) != tuple(shape):
            raise ValueError(f"noise of shape {tuple(sample.shape)} given, {shape} needed")
        return sigma * sample.to(device=device, dtype=torch.float32)

    return draw


def recorded_noise(draws: Sequence[Tensor]) -> NoiseSource:
    """Replays `draws` in order (e.g. NVIDIA's `torch.randn` calls recorded by a parity run)."""
    remaining: Iterator[Tensor] = iter(draws)

    def next_draw(shape: tuple[int, ...]) -> Tensor:
        try:
            return next(remaining)
        except StopIteration:
            raise ValueError(f"recorded noise ran out: one more draw of {shape} needed") from None

    return next_draw
