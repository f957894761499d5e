"""Batched text-to-speech: text in, one waveform per utterance out.

`Synthesizer` splits long utterances into sentence chunks, sorts the chunks by length (so a batch
holds similar lengths: padding changes a Tacotron 2 encoder's output slightly), runs them through
the acoustic model `batch_size` at a time, vocodes each batch, and joins every utterance's chunks
with a short silence. An utterance that reaches the decoder's step limit is reported with a
warning naming it: its audio may be cut off, and that is never silent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.pitch_transforms import PitchTransform
from speechsynth.infer.vocoders import SILENCE_LOG_MEL, Vocoder
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import MODELS, LoadedModel
from speechsynth.text import TextProcessor, split_sentences

log = logging.getLogger(__name__)

# A length Tacotron 2 trained on LJSpeech (clips up to ~10 s) reads reliably in one pass.
DEFAULT_MAX_CHARS_PER_CHUNK = 300
DEFAULT_CHUNK_SILENCE_SECONDS = 0.15
PREVIEW_WORDS = 6


@dataclass(frozen=True)
class SynthesisResult:
    """One utterance's audio and what it took to make it."""

    name: str
    text: str
    audio: np.ndarray  # float32 [hop_length * n_frames], in [-1, 1]
    mel: Tensor  # [n_mels, n_frames] on the CPU; chunk joins are silence frames
    n_frames: int
    seconds: float  # of audio
    hit_max_decoder_steps: bool  # some chunk never reached the stop gate: audio may be cut off
    synthesis_seconds: float  # its share of the batches' wall time (model + vocoder), by frames
    n_chunks: int


class ModelOutput(NamedTuple):
    """What every acoustic model's runner returns for a batch."""

    mels: Tensor  # [B, n_mels, T] log-mel, padded
    mel_lengths: Tensor  # [B] valid frames per utterance
    hit_max_decoder_steps: Tensor  # [B] bool


@dataclass(frozen=True)
class DecodeOptions:
    max_decoder_steps: int | None = None  # Tacotron 2; None: the model config's
    gate_threshold: float | None = None  # Tacotron 2; None: the model config's
    generator: torch.Generator | None = None  # prenet dropout draws; None: torch's global RNG
    pace: float = 1.0  # FastPitch: > 1 speaks faster (durations are divided by it)
    pitch_transform: PitchTransform | None = None  # FastPitch
    alpha: float = 1.0  # FastSpeech: > 1 speaks slower (durations are multiplied by it)


ModelRunner = Callable[[nn.Module, Tensor, Tensor, DecodeOptions], ModelOutput]


def run_tacotron2(
    model: nn.Module, text: Tensor, text_lengths: Tensor, options: DecodeOptions
) -> ModelOutput:
    with config_overridden(model, gate_threshold=options.gate_threshold):
        output = model.infer(
            text,
            text_lengths,
            max_decoder_steps=options.max_decoder_steps,
            generator=options.generator,
        )
    return ModelOutput(
        output.mel_outputs_postnet, output.mel_lengths, output.reached_max_decoder_steps
    )


def run_fastpitch(
    model: nn.Module, text: Tensor, text_lengths: Tensor, options: DecodeOptions
) -> ModelOutput:
    output = model.infer(
        text, text_lengths, pace=options.pace, pitch_transform=options.pitch_transform
    )
    return ModelOutput(output.mels, output.mel_lengths, _never(output.mel_lengths))


def run_fastspeech(
    model: nn.Module, text: Tensor, text_lengths: Tensor, options: DecodeOptions
) -> ModelOutput:
    output = model.infer(text, text_lengths, alpha=options.alpha)
    return ModelOutput(output.mels, output.mel_lengths, _never(output.mel_lengths))


def _never(lengths: Tensor) -> Tensor:
    """Parallel models have no decoder step limit to reach."""
    return torch.zeros_like(lengths, dtype=torch.bool)


# One entry per synthesisable model in the registry.
MODEL_RUNNERS: dict[str, ModelRunner] = {
    "tacotron2": run_tacotron2,
    "fastpitch": run_fastpitch,
    "fastspeech": run_fastspeech,
}


@dataclass
class _Chunk:
    """A piece of one utterance, as it travels through a batch."""

    utterance_index: int
    ids: list[int]
    mel: Tensor | None = None
    audio: np.ndarray | None = None
    hit_max_decoder_steps: bool = False
    synthesis_seconds: float = 0.0


