"""Tacotron 2 as in NVIDIA DeepLearningExamples: same parameter names, shapes and float operations.

`Tacotron2(config).state_dict()` has exactly the keys of NVIDIA's `Tacotron2(**config)`, so NVIDIA
checkpoints load strictly, and teacher-forced / inference outputs match NVIDIA's to float rounding.

NVIDIA's prenet applies dropout (p=0.5) even at inference. Here that is an explicit choice: on by
default (`prenet_dropout_at_inference=True`, as NVIDIA), seedable with a `torch.Generator`, and
replaceable by a mask provider so that recorded masks can be replayed.

Deliberate differences from NVIDIA, none of which changes a batch-1 result:
- in a batch, `infer` keeps the frames an utterance produced after its own stop frame out of its
  postnet convolutions (zero padding at every layer, as when decoded alone), so each utterance
  gets the postnet output it would get alone; those frames are returned as zeros.
- the encoder accepts lengths in any order (NVIDIA needs them sorted, longest first).
- teacher forcing works for batch 1 (NVIDIA's `gate_output.squeeze()` breaks it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.models.configs import ModelConfig
from speechsynth.models.masks import padding_mask

PrenetMaskProvider = Callable[[int, int, torch.Size], Tensor]
"""`(step, layer, shape) -> bool keep-mask of that shape`, used instead of random prenet draws.

