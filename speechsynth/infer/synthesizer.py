"""Batched text-to-speech: text in, one waveform per utterance out.

`Synthesizer` splits long utterances into sentence chunks, sorts the chunks by length (so a batch
holds similar lengths: padding changes a Tacotron 2 encoder's output slightly), runs them through
the acoustic model `batch_size` at a time, vocodes each batch, and joins every utterance's chunks
with a short silence. An utterance that reaches the decoder's step limit is reported with a
warning naming it: its audio may be cut off, and that is never silent. `stream` gives one
utterance's audio chunk by chunk instead, each as soon as it is made.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import AcousticModel, Controls, pad_ids
from speechsynth.infer.stage_clock import timed_stage
from speechsynth.infer.vocoder_interface import SILENCE_LOG_MEL, Vocoder
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
    mel: np.ndarray  # float32 [n_mels, n_frames]; chunk joins are silence frames
    n_frames: int
    seconds: float  # of audio
    hit_max_decoder_steps: bool  # some chunk never reached the stop gate: audio may be cut off
    synthesis_seconds: float  # its share of the batches' wall time (model + vocoder), by frames
    n_chunks: int


@dataclass
class _Chunk:
    """A piece of one utterance, as it travels through a batch."""

    utterance_index: int
    ids: list[int]
    mel: np.ndarray | None = None
    audio: np.ndarray | None = None
    hit_max_decoder_steps: bool = False
    synthesis_seconds: float = 0.0


@dataclass(frozen=True)
class AudioChunk:
    """One piece of a streamed utterance: a sentence chunk's audio, and the silence that joins
    it to the next (the last chunk has none)."""

    audio: np.ndarray  # float32 in [-1, 1]
    index: int  # 0, 1, ... in text order
    is_last: bool
    ready_seconds: float  # from the call to this chunk being ready (the first: time to audio)


class Synthesizer:
    """Text to audio with an acoustic model and a vocoder (any runtime), in batches.

    With a `seed`, text encoding (ARPAbet draws) and prenet dropout are reproducible for the same
    inputs and batch size where the runtime can seed them. Prenet dropout stays on at inference
    unless the model config turns it off (as NVIDIA), and its draws depend on how chunks are
    batched.
    """

    def __init__(
        self,
        acoustic_model: AcousticModel,
        vocoder: Vocoder,
        batch_size: int = 8,
        seed: int | None = None,
        max_chars_per_chunk: int = DEFAULT_MAX_CHARS_PER_CHUNK,
        chunk_silence_seconds: float = DEFAULT_CHUNK_SILENCE_SECONDS,
        controls: Controls | None = None,
    ) -> None:
        _check_at_least("batch_size", batch_size, 1)
        _check_at_least("max_chars_per_chunk", max_chars_per_chunk, 1)
        _check_at_least("chunk_silence_seconds", chunk_silence_seconds, 0)
        self.controls = controls or Controls()
        acoustic_model.check_controls(self.controls)
        self.acoustic_model = acoustic_model
        self.vocoder = vocoder
        self.batch_size = batch_size
        self.seed = seed
        self.max_chars_per_chunk = max_chars_per_chunk
        self.gap_frames = round(chunk_silence_seconds * vocoder.sampling_rate / vocoder.hop_length)

    @property
    def decoder_step_limit(self) -> int | None:
        """The step limit in force: the override, else the model config's (None: no such limit)."""
        return self.acoustic_model.decoder_step_limit(self.controls)

    def synthesize(self, utterances: Sequence[tuple[str, str]]) -> list[SynthesisResult]:
        """Audio for each `(name, text)`, in the order given."""
        chunks = self._encode(utterances)
        for batch in self._batches(chunks):
            self._run_batch(batch)
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

    def mels(self, utterances: Sequence[tuple[str, str]]) -> list[np.ndarray]:
        """Each `(name, text)`'s log-mel [n_mels, frames] as `synthesize` makes it (chunks
        joined by silence frames), without running the vocoder."""
        chunks = self._encode(utterances)
        for batch in self._batches(chunks):
            self._run_batch(batch, vocode=False)
        chunks_by_utterance: list[list[_Chunk]] = [[] for _ in utterances]
        for chunk in chunks:
            chunks_by_utterance[chunk.utterance_index].append(chunk)
        return [self._joined_mel(pieces) for pieces in chunks_by_utterance]

    def stream(self, text: str, name: str = "stream") -> Iterator[AudioChunk]:
        """`text`'s audio chunk by chunk, each ready as soon as it is made: the text is split as
        `synthesize` splits it (sentences, at most `max_chars_per_chunk` characters) and every
        chunk runs alone through the model and the vocoder, in order. Joined, the chunks are
        `synthesize`'s audio for the text. Bad text fails before the first chunk."""
        started = time.perf_counter()
        chunks = self._encode([(name, text)])
        gap = np.zeros(self.gap_frames * self.vocoder.hop_length, np.float32)
        for index, chunk in enumerate(chunks):
            self._run_batch([chunk])
            is_last = index == len(chunks) - 1
            audio = chunk.audio if is_last else np.concatenate([chunk.audio, gap])
            if chunk.hit_max_decoder_steps:
                self._warn_cut_off(self._assemble(name, text, [chunk]))
            yield AudioChunk(audio, index, is_last, time.perf_counter() - started)

    def check_text(self, text: str) -> None:
        """The error `synthesize` would raise for `text` (SpeechSynthError: nothing to say, a
        symbol the voice lacks), raised now, before any model runs."""
        self._encode_text(self._processor(), text)

    def _processor(self) -> TextProcessor:
        # A fresh processor per call: the same seed gives the same ARPAbet draws every call.
        return TextProcessor.for_setup(self.acoustic_model.text_setup, seed=self.seed)

    def _encode_text(self, processor: TextProcessor, text: str) -> list[list[int]]:
        pieces = split_sentences(text, self.max_chars_per_chunk)
        if not pieces:
            raise SpeechSynthError("no text to synthesise")
        return [processor.encode(piece) for piece in pieces]

    def _encode(self, utterances: Sequence[tuple[str, str]]) -> list[_Chunk]:
        processor = self._processor()
        chunks = []
        with timed_stage("text"):
            for index, (name, text) in enumerate(utterances):
                try:
                    chunks += [_Chunk(index, ids) for ids in self._encode_text(processor, text)]
                except SpeechSynthError as error:
                    raise SpeechSynthError(f"utterance {name!r}: {error}") from None
        return chunks

    def _batches(self, chunks: list[_Chunk]) -> Iterator[list[_Chunk]]:
        by_length = sorted(chunks, key=lambda chunk: len(chunk.ids), reverse=True)
        for start in range(0, len(by_length), self.batch_size):
            yield by_length[start : start + self.batch_size]

    def _run_batch(self, batch: list[_Chunk], vocode: bool = True) -> None:
        ids, lengths = pad_ids([chunk.ids for chunk in batch])
        started = time.perf_counter()
        with timed_stage("generator"):
            output = self.acoustic_model.generate(ids, lengths, self.controls, self.seed)
        audios: list = [None] * len(batch)
        if vocode:
            with timed_stage("vocoder"):
                audios = self.vocoder(output.mels, output.mel_lengths)
        elapsed = time.perf_counter() - started
        frames = [int(length) for length in output.mel_lengths]
        for i, chunk in enumerate(batch):
            chunk.mel = output.mels[i, :, : frames[i]].astype(np.float32)
            chunk.audio = audios[i]
            chunk.hit_max_decoder_steps = bool(output.hit_max_decoder_steps[i])
        _share_time(batch, frames, elapsed)

    def _assemble(self, name: str, text: str, chunks: list[_Chunk]) -> SynthesisResult:
        """Join an utterance's chunks (in text order) with `gap_frames` of silence."""
        audios = []
        for position, chunk in enumerate(chunks):
            if position > 0:
                audios.append(np.zeros(self.gap_frames * self.vocoder.hop_length, np.float32))
            audios.append(chunk.audio)
        mel = self._joined_mel(chunks)
        audio = np.concatenate(audios).astype(np.float32, copy=False)
        return SynthesisResult(
            name=name,
            text=text,
            audio=audio,
            mel=mel,
            n_frames=mel.shape[1],
            seconds=len(audio) / self.vocoder.sampling_rate,
            hit_max_decoder_steps=any(chunk.hit_max_decoder_steps for chunk in chunks),
            synthesis_seconds=sum(chunk.synthesis_seconds for chunk in chunks),
            n_chunks=len(chunks),
        )

    def _joined_mel(self, chunks: list[_Chunk]) -> np.ndarray:
        """An utterance's chunk mels (in text order) joined by `gap_frames` of silence."""
        mels = []
        for position, chunk in enumerate(chunks):
            if position > 0:
                silence = np.full((chunk.mel.shape[0], self.gap_frames), SILENCE_LOG_MEL)
                mels.append(silence.astype(np.float32))
            mels.append(chunk.mel)
        return np.concatenate(mels, axis=1)

    def _warn_cut_off(self, result: SynthesisResult) -> None:
        log.warning(
            "%s (%s): reached max_decoder_steps=%s before the model signalled the end of speech; "
            "its %.2f s of audio may be cut off (raise max_decoder_steps, or split the text)",
            result.name,
            _preview(result.text),
            self.decoder_step_limit,
            result.seconds,
        )


def _check_at_least(name: str, value: float | None, minimum: float) -> None:
    if value is not None and value < minimum:
        raise SpeechSynthError(f"{name} must be at least {minimum}, got {value}")


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
