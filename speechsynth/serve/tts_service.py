"""What the served models do, free of Triton: requests' tensors in, responses' tensors out.

A request holds a batch of texts (Triton's `TEXT`, BYTES [N, 1]) and, where the voice has the
control, one `PACE` / `PITCH_SHIFT` (FP32 [N, 1]; a request's first row counts). Every problem
with a request is a `RequestError` whose message names the input and the fix; the Triton
backend answers that request with it and serves the others of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.pitch_transforms import PitchTransformSpec
from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.vocoder_interface import SILENCE_LOG_MEL
from speechsynth.infer.voice import STREAM_CHUNK_CHARS, Voice

DEFAULT_MAX_TEXT_CHARS = 10_000  # longer texts are refused, not truncated (a request's text)


class RequestError(SpeechSynthError):
    """A request the server refuses: the message names the input and what to send instead."""


@dataclass(frozen=True)
class TtsRequest:
    """One request's texts and controls, decoded and checked."""

    texts: list[str]
    controls: Controls


@dataclass(frozen=True)
class MelRequest:
    """One `vocoder` request: log-mels [N, n_mels, T] float32 and each one's frames [N]."""

    mels: np.ndarray
    lengths: np.ndarray


class TtsService:
    """Text to audio (`tts`), text to mel (`generator`) and mel to audio (`vocoder`) with one
    voice; several requests' texts run through the synthesizer's batches together."""

    def __init__(
        self, voice: Voice, batch_size: int = 8, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    ) -> None:
        self.voice = voice
        self.batch_size = batch_size
        self.max_text_chars = max_text_chars
        self._text_checker = Synthesizer(voice.model, voice.vocoder, batch_size=1)

    @property
    def sampling_rate(self) -> int:
        return self.voice.vocoder.sampling_rate

    @property
    def controls(self) -> frozenset[str]:
        return frozenset(self.voice.model.controls)

    def parse(self, inputs: dict[str, np.ndarray | None]) -> TtsRequest:
        """A request's tensors by input name (None: not sent) -> its texts and controls."""
        text = inputs.get("TEXT")
        if text is None:
            raise RequestError("TEXT: missing; send the text to speak as BYTES [N, 1] (UTF-8)")
        texts = [self._text(item, row) for row, item in enumerate(np.asarray(text).reshape(-1))]
        if not texts:
            raise RequestError("TEXT: no texts in the request; send at least one")
        return TtsRequest(texts, self._controls(inputs))

    def _text(self, item: object, row: int) -> str:
        raw = item if isinstance(item, bytes) else str(item).encode("utf-8")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestError(
                f"TEXT[{row}]: not valid UTF-8 (byte {error.start}); send UTF-8 text"
            ) from None
        if not any(character.isalnum() for character in text):
            raise RequestError(f"TEXT[{row}]: empty; send text with letters or digits")
        if len(text) > self.max_text_chars:
            raise RequestError(
                f"TEXT[{row}]: {len(text):,} characters, over this server's limit of "
                f"{self.max_text_chars:,} (--max-text-chars); split the text into requests"
            )
        try:  # here, so that a text the voice cannot speak fails its own request only
            self._text_checker.check_text(text)
        except SpeechSynthError as error:
            raise RequestError(f"TEXT[{row}]: {error}") from None
        return text

    def _controls(self, inputs: dict[str, np.ndarray | None]) -> Controls:
        pace = self._scalar(inputs, "PACE", "pace")
        shift = self._scalar(inputs, "PITCH_SHIFT", "pitch")
        if pace is not None and not 0.1 <= pace <= 10:
            raise RequestError(f"PACE: {pace} is out of range; send 0.1 to 10 (1 = normal)")
        pitch = PitchTransformSpec(shift_hz=shift) if shift else None
        return Controls(pace=1.0 if pace is None else pace, pitch=pitch)

    def _scalar(
        self, inputs: dict[str, np.ndarray | None], name: str, control: str
    ) -> float | None:
        value = inputs.get(name)
        if value is None:
            return None
        if control not in self.controls:
            raise RequestError(
                f"{name}: this voice ({self.voice.model.name}) has no {control} control; "
                "leave the input out"
            )
        values = np.asarray(value, dtype=np.float64).reshape(-1)
        if values.size == 0 or not np.isfinite(values[0]):
            raise RequestError(f"{name}: send one finite FP32 number")
        return float(values[0])

    def parse_mels(self, inputs: dict[str, np.ndarray | None]) -> MelRequest:
        """A `vocoder` request's MEL [N, n_mels, T] (and optional MEL_LENGTH [N, 1])."""
        mels = inputs.get("MEL")
        if mels is None:
            raise RequestError("MEL: missing; send log-mels as FP32 [N, n_mels, frames]")
        mels = np.asarray(mels, dtype=np.float32)
        n_mels = self.voice.vocoder.mel_config.n_mel_channels
        if mels.ndim != 3 or mels.shape[1] != n_mels or mels.shape[2] < 1:
            raise RequestError(f"MEL: shape {list(mels.shape)}; send [N, {n_mels}, frames]")
        if not np.all(np.isfinite(mels)):
            raise RequestError("MEL: holds NaN or infinity; send finite log-mels")
        given = inputs.get("MEL_LENGTH")
        lengths = np.full(len(mels), mels.shape[2], np.int64)
        if given is not None:
            lengths = np.asarray(given, dtype=np.int64).reshape(-1)
            if len(lengths) != len(mels) or lengths.min() < 1 or lengths.max() > mels.shape[2]:
                raise RequestError(
                    f"MEL_LENGTH: send one length per mel, each 1 to {mels.shape[2]} frames"
                )
        return MelRequest(mels, lengths)

    def speak(self, requests: list[TtsRequest]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each request's (AUDIO [N, samples] float32 zero-padded, AUDIO_LENGTH [N, 1] int32);
        requests with the same controls share the synthesizer's batches."""
        return self._per_request(
            requests,
            lambda synthesizer, texts: [result.audio for result in synthesizer.synthesize(texts)],
            padded,
        )

    def generate(self, requests: list[TtsRequest]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each request's (MEL [N, n_mels, frames] float32, padded with silence, MEL_LENGTH
        [N, 1] int32): the mels `speak` vocodes."""
        return self._per_request(requests, Synthesizer.mels, padded_mels)

    def stream(self, request: TtsRequest) -> Iterator[np.ndarray]:
        """The request's one text as audio (float32), chunk by chunk as each is made: as `say
        --stream` cuts it (sentences packed into chunks of at most `STREAM_CHUNK_CHARS`, longer
        ones cut at commas; each non-final chunk ends with the silence that joins it to the
        next). A text the voice cannot speak fails before the first chunk."""
        if len(request.texts) != 1:
            raise RequestError(
                f"TEXT: {len(request.texts)} texts; a streaming request holds one text, [1]"
            )
        synthesizer = Synthesizer(
            self.voice.model,
            self.voice.vocoder,
            batch_size=1,
            max_chars_per_chunk=STREAM_CHUNK_CHARS,
            controls=request.controls,
        )
        for chunk in synthesizer.stream(request.texts[0]):
            yield chunk.audio

    def vocode(self, requests: list[MelRequest]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each request's (AUDIO, AUDIO_LENGTH) from its mels."""
        return [padded(self.voice.vocoder(request.mels, request.lengths)) for request in requests]

    def _per_request(self, requests, run, pad) -> list[tuple[np.ndarray, np.ndarray]]:
        outputs: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(requests)
        for controls, members in _grouped_by_controls(requests).items():
            texts = [
                (f"{index}.{row}", text)
                for index in members
                for row, text in enumerate(requests[index].texts)
            ]
            synthesizer = Synthesizer(
                self.voice.model, self.voice.vocoder, batch_size=self.batch_size, controls=controls
            )
            results = iter(run(synthesizer, texts))
            for index in members:
                outputs[index] = pad([next(results) for _ in requests[index].texts])
        return [output for output in outputs if output is not None]


def _grouped_by_controls(requests: list[TtsRequest]) -> dict[Controls, list[int]]:
    groups: dict[Controls, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(request.controls, []).append(index)
    return groups


def padded_mels(mels: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mels [n_mels, frames] of any lengths -> ([N, n_mels, longest] float32 padded with the
    silence value, frames [N, 1] int32)."""
    lengths = np.array([[mel.shape[1]] for mel in mels], dtype=np.int32)
    batch = np.full((len(mels), mels[0].shape[0], int(lengths.max())), SILENCE_LOG_MEL, np.float32)
    for row, mel in enumerate(mels):
        batch[row, :, : mel.shape[1]] = mel
    return batch, lengths


def padded(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Signals of any lengths -> ([N, longest] float32 zero-padded, lengths [N, 1] int32)."""
    lengths = np.array([[len(signal)] for signal in signals], dtype=np.int32)
    batch = np.zeros((len(signals), int(lengths.max(initial=0))), dtype=np.float32)
    for row, signal in enumerate(signals):
        batch[row, : len(signal)] = signal
    return batch, lengths