In teacher forcing the prenet runs once over all frames: the provider is called with step 0 and
the shape [frames + 1, batch, prenet_dim] (the go frame first).
"""

GATE_PADDING_LOGIT = 1e3  # NVIDIA's parse_output: padded gate logits read as "stop"


@dataclass
class Tacotron2Config(ModelConfig):
    """NVIDIA's `Tacotron2(**kwargs)` arguments (published defaults), plus prenet options.

    Every field but the last two has NVIDIA's kwarg name, so `Tacotron2Config(**ckpt["config"])`
    accepts an NVIDIA checkpoint's config as is.
    """

    model_label: ClassVar[str] = "Tacotron2"

    mask_padding: bool = False
    n_mel_channels: int = 80
    n_symbols: int = 148
    symbols_embedding_dim: int = 512
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    attention_rnn_dim: int = 1024
    attention_dim: int = 128
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31
    n_frames_per_step: int = 1
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    max_decoder_steps: int = 2000
    gate_threshold: float = 0.5
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    decoder_no_early_stopping: bool = False
    # Not NVIDIA kwargs: NVIDIA hard-codes p=0.5 and applies it in training and inference alike.
    prenet_dropout: float = 0.5
    prenet_dropout_at_inference: bool = True

    def __post_init__(self) -> None:
        if self.n_frames_per_step != 1:
            raise SpeechSynthError(
                f"Tacotron2 n_frames_per_step={self.n_frames_per_step} is not supported: "
                "only 1 is (as in NVIDIA's training code)"
            )
        if not 0.0 <= self.prenet_dropout < 1.0:
            raise SpeechSynthError(
                f"Tacotron2 prenet_dropout={self.prenet_dropout} must be in [0, 1)"
            )

    def nvidia_kwargs(self) -> dict[str, Any]:
        """The config as NVIDIA's constructor takes it (without this package's prenet options)."""
        values = asdict(self)
        del values["prenet_dropout"], values["prenet_dropout_at_inference"]
        return values


# ----------------------------------------------------------------------------- building blocks


class XavierLinear(nn.Module):
    """`nn.Linear` with Xavier-uniform weights; the wrapper attribute name `linear_layer` is
    part of NVIDIA's parameter names."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, init_gain: str = "linear"):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class XavierConv1d(nn.Module):
    """`nn.Conv1d` ('same' padding for odd kernels) with Xavier-uniform weights, as `conv`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        init_gain: str = "linear",
    ):
        super().__init__()
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2, bias=bias
        )
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x)


def conv_batchnorm(in_channels: int, out_channels: int, kernel_size: int, init_gain: str):
    """One `Sequential(conv, BatchNorm1d)` block: keys `<i>.0.conv.*` and `<i>.1.*`."""
    return nn.Sequential(
        XavierConv1d(in_channels, out_channels, kernel_size, init_gain=init_gain),
        nn.BatchNorm1d(out_channels),
    )


# ----------------------------------------------------------------------------- encoder


class Encoder(nn.Module):
    """3 x (conv k5 -> BatchNorm -> ReLU -> dropout 0.5) then a bidirectional LSTM."""

    def __init__(self, config: Tacotron2Config):
        super().__init__()
        channels = config.encoder_embedding_dim
        self.convolutions = nn.ModuleList(
            conv_batchnorm(channels, channels, config.encoder_kernel_size, init_gain="relu")
            for _ in range(config.encoder_n_convolutions)
        )
        self.lstm = nn.LSTM(channels, channels // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, embedded: Tensor, lengths: Tensor) -> Tensor:
        """embedded [B, C, T_in] -> memory [B, T_in, C]; padded positions are zeros.

        As NVIDIA, the convolutions also read the padding symbols' embeddings, so a padded row's
        last few valid outputs depend on how far it is padded.
        """
        x = embedded
        for block in self.convolutions:
            x = F.dropout(F.relu(block(x)), 0.5, self.training)
        packed = nn.utils.rnn.pack_padded_sequence(
            x.transpose(1, 2), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, _ = self.lstm(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(
            outputs, batch_first=True, total_length=x.size(2)
        )
        return memory


# ----------------------------------------------------------------------------- decoder parts


@dataclass(frozen=True)
class PrenetDropout:
    """How the prenet drops units: keep-masks from `mask_provider`, else Bernoulli draws.

    The draws are `torch.empty_like(h).bernoulli_(1 - p)`, exactly what `F.dropout` does on CPU,
    so with `generator=None` a `torch.manual_seed` before the call reproduces NVIDIA's masks.
    """

    p: float = 0.5
    generator: torch.Generator | None = None
    mask_provider: PrenetMaskProvider | None = None

    def __call__(self, hidden: Tensor, step: int, layer: int) -> Tensor:
        if self.mask_provider is not None:
            keep = self.mask_provider(step, layer, hidden.shape).to(hidden.dtype)
            return hidden * (keep / (1.0 - self.p))
        keep = torch.empty_like(hidden).bernoulli_(1.0 - self.p, generator=self.generator)
        return hidden * keep.div_(1.0 - self.p)


class Prenet(nn.Module):
    """Two bias-free linear layers with ReLU, each followed by the (optional) prenet dropout."""

    def __init__(self, in_dim: int, sizes: list[int]):
        super().__init__()
        in_sizes = [in_dim, *sizes[:-1]]
        pairs = zip(in_sizes, sizes, strict=True)
        self.layers = nn.ModuleList(XavierLinear(n_in, n_out, bias=False) for n_in, n_out in pairs)

    def forward(self, x: Tensor, dropout: PrenetDropout | None = None, step: int = 0) -> Tensor:
        for layer_index, layer in enumerate(self.layers):
            x = F.relu(layer(x))
            if dropout is not None:
                x = dropout(x, step, layer_index)
        return x


class LocationLayer(nn.Module):
    """Convolves [previous, cumulative] attention weights into attention-space features."""

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int):
        super().__init__()
        self.location_conv = XavierConv1d(2, n_filters, kernel_size, bias=False)
        self.location_dense = XavierLinear(n_filters, attention_dim, bias=False, init_gain="tanh")

    def forward(self, weights_cat: Tensor) -> Tensor:
        """[B, 2, T_in] -> [B, T_in, attention_dim]."""
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    """Location-sensitive additive attention over the encoder memory."""

    def __init__(self, config: Tacotron2Config):
        super().__init__()
        attention_dim = config.attention_dim
        self.query_layer = XavierLinear(
            config.attention_rnn_dim, attention_dim, bias=False, init_gain="tanh"
        )
        self.memory_layer = XavierLinear(
            config.encoder_embedding_dim, attention_dim, bias=False, init_gain="tanh"
        )
        self.v = XavierLinear(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(
            config.attention_location_n_filters,
            config.attention_location_kernel_size,
            attention_dim,
        )

    def forward(
        self,
        query: Tensor,
        memory: Tensor,
        processed_memory: Tensor,
        weights_cat: Tensor,
        pad_mask: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """-> (context [B, C], weights [B, T_in]); padded text positions get weight 0."""
        processed_query = self.query_layer(query.unsqueeze(1))
        location_features = self.location_layer(weights_cat)
        energies = self.v(torch.tanh(processed_query + location_features + processed_memory))
        energies = energies.squeeze(2).masked_fill(pad_mask, -math.inf)
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class DecoderState(NamedTuple):
    """The recurrent state carried from one decoder step to the next (NVIDIA's names)."""

    attention_hidden: Tensor
    attention_cell: Tensor
    decoder_hidden: Tensor
    decoder_cell: Tensor
    attention_weights: Tensor
    attention_weights_cum: Tensor
    attention_context: Tensor


class DecoderOutputs(NamedTuple):
    mel_outputs: Tensor  # [B, n_mel, T]
    gate_outputs: Tensor  # [B, T] logits
    alignments: Tensor  # [B, T, T_in]


class Decoder(nn.Module):
    """Autoregressive decoder: prenet -> attention LSTM -> attention -> decoder LSTM -> frame."""

    def __init__(self, config: Tacotron2Config):
        super().__init__()
        self.n_mel_channels = config.n_mel_channels
        self.p_attention_dropout = config.p_attention_dropout
        self.p_decoder_dropout = config.p_decoder_dropout
        encoder_dim = config.encoder_embedding_dim
        self.prenet = Prenet(config.n_mel_channels, [config.prenet_dim, config.prenet_dim])
        self.attention_rnn = nn.LSTMCell(config.prenet_dim + encoder_dim, config.attention_rnn_dim)
        self.attention_layer = Attention(config)
        self.decoder_rnn = nn.LSTMCell(
            config.attention_rnn_dim + encoder_dim, config.decoder_rnn_dim
        )
        self.linear_projection = XavierLinear(
            config.decoder_rnn_dim + encoder_dim, config.n_mel_channels
        )
        self.gate_layer = XavierLinear(config.decoder_rnn_dim + encoder_dim, 1, init_gain="sigmoid")

    def initial_state(self, memory: Tensor) -> DecoderState:
        batch, text_length, encoder_dim = memory.shape
        attention_rnn_dim = self.attention_rnn.hidden_size
        decoder_rnn_dim = self.decoder_rnn.hidden_size
        return DecoderState(
            attention_hidden=memory.new_zeros(batch, attention_rnn_dim),
            attention_cell=memory.new_zeros(batch, attention_rnn_dim),
            decoder_hidden=memory.new_zeros(batch, decoder_rnn_dim),
            decoder_cell=memory.new_zeros(batch, decoder_rnn_dim),
            attention_weights=memory.new_zeros(batch, text_length),
            attention_weights_cum=memory.new_zeros(batch, text_length),
            attention_context=memory.new_zeros(batch, encoder_dim),
        )

    def step(
        self,
        prenet_output: Tensor,
        state: DecoderState,
        memory: Tensor,
        processed_memory: Tensor,
        pad_mask: Tensor,
    ) -> tuple[Tensor, Tensor, DecoderState]:
        """NVIDIA's `decode`: -> (mel frame [B, n_mel], gate logit [B, 1], next state)."""
        cell_input = torch.cat((prenet_output, state.attention_context), dim=1)
        attention_hidden, attention_cell = self.attention_rnn(
            cell_input, (state.attention_hidden, state.attention_cell)
        )
        # As NVIDIA, the dropped-out hidden state is also what the next step receives.
        attention_hidden = F.dropout(attention_hidden, self.p_attention_dropout, self.training)
        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)
        attention_context, attention_weights = self.attention_layer(
            attention_hidden, memory, processed_memory, weights_cat, pad_mask
        )
        decoder_input = torch.cat((attention_hidden, attention_context), dim=1)
        decoder_hidden, decoder_cell = self.decoder_rnn(
            decoder_input, (state.decoder_hidden, state.decoder_cell)
        )
        decoder_hidden = F.dropout(decoder_hidden, self.p_decoder_dropout, self.training)
        hidden_and_context = torch.cat((decoder_hidden, attention_context), dim=1)
        new_state = DecoderState(
            attention_hidden,
            attention_cell,
            decoder_hidden,
            decoder_cell,
            attention_weights,
            state.attention_weights_cum + attention_weights,
            attention_context,
        )
        mel_frame = self.linear_projection(hidden_and_context)
        return mel_frame, self.gate_layer(hidden_and_context), new_state

    def forward(
        self,
        memory: Tensor,
        pad_mask: Tensor,
        mels: Tensor,
        prenet_dropout: PrenetDropout | None,
    ) -> DecoderOutputs:
        """Teacher forcing: step t reads target frame t - 1 (a zero go frame at t = 0)."""
        frames = mels.permute(2, 0, 1)  # [T, B, n_mel]
        go_frame = frames.new_zeros(1, *frames.shape[1:])
        # NVIDIA runs the prenet over T + 1 frames (the last one unused); kept for its RNG order.
        prenet_outputs = self.prenet(torch.cat((go_frame, frames)), prenet_dropout)
        processed_memory = self.attention_layer.memory_layer(memory)
        state = self.initial_state(memory)
        mel_frames, gate_logits, alignments = [], [], []
        for step in range(frames.size(0)):
            mel_frame, gate_logit, state = self.step(
                prenet_outputs[step], state, memory, processed_memory, pad_mask
            )
            mel_frames.append(mel_frame)
            gate_logits.append(gate_logit)
            alignments.append(state.attention_weights)
        return stack_decoder_outputs(mel_frames, gate_logits, alignments)


