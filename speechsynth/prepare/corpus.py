"""`corpus synth`: an LJSpeech-format dataset spoken by an offline system synthesiser.

No pretrained voice can be downloaded here, so a "teacher" engine installed with apt-get reads
a list of sentences aloud, and the result is a dataset our own pipeline trains on:

- `festival` with Debian's `festvox-us-slt-hts` voice (US English female, HTS), run as
  `text2wave -eval "(voice_cmu_us_slt_arctic_hts)" TEXTFILE -o OUT.wav`; it speaks at 32 kHz;
- `espeak-ng` (`espeak-ng -v en-us -f TEXTFILE -w OUT.wav`), 22050 Hz, robotic but fast.

The text always reaches the engine through a temporary file, never a command line or a Scheme
string, so quotes, parentheses and backslashes in a sentence are read as text.

Every clip is converted to 22050 Hz mono 16-bit PCM (soxr resampling), trimmed of leading and
trailing silence quieter than `TRIM_TOP_DB` below its peak while keeping `TRIM_KEEP_SECONDS` on
each side, and scaled down only if resampling pushed its peak over `MAX_PEAK` (no loudness
normalisation otherwise). `DIR/wavs/<id>.wav` is written atomically, so a clip that exists is
complete: a run that is interrupted and started again skips them. `DIR/metadata.csv`
(`id|text|normalized text`) lists, in input order, the sentences whose clip exists; it is
rewritten atomically every `METADATA_EVERY` sentences and at the end, also after a Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile
from tqdm import tqdm

from speechsynth.audio.io import save_audio
from speechsynth.data.formats import METADATA_NAME, read_lines
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic
from speechsynth.prepare.results import FileResult

log = logging.getLogger(__name__)

SAMPLING_RATE = 22050
TRIM_TOP_DB = 40.0  # silence: frames more than 40 dB below the clip's loudest frame
TRIM_KEEP_SECONDS = 0.05  # of that silence kept before the first and after the last sound
MAX_PEAK = 0.99
ENGINE_TIMEOUT_SECONDS = 120
METADATA_EVERY = 200  # sentences between rewrites of metadata.csv during a long run
LOG_EVERY = 100  # sentences between progress log lines when there is no progress bar
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Sentence:
    """One sentence to speak: the id names its clip; `spoken` is the text the engine reads."""

    sentence_id: str
    text: str
    spoken: str


@dataclass(frozen=True)
class Engine:
    name: str
    program: str  # the executable that must be on PATH
    apt_packages: str  # what `apt-get install` needs to provide it and its default voice
    default_voice: str

    def command(self, text_file: Path, wav_file: Path, voice: str) -> list[str]:
        if self.name == "festival":
            return [self.program, "-eval", f"(voice_{voice})", str(text_file), "-o", str(wav_file)]
        return [self.program, "-v", voice, "-f", str(text_file), "-w", str(wav_file)]

    def install_hint(self) -> str:
        return f"install it with `apt-get install {self.apt_packages}`"


ENGINES: dict[str, Engine] = {
    "festival": Engine(
        "festival", "text2wave", "festival festvox-us-slt-hts", "cmu_us_slt_arctic_hts"
    ),
    "espeak-ng": Engine("espeak-ng", "espeak-ng", "espeak-ng", "en-us"),
}


def get_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise SpeechSynthError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return ENGINES[name]


def check_engine(name: str, voice: str | None = None) -> Engine:
    """The engine, after checking that it is installed and speaks with `voice`.

    Raises a one-line SpeechSynthError naming the apt package when it is missing.
    """
    engine = get_engine(name)
    if shutil.which(engine.program) is None:
        raise SpeechSynthError(
            f"{engine.name} is not installed (no `{engine.program}` on PATH); "
            f"{engine.install_hint()}"
        )
    voice = voice or engine.default_voice
    try:
        synthesize_text(engine.name, "Hello.", voice, trim=False)
    except SpeechSynthError as error:
        hint = engine.install_hint() if voice == engine.default_voice else "choose another --voice"
        raise SpeechSynthError(
            f"{engine.name} cannot speak with voice {voice!r} ({error}); {hint}"
        ) from None
    return engine


def synthesize_text(
    engine_name: str,
    text: str,
    voice: str | None = None,
    sampling_rate: int = SAMPLING_RATE,
    trim: bool = True,
) -> np.ndarray:
    """`text` spoken by the engine: mono float32 at `sampling_rate`, trimmed unless `trim=False`.

    Raises SpeechSynthError (one line, the engine's own message) when the engine fails.
    """
    engine = get_engine(engine_name)
    voice = voice or engine.default_voice
    with tempfile.TemporaryDirectory(prefix="speechsynth-corpus-") as work_dir:
        text_file = Path(work_dir) / "text.txt"
        wav_file = Path(work_dir) / "speech.wav"
        text_file.write_text(text.strip() + "\n", encoding="utf-8")
        command = engine.command(text_file, wav_file, voice)
        try:
            finished = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=ENGINE_TIMEOUT_SECONDS,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise SpeechSynthError(
                f"{engine.name} is not installed (no `{engine.program}`); {engine.install_hint()}"
            ) from None
        except subprocess.TimeoutExpired:
            raise SpeechSynthError(
                f"{engine.name} took over {ENGINE_TIMEOUT_SECONDS} s; split the sentence"
            ) from None
        # text2wave reports Scheme errors ("SIOD ERROR: ...") on stderr but exits with 0.
        stderr = " ".join(finished.stderr.split())
        if finished.returncode != 0 or "SIOD ERROR" in stderr or not _has_audio(wav_file):
            reason = stderr or f"exit status {finished.returncode}, no audio written"
            raise SpeechSynthError(f"{engine.name} failed: {reason[:200]}")
        audio, file_rate = soundfile.read(wav_file, dtype="float32", always_2d=True)
    return postprocess(audio.mean(axis=1), file_rate, sampling_rate, trim=trim)


def _has_audio(path: Path) -> bool:
    try:
        return soundfile.info(path).frames > 0
    except (soundfile.LibsndfileError, RuntimeError, TypeError, OSError):
        return False


def postprocess(
    audio: np.ndarray, file_rate: int, sampling_rate: int = SAMPLING_RATE, trim: bool = True
) -> np.ndarray:
    """Resample to `sampling_rate`, trim silence (keeping a margin), keep the peak below 1."""
    audio = np.asarray(audio, dtype=np.float32)
    if file_rate != sampling_rate:
        audio = librosa.resample(audio, orig_sr=file_rate, target_sr=sampling_rate)
    if trim:
        audio = trim_silence(audio, sampling_rate)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak == 0.0:
        raise SpeechSynthError("the engine produced silence")
    if peak > MAX_PEAK:
        audio = audio * (MAX_PEAK / peak)
    return np.ascontiguousarray(audio, dtype=np.float32)


def trim_silence(audio: np.ndarray, sampling_rate: int = SAMPLING_RATE) -> np.ndarray:
    """Cut leading and trailing silence (TRIM_TOP_DB below the peak), keeping TRIM_KEEP_SECONDS."""
    if audio.size == 0 or not np.any(audio):
        return audio
    _, (start, end) = librosa.effects.trim(
        audio, top_db=TRIM_TOP_DB, frame_length=512, hop_length=128
    )
    keep = round(TRIM_KEEP_SECONDS * sampling_rate)
    return audio[max(0, start - keep) : min(len(audio), end + keep)]


def read_sentences(path: str | os.PathLike) -> list[Sentence]:
    """Sentences from an LJSpeech `metadata.csv` (or its directory), `id|text` lines or plain lines.

    Plain lines are named `000001`, `000002`, ... by their position among the sentences. With
    three fields the third (LJSpeech's normalised text) is what the engine reads, when not empty.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METADATA_NAME
    sentences = []
    for line_number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{line_number}"
        fields = line.split("|")
        if len(fields) == 1:
            sentence_id, text, spoken = f"{len(sentences) + 1:06d}", line.strip(), line.strip()
        elif len(fields) in (2, 3):
            sentence_id, text = fields[0].strip(), fields[1].strip()
            spoken = fields[2].strip() if len(fields) == 3 and fields[2].strip() else text
        else:
            raise SpeechSynthError(
                f"{origin}: expected a sentence, `id|text` or `id|text|normalized text`, "
                f"found {len(fields)} '|'-separated fields"
            )
        if not _ID_RE.match(sentence_id):
            raise SpeechSynthError(
                f"{origin}: id {sentence_id!r} cannot name a file; use letters, digits, '_', "
                "'-' and '.'"
            )
        if not spoken:
            raise SpeechSynthError(f"{origin}: sentence {sentence_id!r} has no text; remove it")
        sentences.append(Sentence(sentence_id, text, spoken))
    if not sentences:
        raise SpeechSynthError(f"{path}: no sentences; write one sentence per line")
    counts = Counter(sentence.sentence_id for sentence in sentences)
    duplicates = sorted(sentence_id for sentence_id, count in counts.items() if count > 1)
    if duplicates:
        raise SpeechSynthError(
            f"{path}: ids used more than once: {', '.join(duplicates[:5])}; give each its own id"
        )
    return sentences


def is_valid_clip(path: Path, sampling_rate: int = SAMPLING_RATE) -> bool:
    """A clip from an earlier run is kept if its header says mono 16-bit at the right rate."""
    try:
        info = soundfile.info(path)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, OSError):
        return False
    return (
        info.samplerate == sampling_rate
        and info.channels == 1
        and info.subtype == "PCM_16"
        and info.frames > 0
    )


def _speak_one(engine_name: str, voice: str, sentence: Sentence, wav_path: Path) -> FileResult:
    if is_valid_clip(wav_path):
        return FileResult(sentence.sentence_id, "skipped")
    try:
        audio = synthesize_text(engine_name, sentence.spoken, voice)
        save_audio(wav_path, audio, SAMPLING_RATE)
    except SpeechSynthError as error:
        return FileResult(sentence.sentence_id, "failed", str(error))
    return FileResult(sentence.sentence_id, "written")


def write_metadata(output_dir: Path, sentences: Iterable[Sentence]) -> int:
    """Write `metadata.csv` (`id|text|spoken text`) for `sentences`; returns the row count."""
    rows = [f"{s.sentence_id}|{s.text}|{s.spoken}" for s in sentences]
    write_text_atomic(output_dir / METADATA_NAME, "".join(row + "\n" for row in rows))
    return len(rows)


@dataclass
class CorpusReport:
    results: list[FileResult]
    metadata_rows: int
    seconds: float  # wall time of the run

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)


