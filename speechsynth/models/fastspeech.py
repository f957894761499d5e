"""FastSpeech as in NVIDIA DeepLearningExamples (CUDA-Optimized/FastSpeech): same state_dict
names and shapes, same float operations.

symbols -> embedding + sinusoid table -> FFT blocks ("phoneme side") -> duration predictor ->
length regulator (durations x alpha, rounded half to even) -> sinusoid table + FFT blocks
("mel side") -> Linear -> mel [B, T, n_mels]. No pitch.

Built from the blocks FastPitch uses (`transformer`, `temporal_predictor`, `length_regulator`),
in FastSpeech's dialect (per-head q|k|v layout, interleaved position table, -65504 mask, biased
output projection, 2 heads of 64). `state_dict()` and `load_state_dict()` speak NVIDIA's names
(`phoneme_side.layer_stack.N.slf_attn.linear`, `length_regulator.duration_predictor.conv1d_1`,
...), so NVIDIA checkpoints load strictly; internally the modules carry the shared blocks' names.

Deliberate differences from NVIDIA:
- positions come from `text_lengths` (NVIDIA takes a position tensor, 1..L and 0 for padding);
- the outputs hold both the linear and the log-domain predicted durations, in training too
  (NVIDIA returns the log-domain ones in training mode, the linear ones in eval mode);
- when every duration rounds to 0 the mel is empty, [B, 0, n_mels] (NVIDIA returns [B, 0, 1]).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.configs import ModelConfig, refuse_unknown_keys
from speechsynth.models.length_regulator import regulate_length
from speechsynth.models.temporal_predictor import TemporalPredictor
from speechsynth.models.transformer import FFTransformer

D_HEAD = 64  # NVIDIA hard-codes d_k = d_v = 64
ATTENTION_DROPOUT = 0.1  # NVIDIA's ScaledDotProductAttention default, not tied to `dropout`
MASK_VALUE = -65504.0
QKV_WIDTH_PER_HEAD = 3 * D_HEAD

# Ours -> NVIDIA's, applied in order to the part of a key after the model's prefix.
_RENAMES: tuple[tuple[str, str], ...] = (
    (r"^(phoneme_side|mel_side)\.pos_emb\.weight$", r"\1.position.weight"),
    (r"^(phoneme_side|mel_side)\.layers\.(\d+)\.", r"\1.layer_stack.\2."),
    (r"\.dec_attn\.qkv_net\.", ".slf_attn.linear."),
    (r"\.dec_attn\.o_net\.", ".slf_attn.fc."),
    (r"\.dec_attn\.layer_norm\.", ".slf_attn.layer_norm."),
    (r"\.pos_ff\.CoreNet\.0\.", ".pos_ffn.w_1."),
    (r"\.pos_ff\.CoreNet\.2\.", ".pos_ffn.w_2."),
    (r"\.pos_ff\.layer_norm\.", ".pos_ffn.layer_norm."),
    (r"^duration_predictor\.fc\.", "length_regulator.duration_predictor.linear_layer."),
)
_PREDICTOR_LAYER = re.compile(r"^duration_predictor\.layers\.(\d+)\.(conv|norm)\.")


def nvidia_name(key: str) -> str:
    """Our parameter name -> NVIDIA FastSpeech's."""
    for pattern, replacement in _RENAMES:
        key = re.sub(pattern, replacement, key)
    match = _PREDICTOR_LAYER.match(key)
    if match:
        kind = "conv1d" if match.group(2) == "conv" else "layer_norm"
        renamed = f"length_regulator.duration_predictor.{kind}_{int(match.group(1)) + 1}."
        key = renamed + key[match.end() :]
    return key


def nvidia_order(names: list[str]) -> list[str]:
    """NVIDIA's state_dict order of these names: as ours, except that each attention lists
    `linear`, `layer_norm`, `fc` (ours: qkv_net, o_net, layer_norm)."""
    group_start: dict[str, int] = {}

    def position(item: tuple[int, str]) -> tuple[int, int, int]:
        index, name = item
        group, _, rest = name.partition(".slf_attn.")
        if not rest:
            return index, 0, index
        start = group_start.setdefault(group, index)
        return start, _ATTENTION_ORDER[rest.split(".")[0]], index

    return [name for _, name in sorted(enumerate(names), key=position)]


_ATTENTION_ORDER = {"linear": 0, "layer_norm": 1, "fc": 2}


