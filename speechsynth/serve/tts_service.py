"""What the served models do, free of Triton: requests' tensors in, responses' tensors out.

A request holds a batch of texts (Triton's `TEXT`, BYTES [N, 1]) and, where the voice has the
control, one `PACE` / `PITCH_SHIFT` (FP32 [N, 1]; a request's first row counts). Every problem
with a request is a `RequestError` whose message names the input and the fix; the Triton
backend answers that request with it and serves the others of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.infer.acoustic import Controls
from speechsynth.infer.pitch_transforms import PitchTransformSpec
from speechsynth.infer.synthesizer import Synthesizer
from speechsynth.infer.voice import Voice

DEFAULT_MAX_TEXT_CHARS = 10_000  # longer texts are refused, not truncated (a request's text)


class RequestError(SpeechSynthError):
    """A request the server refuses: the message names the input and what to send instead."""


@dataclass(frozen=True)
class TtsRequest:
    """One request's texts and controls, decoded and checked."""

    texts: list[str]
    controls: Controls


class TtsService:
    """Text to audio (`tts`), text to mel (`generator`) and mel to audio (`vocoder`) with one
    voice; several requests' texts run through the synthesizer's batches together."""

    def __init__(
        self, voice: Voice, batch_size: int = 8, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    ) -> None:
        self.voice = voice
        self.batch_size = batch_size
        self.max_text_chars = max_text_chars

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

    def speak(self, requests: list[TtsRequest]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each request's (AUDIO [N, samples] float32 zero-padded, AUDIO_LENGTH [N, 1] int32);
        requests with the same controls share the synthesizer's batches."""
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
            audio = iter(result.audio for result in synthesizer.synthesize(texts))
            for index in members:
                outputs[index] = padded([next(audio) for _ in requests[index].texts])
        return [output for output in outputs if output is not None]


def _grouped_by_controls(requests: list[TtsRequest]) -> dict[Controls, list[int]]:
    groups: dict[Controls, list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault(request.controls, []).append(index)
    return groups


def padded(signals: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Signals of any lengths -> ([N, longest] float32 zero-padded, lengths [N, 1] int32)."""
    lengths = np.array([[len(signal)] for signal in signals], dtype=np.int32)
    batch = np.zeros((len(signals), int(lengths.max(initial=0))), dtype=np.float32)
    for row, signal in enumerate(signals):
        batch[row, : len(signal)] = signal
    return batch, lengths
