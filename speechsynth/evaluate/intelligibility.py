"""Intelligibility: the word error rate (WER) of an offline recogniser on synthesised speech.

A voice is scored by transcribing its audio with pocketsphinx (offline; its wheel ships a US
English acoustic model, language model and dictionary, used as they are) and comparing the
transcripts with the sentences it was asked to read, with jiwer. The WER of the teacher voice's
own audio for the same sentences is the yardstick: pocketsphinx makes mistakes on any voice, so
"voice WER / teacher WER" is what says how much our voice loses.

Before recognition every clip is resampled to 16 kHz (the model's rate), padded with 0.5 s of
silence on each side (pocketsphinx drops words that touch the ends of a clip), and given a
+-1e-4 dither from a fixed seed (digital silence upsets its noise estimate), then converted to
int16. Reference and hypothesis are normalised alike (`normalize_for_wer`) and the WER is
corpus-level: all the word errors over all the reference words.

The module takes audio, never engines: the caller synthesises (with a `Synthesizer`, or a
teacher function such as `speechsynth.prepare.corpus.synthesize_text`), so this package stays
free of the dataset-building code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import librosa
import numpy as np

from speechsynth.errors import SpeechSynthError
from speechsynth.text import english_cleaners_plus

ASR_SAMPLING_RATE = 16000
PAD_SECONDS = 0.5
DITHER = 1e-4
DITHER_SEED = 0
RATIO_BAR = 1.5  # issue 8: the bundled voice's WER must be at most 1.5x the teacher's

_NOT_WORD_RE = re.compile(r"[^a-z' ]+")
_FILLER_RE = re.compile(r"<[^>]*>|\[[^\]]*\]|\(\d+\)")

# text -> mono float32 audio at a known sampling rate; raises SpeechSynthError on failure
TeacherFn = Callable[[str], np.ndarray]


def normalize_for_wer(text: str) -> str:
    """Lower-case words only: numbers and abbreviations spelt out by our cleaners ("3" ->
    "three", "Dr." -> "doctor"), punctuation and hyphens turned into spaces, apostrophes kept
    inside words ("don't") and dropped at their edges (quotes)."""
    text = _FILLER_RE.sub(" ", text)  # pocketsphinx fillers and alternates: <sil>, [NOISE], (2)
    text = _NOT_WORD_RE.sub(" ", english_cleaners_plus(text))
    words = (word.strip("'") for word in text.split())
    return " ".join(word for word in words if word)


@dataclass(frozen=True)
class WordErrors:
    """One transcript against its reference (both normalised)."""

    reference: str
    hypothesis: str
    substitutions: int
    deletions: int
    insertions: int

    @property
    def reference_words(self) -> int:
        return len(self.reference.split())

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        return self.errors / self.reference_words

    def to_dict(self) -> dict[str, Any]:
        return {
            "hypothesis": self.hypothesis,
            "wer": round(self.wer, 4),
            "errors": self.errors,
            "substitutions": self.substitutions,
            "deletions": self.deletions,
            "insertions": self.insertions,
        }


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Align two texts (normalised here) word by word with jiwer and count the errors."""
    import jiwer

    reference, hypothesis = normalize_for_wer(reference), normalize_for_wer(hypothesis)
    if not reference:
        raise SpeechSynthError("the reference text has no words to score")
    result = jiwer.process_words(reference, hypothesis)
    return WordErrors(
        reference, hypothesis, result.substitutions, result.deletions, result.insertions
    )


def corpus_wer(scores: Sequence[WordErrors]) -> float:
    """All word errors over all reference words (long sentences weigh more)."""
    words = sum(score.reference_words for score in scores)
    return sum(score.errors for score in scores) / words if words else math.nan


def wer_ratio(voice_wer: float, teacher_wer: float) -> float | None:
    """voice / teacher; None when the teacher made no error but the voice did (no finite ratio)."""
    if teacher_wer == 0:
        return 1.0 if voice_wer == 0 else None
    return voice_wer / teacher_wer