@dataclass
class FastSpeechConfig(ModelConfig):
    """NVIDIA's `Fastspeech(**kwargs)` arguments with hparams/base.yaml's values, plus n_symbols
    (NVIDIA: `len(symbols) + 1` = 149, id 0 = padding)."""

    model_label: ClassVar[str] = "FastSpeech"

    max_seq_len: int = 2048
    d_model: int = 384
    phoneme_side_n_layer: int = 6
    phoneme_side_head: int = 2
    phoneme_side_conv1d_filter_size: int = 1536
    phoneme_side_output_size: int = 384
    mel_side_n_layer: int = 6
    mel_side_head: int = 2
    mel_side_conv1d_filter_size: int = 1536
    mel_side_output_size: int = 384
    fft_conv1d_kernel: int = 3
    fft_conv1d_padding: int = 1
    duration_predictor_filter_size: int = 256
    duration_predictor_kernel_size: int = 3
    dropout: float = 0.1
    n_mels: int = 80
    fused_layernorm: bool = False  # apex's FusedLayerNorm: the same function as nn.LayerNorm
    # Not an NVIDIA kwarg.
    n_symbols: int = 149

    def __post_init__(self) -> None:
        kernel = self.fft_conv1d_kernel
        if kernel % 2 == 0 or self.fft_conv1d_padding != kernel // 2:
            raise SpeechSynthError(
                f"FastSpeech fft_conv1d_kernel={self.fft_conv1d_kernel} with padding "
                f"{self.fft_conv1d_padding} changes sequence lengths; use an odd kernel k with "
                "padding k // 2"
            )
        if self.duration_predictor_kernel_size != 3:
            raise SpeechSynthError(
                "FastSpeech's duration predictor pads by 1: duration_predictor_kernel_size must "
                f"be 3, got {self.duration_predictor_kernel_size}"
            )

    @classmethod
    def from_nvidia(
        cls, values: Mapping[str, Any] | None, state_dict: Mapping[str, Tensor] | None = None
    ) -> FastSpeechConfig:
        """NVIDIA's FastSpeech checkpoints hold no config (the sizes live in hparams yaml files):
        sizes are read from the weights' shapes, then `values` (if any) override them."""
        inferred = sizes_from_state_dict(state_dict) if state_dict else {}
        values = {**inferred, **(values or {})}
        refuse_unknown_keys(cls, values, "NVIDIA FastSpeech")
        return cls(**values)

    def nvidia_kwargs(self) -> dict[str, Any]:
        values = asdict(self)
        del values["n_symbols"]
        return values


def sizes_from_state_dict(state_dict: Mapping[str, Tensor]) -> dict[str, Any]:
    """The FastSpeechConfig sizes an NVIDIA FastSpeech state_dict was built with."""
    try:
        embedding = state_dict["word_emb.weight"]
        first_conv = state_dict["phoneme_side.layer_stack.0.pos_ffn.w_1.weight"]
        sizes: dict[str, Any] = {
            "n_symbols": embedding.shape[0],
            "d_model": embedding.shape[1],
            "max_seq_len": state_dict["phoneme_side.position.weight"].shape[0] - 1,
            "fft_conv1d_kernel": first_conv.shape[2],
            "fft_conv1d_padding": first_conv.shape[2] // 2,
            "duration_predictor_filter_size": state_dict[
                "length_regulator.duration_predictor.conv1d_1.weight"
            ].shape[0],
            "phoneme_side_output_size": embedding.shape[1],
            "mel_side_output_size": state_dict["mel_linear.weight"].shape[1],
            "n_mels": state_dict["mel_linear.weight"].shape[0],
        }
        for side in ("phoneme_side", "mel_side"):
            sizes.update(_side_sizes(state_dict, side))
    except KeyError as error:
        raise SpeechSynthError(f"not a FastSpeech state_dict: it lacks {error}") from None
    return sizes


def _side_sizes(state_dict: Mapping[str, Tensor], side: str) -> dict[str, int]:
    layer = re.compile(rf"^{side}\.layer_stack\.(\d+)\.")
    indices = {int(m.group(1)) for m in map(layer.match, state_dict) if m}
    first_layer = f"{side}.layer_stack.0"
    return {
        f"{side}_n_layer": len(indices),
        f"{side}_head": state_dict[f"{first_layer}.slf_attn.linear.weight"].shape[0]
        // QKV_WIDTH_PER_HEAD,
        f"{side}_conv1d_filter_size": state_dict[f"{first_layer}.pos_ffn.w_1.weight"].shape[0],
    }


class FastSpeechOutput(NamedTuple):
    mel: Tensor  # [B, T, n_mels]; padded frames hold mel_linear's bias, as NVIDIA's
    mel_mask: Tensor  # [B, T, 1] bool, True on valid frames
    durations: Tensor  # [B, L] predicted frames, clamp_min(exp(log_dur_pred) - 1, 0)
    log_dur_pred: Tensor  # [B, L] the predictor's output (trained against log(d + 1))
    mel_lengths: Tensor  # [B] int64


class FastSpeechInference(NamedTuple):
    mels: Tensor  # [B, n_mels, T]
    mel_lengths: Tensor  # [B] int64
    durations_pred: Tensor  # [B, L] frames, before alpha and rounding