def stack_decoder_outputs(
    mel_frames: list[Tensor], gate_logits: list[Tensor], alignments: list[Tensor]
) -> DecoderOutputs:
    """Per-step lists -> mel [B, n_mel, T], gate [B, T], alignments [B, T, T_in]."""
    return DecoderOutputs(
        mel_outputs=torch.stack(mel_frames, dim=2),
        gate_outputs=torch.cat(gate_logits, dim=1),
        alignments=torch.stack(alignments, dim=1),
    )


# ----------------------------------------------------------------------------- postnet


class Postnet(nn.Module):
    """5 x (conv k5 + BatchNorm), tanh on all but the last; predicts a residual for the mel."""

    def __init__(self, config: Tacotron2Config):
        super().__init__()
        n_mel, channels = config.n_mel_channels, config.postnet_embedding_dim
        kernel_size, n_convs = config.postnet_kernel_size, config.postnet_n_convolutions
        blocks = [conv_batchnorm(n_mel, channels, kernel_size, init_gain="tanh")]
        blocks += [
            conv_batchnorm(channels, channels, kernel_size, init_gain="tanh")
            for _ in range(n_convs - 2)
        ]
        blocks.append(conv_batchnorm(channels, n_mel, kernel_size, init_gain="linear"))
        self.convolutions = nn.ModuleList(blocks)

    def forward(self, mel: Tensor, frame_mask: Tensor | None = None) -> Tensor:
        """mel [B, n_mel, T] -> residual. `frame_mask` [B, T] (True = padding) zeroes every
        layer's input there, so each row sees the zero padding it would see alone."""
        x = mel
        for index, block in enumerate(self.convolutions):
            if frame_mask is not None:
                x = x.masked_fill(frame_mask.unsqueeze(1), 0.0)
            x = block(x)
            if index < len(self.convolutions) - 1:
                x = torch.tanh(x)
            x = F.dropout(x, 0.5, self.training)
        return x