class Synthesizer:
    """Text to audio with a loaded acoustic model and a vocoder, in batches.

    With a `seed`, text encoding (ARPAbet draws) and prenet dropout are reproducible for the same
    inputs and batch size. Prenet dropout stays on at inference unless the model config turns it
    off (as NVIDIA), and its draws depend on how chunks are batched.
    """

    def __init__(
        self,
        loaded_model: LoadedModel,
        vocoder: Vocoder,
        batch_size: int = 8,
        max_decoder_steps: int | None = None,
        gate_threshold: float | None = None,
        seed: int | None = None,
        max_chars_per_chunk: int = DEFAULT_MAX_CHARS_PER_CHUNK,
        chunk_silence_seconds: float = DEFAULT_CHUNK_SILENCE_SECONDS,
        pace: float = 1.0,
        pitch_transform: PitchTransform | None = None,
        alpha: float = 1.0,
    ) -> None:
        if loaded_model.name not in MODEL_RUNNERS:
            raise SpeechSynthError(_not_a_text_model(loaded_model))
        _check_at_least("batch_size", batch_size, 1)
        _check_at_least("max_decoder_steps", max_decoder_steps, 1)
        _check_at_least("max_chars_per_chunk", max_chars_per_chunk, 1)
        _check_at_least("chunk_silence_seconds", chunk_silence_seconds, 0)
        _check_positive("pace", pace)
        _check_positive("alpha", alpha)
        self.loaded_model = loaded_model
        self.model = loaded_model.model.eval()
        self.vocoder = vocoder
        self.batch_size = batch_size
        self.max_decoder_steps = max_decoder_steps
        self.gate_threshold = gate_threshold
        self.seed = seed
        self.max_chars_per_chunk = max_chars_per_chunk
        self.pace, self.pitch_transform, self.alpha = pace, pitch_transform, alpha
        self.gap_frames = round(chunk_silence_seconds * vocoder.sampling_rate / vocoder.hop_length)

    @property
    def decoder_step_limit(self) -> int | None:
        """The step limit in force: the override, else the model config's (None: no such limit)."""
        if self.max_decoder_steps is not None:
            return self.max_decoder_steps
        return getattr(self.loaded_model.config, "max_decoder_steps", None)

    @property
    def device(self) -> torch.device:
        # An ONNX Runtime model has no parameters: its inputs come from the CPU.
        parameters = self.model.parameters() if isinstance(self.model, nn.Module) else iter(())
        parameter = next(parameters, None)
        return parameter.device if parameter is not None else torch.device("cpu")

    def synthesize(self, utterances: Sequence[tuple[str, str]]) -> list[SynthesisResult]:
        """Audio for each `(name, text)`, in the order given."""
        chunks = self._encode(utterances)
        options = DecodeOptions(
            self.max_decoder_steps,
            self.gate_threshold,
            self._generator(),
            self.pace,
            self.pitch_transform,
            self.alpha,
        )
        for batch in self._batches(chunks):
            self._run_batch(batch, options)
        chunks_by_utterance: list[list[_Chunk]] = [[] for _ in utterances]
        for chunk in chunks:  # still in text order: batching sorted a copy
            chunks_by_utterance[chunk.utterance_index].append(chunk)
        results = [
            self._assemble(name, text, chunks_by_utterance[index])
            for index, (name, text) in enumerate(utterances)
        ]
        for result in results:
            if result.hit_max_decoder_steps:
                self._warn_cut_off(result)
        return results

    def _encode(self, utterances: Sequence[tuple[str, str]]) -> list[_Chunk]:
        loaded = self.loaded_model
        # A fresh processor per call: the same seed gives the same ARPAbet draws every call.
        processor = TextProcessor.for_setup(loaded.text_setup, seed=self.seed)
        chunks = []
        for index, (name, text) in enumerate(utterances):
            pieces = split_sentences(text, self.max_chars_per_chunk)
            if not pieces:
                raise SpeechSynthError(f"utterance {name!r}: no text to synthesise")
            for piece in pieces:
                try:
                    chunks.append(_Chunk(index, processor.encode(piece)))
                except SpeechSynthError as error:
                    raise SpeechSynthError(f"utterance {name!r}: {error}") from None
        return chunks

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator(device=self.device).manual_seed(self.seed)

    def _batches(self, chunks: list[_Chunk]) -> Iterator[list[_Chunk]]:
        by_length = sorted(chunks, key=lambda chunk: len(chunk.ids), reverse=True)
        for start in range(0, len(by_length), self.batch_size):
            yield by_length[start : start + self.batch_size]

    def _run_batch(self, batch: list[_Chunk], options: DecodeOptions) -> None:
        text, text_lengths = _pad_ids([chunk.ids for chunk in batch], self.device)
        started = time.perf_counter()
        with torch.inference_mode():
            output = MODEL_RUNNERS[self.loaded_model.name](self.model, text, text_lengths, options)
        audios = self.vocoder(output.mels, output.mel_lengths)
        elapsed = time.perf_counter() - started
        lengths = [int(length) for length in output.mel_lengths]
        for i, chunk in enumerate(batch):
            chunk.mel = output.mels[i, :, : lengths[i]].float().cpu()
            chunk.audio = audios[i]
            chunk.hit_max_decoder_steps = bool(output.hit_max_decoder_steps[i])
        _share_time(batch, lengths, elapsed)

    def _assemble(self, name: str, text: str, chunks: list[_Chunk]) -> SynthesisResult:
        """Join an utterance's chunks (in text order) with `gap_frames` of silence."""
        mels, audios = [], []
        for position, chunk in enumerate(chunks):
            if position > 0:
                mels.append(torch.full((chunk.mel.size(0), self.gap_frames), SILENCE_LOG_MEL))
                audios.append(np.zeros(self.gap_frames * self.vocoder.hop_length, np.float32))
            mels.append(chunk.mel)
            audios.append(chunk.audio)
        mel = torch.cat(mels, dim=1)
        audio = np.concatenate(audios).astype(np.float32, copy=False)
        return SynthesisResult(
            name=name,
            text=text,
            audio=audio,
            mel=mel,
            n_frames=mel.size(1),
            seconds=len(audio) / self.vocoder.sampling_rate,
            hit_max_decoder_steps=any(chunk.hit_max_decoder_steps for chunk in chunks),
            synthesis_seconds=sum(chunk.synthesis_seconds for chunk in chunks),
            n_chunks=len(chunks),
        )

    def _warn_cut_off(self, result: SynthesisResult) -> None:
        log.warning(
            "%s (%s): reached max_decoder_steps=%s before the model signalled the end of speech; "
            "its %.2f s of audio may be cut off (raise max_decoder_steps, or split the text)",
            result.name,
            _preview(result.text),
            self.decoder_step_limit,
            result.seconds,
        )