class Transcriber:
    """pocketsphinx with its bundled US English models, quiet, on 16 kHz int16 audio."""

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:  # a dependency of the package: only a broken install lacks it
            raise SpeechSynthError(
                "pocketsphinx is not installed; run `pip install pocketsphinx`"
            ) from None
        self.decoder = Decoder(loglevel="FATAL")

    @staticmethod
    def prepare(audio: np.ndarray, sampling_rate: int) -> bytes:
        """16 kHz, 0.5 s of silence each side, a seeded +-1e-4 dither, int16 PCM bytes."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if sampling_rate != ASR_SAMPLING_RATE:
            audio = librosa.resample(audio, orig_sr=sampling_rate, target_sr=ASR_SAMPLING_RATE)
        pad = np.zeros(round(PAD_SECONDS * ASR_SAMPLING_RATE), dtype=np.float32)
        audio = np.concatenate([pad, audio, pad])
        noise = np.random.default_rng(DITHER_SEED).uniform(-DITHER, DITHER, audio.shape)
        audio = np.clip(audio + noise, -1.0, 1.0)
        return (audio * 32767).astype(np.int16).tobytes()

    def transcribe(self, audio: np.ndarray, sampling_rate: int) -> str:
        self.decoder.start_utt()
        self.decoder.process_raw(self.prepare(audio, sampling_rate), full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""


def asr_description() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "engine": "pocketsphinx",
        "version": version("pocketsphinx"),
        "model": "the wheel's default US English acoustic model, language model and dictionary",
        "sampling_rate": ASR_SAMPLING_RATE,
        "padding_seconds": PAD_SECONDS,
        "dither": DITHER,
    }


@dataclass
class Clip:
    """One system's audio for one sentence, or why there is none."""

    audio: np.ndarray | None
    sampling_rate: int
    error: str = ""  # the system failed on this sentence: scored as all words deleted
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return 0.0 if self.audio is None else len(self.audio) / self.sampling_rate


def synthesize_voice(synthesizer: Any, sentences: Sequence[tuple[str, str]]) -> list[Clip]:
    """Our voice's clips, through `speechsynth.infer.Synthesizer` (any model it supports)."""
    results = synthesizer.synthesize(list(sentences))
    rate = synthesizer.vocoder.sampling_rate
    return [
        Clip(r.audio, rate, notes={"hit_max_decoder_steps": r.hit_max_decoder_steps})
        for r in results
    ]


def synthesize_teacher(
    teacher: TeacherFn,
    sentences: Sequence[tuple[str, str]],
    sampling_rate: int,
    progress: Callable[[Sequence], Any] = iter,
) -> list[Clip]:
    """The teacher's clips; a sentence it fails on gets an empty clip with the error."""
    clips = []
    for _, text in progress(sentences):
        try:
            clips.append(Clip(teacher(text), sampling_rate))
        except SpeechSynthError as error:
            clips.append(Clip(None, sampling_rate, error=str(error)))
    return clips


def score_clips(
    transcriber: Transcriber,
    sentences: Sequence[tuple[str, str]],
    clips: Sequence[Clip],
    progress: Callable[[Sequence], Any] = iter,
) -> list[WordErrors]:
    """Transcribe each clip and score it against its sentence."""
    scores = []
    for (name, text), clip in progress(list(zip(sentences, clips, strict=True))):
        hypothesis = (
            "" if clip.audio is None else transcriber.transcribe(clip.audio, clip.sampling_rate)
        )
        try:
            scores.append(word_errors(text, hypothesis))
        except SpeechSynthError as error:
            raise SpeechSynthError(f"sentence {name!r}: {error}; remove it") from None
    return scores


@dataclass
class SystemResult:
    """One system (voice or teacher) over all sentences."""

    label: str
    clips: list[Clip]
    scores: list[WordErrors]

    @property
    def wer(self) -> float:
        return corpus_wer(self.scores)

    def row(self, index: int, wav: str | None = None) -> dict[str, Any]:
        clip = self.clips[index]
        entry = {**self.scores[index].to_dict(), "seconds": round(clip.seconds, 3), **clip.notes}
        if clip.error:
            entry["error"] = clip.error
        if wav is not None and clip.audio is not None:
            entry["wav"] = wav
        return entry


def build_report(
    settings: dict[str, Any],
    sentences: Sequence[tuple[str, str]],
    voice: SystemResult,
    teacher: SystemResult | None,
    wav_names: bool = False,
) -> dict[str, Any]:
    """The JSON report: settings, corpus WERs, their ratio against RATIO_BAR, one row a sentence."""
    teacher_wer = teacher.wer if teacher is not None else None
    ratio = wer_ratio(voice.wer, teacher_wer) if teacher_wer is not None else None
    rows = []
    for index, (name, text) in enumerate(sentences):
        row: dict[str, Any] = {
            "id": name,
            "text": text,
            "reference": voice.scores[index].reference,
            "words": voice.scores[index].reference_words,
            "voice": voice.row(index, f"voice/{name}.wav" if wav_names else None),
        }
        if teacher is not None:
            row["teacher"] = teacher.row(index, f"teacher/{name}.wav" if wav_names else None)
        rows.append(row)
    return {
        **settings,
        "asr": asr_description(),
        "sentences": len(sentences),
        "reference_words": sum(score.reference_words for score in voice.scores),
        "voice_wer": round(voice.wer, 4),
        "voice_errors": sum(score.errors for score in voice.scores),
        "teacher_wer": round(teacher_wer, 4) if teacher_wer is not None else None,
        "teacher_errors": sum(s.errors for s in teacher.scores) if teacher is not None else None,
        "wer_ratio": round(ratio, 4) if ratio is not None else None,
        "ratio_bar": RATIO_BAR,
        "meets_bar": (ratio is not None and ratio <= RATIO_BAR) if teacher is not None else None,
        "rows": rows,
    }