class FastSpeech(nn.Module):
    def __init__(self, config: FastSpeechConfig):
        super().__init__()
        self.config = config
        c = config
        self.word_emb = nn.Embedding(c.n_symbols, c.d_model, padding_idx=0)
        self.phoneme_side = self._blocks(
            c.phoneme_side_n_layer, c.phoneme_side_head, c.phoneme_side_conv1d_filter_size
        )
        self.duration_predictor = TemporalPredictor(
            c.phoneme_side_output_size,
            c.duration_predictor_filter_size,
            c.duration_predictor_kernel_size,
            c.dropout,
            n_layers=2,
        )
        self.mel_side = self._blocks(
            c.mel_side_n_layer, c.mel_side_head, c.mel_side_conv1d_filter_size
        )
        self.mel_linear = nn.Linear(c.mel_side_output_size, c.n_mels)
        self._to_nvidia = {key: nvidia_name(key) for key in nn.Module.state_dict(self)}
        self._from_nvidia = {theirs: ours for ours, theirs in self._to_nvidia.items()}
        self._nvidia_order = nvidia_order(list(self._to_nvidia.values()))
        self.register_state_dict_post_hook(_rename_to_nvidia)
        self.register_load_state_dict_pre_hook(_rename_from_nvidia)

    def _blocks(self, n_layer: int, n_head: int, filter_size: int) -> FFTransformer:
        c = self.config
        blocks = FFTransformer(
            n_layer, n_head, c.d_model, D_HEAD, filter_size, c.fft_conv1d_kernel,
            c.dropout, ATTENTION_DROPOUT, qkv_layout="per_head", positions="table",
            max_positions=c.max_seq_len, mask_value=MASK_VALUE, output_bias=True,
        )  # fmt: skip
        for layer in blocks.layers:  # NVIDIA's initialisation of these two
            nn.init.xavier_normal_(layer.dec_attn.qkv_net.weight)
            nn.init.xavier_normal_(layer.dec_attn.o_net.weight)
        return blocks

    def forward(
        self,
        text: Tensor,
        text_lengths: Tensor | None = None,
        alpha: float = 1.0,
        durations: Tensor | None = None,
        padding_invariant: bool = False,
    ) -> FastSpeechOutput:
        """text [B, L] ids right-padded with 0; text_lengths [B] (default: the non-zero ids);
        `alpha` > 1 speaks slower (durations are multiplied by it); `durations` [B, L] frames
        (training targets) replace the predicted ones in the length regulator.
        `padding_invariant`: each item's output is what it would be alone (NVIDIA's depends
        slightly on the padding after it; see `speechsynth.models.transformer`)."""
        invariant = padding_invariant
        if text_lengths is None:
            text_lengths = (text != 0).sum(dim=1)
        embedded = self.word_emb(text)
        encoded, text_mask = self.phoneme_side(embedded, text_lengths, 0.0, invariant)
        log_dur_pred = self.duration_predictor(encoded, text_mask, invariant).squeeze(-1)
        predicted = torch.clamp_min(torch.exp(log_dur_pred) - 1, 0)
        frames, mel_lengths = regulate_length(
            encoded,
            predicted if durations is None else durations,
            alpha=alpha,
            rounding="half_even",
            max_frames=self.config.max_seq_len,
        )
        decoded, mel_mask = self.mel_side(frames, mel_lengths, 0.0, invariant)
        return FastSpeechOutput(
            self.mel_linear(decoded), mel_mask, predicted, log_dur_pred, mel_lengths
        )

    @torch.no_grad()
    def infer(
        self,
        text: Tensor,
        text_lengths: Tensor | None = None,
        alpha: float = 1.0,
        durations: Tensor | None = None,
        padding_invariant: bool = True,
    ) -> FastSpeechInference:
        """Mel spectrograms [B, n_mels, T] from symbol ids (arguments as `forward`; padding
        invariant by default: each utterance as it would be alone)."""
        output = self.forward(text, text_lengths, alpha, durations, padding_invariant)
        return FastSpeechInference(output.mel.transpose(1, 2), output.mel_lengths, output.durations)


def _rename_to_nvidia(
    module: FastSpeech, state_dict: dict[str, Any], prefix: str, local_metadata: Any
) -> None:
    """state_dict post-hook: our keys under `prefix` -> NVIDIA's names, in NVIDIA's order."""
    renamed = {}
    for key in [key for key in state_dict if key.startswith(prefix)]:
        name = key[len(prefix) :]
        renamed[module._to_nvidia.get(name, name)] = state_dict.pop(key)
    for name in module._nvidia_order:
        if name in renamed:
            state_dict[prefix + name] = renamed.pop(name)
    for name, value in renamed.items():
        state_dict[prefix + name] = value


def _rename_from_nvidia(
    module: FastSpeech,
    state_dict: dict[str, Any],
    prefix: str,
    local_metadata: Any,
    strict: bool,
    missing_keys: list[str],
    unexpected_keys: list[str],
    error_msgs: list[str],
) -> None:
    """load_state_dict pre-hook: NVIDIA's keys under `prefix` -> ours (others are left alone, to
    be reported as unexpected)."""
    for key in [key for key in state_dict if key.startswith(prefix)]:
        name = key[len(prefix) :]
        if name in module._from_nvidia:
            state_dict[prefix + module._from_nvidia[name]] = state_dict.pop(key)