def build_corpus(
    sentences: list[Sentence],
    output_dir: Path,
    engine_name: str = "festival",
    voice: str | None = None,
    jobs: int = 1,
    progress: bool = False,
    on_result: Callable[[int, int, float], None] | None = None,
) -> CorpusReport:
    """Speak every sentence into `output_dir/wavs/<id>.wav` and write `output_dir/metadata.csv`.

    `jobs` engine processes run at once. Clips already there are kept; a sentence the engine
    fails on is reported in its FileResult and left out of the metadata, never fatal.
    `on_result(done, total, elapsed_seconds)` is called after each sentence (progress logs).
    """
    if jobs < 1:
        raise SpeechSynthError(f"--jobs must be at least 1, got {jobs}")
    engine = check_engine(engine_name, voice)
    voice = voice or engine.default_voice
    wav_dir = output_dir / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[FileResult] = []
    done_ids: set[str] = set()

    def flush_metadata() -> int:
        return write_metadata(output_dir, [s for s in sentences if s.sentence_id in done_ids])

    def speak(sentence: Sentence) -> FileResult:
        return _speak_one(engine.name, voice, sentence, wav_dir / f"{sentence.sentence_id}.wav")

    pool = ThreadPoolExecutor(jobs)  # each thread waits on its own engine process
    try:
        bar = tqdm(
            pool.map(speak, sentences),
            total=len(sentences),
            desc=f"corpus ({engine.name})",
            unit="sentence",
            disable=not progress,
        )
        for result in bar:
            results.append(result)
            if result.status != "failed":
                done_ids.add(result.utterance_id)
            if len(results) % METADATA_EVERY == 0:
                flush_metadata()
            if on_result is not None:
                on_result(len(results), len(sentences), time.perf_counter() - started)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        # Also on Ctrl-C: the metadata then lists every clip finished so far.
        done_ids.update(
            s.sentence_id
            for s in sentences
            if s.sentence_id not in done_ids and is_valid_clip(wav_dir / f"{s.sentence_id}.wav")
        )
        rows = flush_metadata()
    return CorpusReport(results, rows, time.perf_counter() - started)