def _not_a_text_model(loaded: LoadedModel) -> str:
    spec = MODELS.get(loaded.name)
    if spec is not None and spec.role == "vocoder":
        return (
            f"{loaded.source}: a {loaded.name} checkpoint is a vocoder (mel -> audio), not a text "
            f"model; pass it with --vocoder, and a {', '.join(MODEL_RUNNERS)} model as the voice"
        )
    return (
        f"{loaded.source}: synthesis with {loaded.name} is not supported "
        f"(text models: {', '.join(MODEL_RUNNERS)})"
    )


def _check_at_least(name: str, value: float | None, minimum: float) -> None:
    if value is not None and value < minimum:
        raise SpeechSynthError(f"{name} must be at least {minimum}, got {value}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise SpeechSynthError(f"{name} must be greater than 0, got {value}")


def _pad_ids(sequences: list[list[int]], device: torch.device) -> tuple[Tensor, Tensor]:
    """Right-pad with the pad id 0 -> (ids [B, T_in] int64, lengths [B] int64)."""
    lengths = torch.tensor([len(ids) for ids in sequences], dtype=torch.long)
    padded = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
    for row, ids in enumerate(sequences):
        padded[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return padded.to(device), lengths.to(device)


def _share_time(batch: list[_Chunk], lengths: list[int], elapsed: float) -> None:
    """Split a batch's wall time among its chunks in proportion to the frames each produced."""
    total_frames = sum(lengths)
    for chunk, frames in zip(batch, lengths, strict=True):
        share = frames / total_frames if total_frames else 1 / len(batch)
        chunk.synthesis_seconds = elapsed * share


def _preview(text: str) -> str:
    """The utterance's first few words, quoted, to find it in the input."""
    words = text.split()
    shown = " ".join(words[:PREVIEW_WORDS])
    return f'"{shown} ..."' if len(words) > PREVIEW_WORDS else f'"{shown}"'