# ----------------------------------------------------------------------------- the model


class EncoderOutputs(NamedTuple):
    memory: Tensor  # [B, T_in, encoder_embedding_dim], zeros past each length
    processed_memory: Tensor  # [B, T_in, attention_dim] = attention memory_layer(memory)


class Tacotron2Outputs(NamedTuple):
    """Teacher-forced outputs, in NVIDIA's order."""

    mel_outputs: Tensor  # [B, n_mel, T] decoder output before the postnet
    mel_outputs_postnet: Tensor  # [B, n_mel, T]
    gate_outputs: Tensor  # [B, T] logits
    alignments: Tensor  # [B, T, T_in]


class Tacotron2Inference(NamedTuple):
    """`infer` results; the first three are what NVIDIA's `Tacotron2.infer` returns."""

    mel_outputs_postnet: Tensor  # [B, n_mel, T]
    mel_lengths: Tensor  # [B] int32: frames before the gate fired (or all, if it never did)
    alignments: Tensor  # [B, T, T_in]
    reached_max_decoder_steps: Tensor  # [B] bool: the gate never fired within the step limit
    mel_outputs: Tensor  # [B, n_mel, T] before the postnet
    gate_outputs: Tensor  # [B, T] logits


class Tacotron2(nn.Module):
    """NVIDIA's Tacotron 2: `state_dict()` keys and shapes are those of NVIDIA's class."""

    def __init__(self, config: Tacotron2Config | None = None):
        super().__init__()
        self.config = config = config or Tacotron2Config()
        self.embedding = nn.Embedding(config.n_symbols, config.symbols_embedding_dim)
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (config.n_symbols + config.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.postnet = Postnet(config)

    def prenet_dropout(
        self,
        generator: torch.Generator | None = None,
        mask_provider: PrenetMaskProvider | None = None,
    ) -> PrenetDropout | None:
        """The prenet dropout to apply now: a mask provider always wins; otherwise dropout is
        on in training, and at inference unless `config.prenet_dropout_at_inference` is off."""
        config = self.config
        if mask_provider is not None:
            return PrenetDropout(config.prenet_dropout, mask_provider=mask_provider)
        active = self.training or config.prenet_dropout_at_inference
        if not active or config.prenet_dropout == 0.0:
            return None
        return PrenetDropout(config.prenet_dropout, generator=generator)

    def encode(self, text: Tensor, text_lengths: Tensor) -> EncoderOutputs:
        """text [B, T_in] int64 (padded with 0) -> encoder memory and its attention projection."""
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        return EncoderOutputs(memory, self.decoder.attention_layer.memory_layer(memory))

    def forward(
        self,
        text: Tensor,
        text_lengths: Tensor,
        mels: Tensor,
        mel_lengths: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
        prenet_masks: PrenetMaskProvider | None = None,
    ) -> Tacotron2Outputs:
        """Teacher forcing on target mels [B, n_mel, T]. With `config.mask_padding` and
        `mel_lengths`, padded frames are 0 in both mels and 1e3 in the gate logits (as NVIDIA)."""
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        pad_mask = padding_mask(text_lengths.to(memory.device), memory.size(1))
        dropout = self.prenet_dropout(generator, prenet_masks)
        mel_outputs, gate_outputs, alignments = self.decoder(memory, pad_mask, mels, dropout)
        mel_outputs_postnet = mel_outputs + self.postnet(mel_outputs)
        if self.config.mask_padding and mel_lengths is not None:
            frame_mask = padding_mask(mel_lengths.to(mels.device), mels.size(2))
            mel_outputs = mel_outputs.masked_fill(frame_mask.unsqueeze(1), 0.0)
            mel_outputs_postnet = mel_outputs_postnet.masked_fill(frame_mask.unsqueeze(1), 0.0)
            gate_outputs = gate_outputs.masked_fill(frame_mask, GATE_PADDING_LOGIT)
        return Tacotron2Outputs(mel_outputs, mel_outputs_postnet, gate_outputs, alignments)

    def infer(
        self,
        text: Tensor,
        text_lengths: Tensor,
        *,
        max_decoder_steps: int | None = None,
        generator: torch.Generator | None = None,
        prenet_masks: PrenetMaskProvider | None = None,
    ) -> Tacotron2Inference:
        """Free-running synthesis. Each utterance stops when sigmoid(gate) > gate_threshold; the
        loop ends when all have (unless `decoder_no_early_stopping`) or after `max_decoder_steps`
        (default: the config's). Run it under `torch.inference_mode()`."""
        memory, processed_memory = self.encode(text, text_lengths)
        pad_mask = padding_mask(text_lengths.to(memory.device), memory.size(1))
        steps = self.config.max_decoder_steps if max_decoder_steps is None else max_decoder_steps
        if steps < 1:
            raise SpeechSynthError(f"max_decoder_steps must be at least 1, got {steps}")
        decoded, mel_lengths, still_running = self._decode_free_running(
            memory, processed_memory, pad_mask, steps, self.prenet_dropout(generator, prenet_masks)
        )
        n_frames = decoded.mel_outputs.size(2)
        frames_made = torch.where(still_running, n_frames, mel_lengths + 1)
        # Frames after an utterance's stop frame must not reach its postnet convolutions.
        frame_mask = padding_mask(frames_made.to(memory.device), n_frames)
        mel_outputs = decoded.mel_outputs.masked_fill(frame_mask.unsqueeze(1), 0.0)
        postnet_mask = frame_mask if bool(frame_mask.any()) else None
        mel_outputs_postnet = mel_outputs + self.postnet(mel_outputs, postnet_mask)
        return Tacotron2Inference(
            mel_outputs_postnet=mel_outputs_postnet.masked_fill(frame_mask.unsqueeze(1), 0.0),
            mel_lengths=mel_lengths,
            alignments=decoded.alignments.masked_fill(frame_mask.unsqueeze(2), 0.0),
            reached_max_decoder_steps=still_running,
            mel_outputs=mel_outputs,
            gate_outputs=decoded.gate_outputs,
        )

    def _decode_free_running(
        self,
        memory: Tensor,
        processed_memory: Tensor,
        pad_mask: Tensor,
        max_steps: int,
        prenet_dropout: PrenetDropout | None,
    ) -> tuple[DecoderOutputs, Tensor, Tensor]:
        """NVIDIA's `Decoder.infer` loop -> (outputs, mel_lengths int32, still-running bool)."""
        decoder, config = self.decoder, self.config
        batch = memory.size(0)
        state = decoder.initial_state(memory)
        frame = memory.new_zeros(batch, config.n_mel_channels)
        not_finished = torch.ones(batch, dtype=torch.int32, device=memory.device)
        mel_lengths = torch.zeros(batch, dtype=torch.int32, device=memory.device)
        mel_frames, gate_logits, alignments = [], [], []
        for step in range(max_steps):
            prenet_output = decoder.prenet(frame, prenet_dropout, step)
            frame, gate_logit, state = decoder.step(
                prenet_output, state, memory, processed_memory, pad_mask
            )
            mel_frames.append(frame)
            gate_logits.append(gate_logit)
            alignments.append(state.attention_weights)
            # An utterance's length counts the steps before its gate first fires.
            keeps_going = torch.sigmoid(gate_logit.squeeze(1)) <= config.gate_threshold
            not_finished.mul_(keeps_going)
            mel_lengths.add_(not_finished)
            if not config.decoder_no_early_stopping and not bool(not_finished.any()):
                break
        outputs = stack_decoder_outputs(mel_frames, gate_logits, alignments)
        return outputs, mel_lengths, not_finished.bool()
