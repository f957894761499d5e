"""`prepare check`: is every clip of a dataset usable for training?"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from speechsynth.data.formats import Utterance, duplicate_ids
from speechsynth.text import DEFAULT_CLEANERS, find_unknown_characters

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class CheckLimits:
    """What counts as a usable clip. Defaults suit LJSpeech (1.1 to 10.1 s, <= 187 characters)."""

    sampling_rate: int = 22050
    min_seconds: float = 0.5
    max_seconds: float = 20.0
    max_text_chars: int = 300
    cleaners: tuple[str, ...] = DEFAULT_CLEANERS


@dataclass(frozen=True)
class Problem:
    utterance_id: str
    kind: str  # e.g. "missing-audio", "sample-rate"; stable names for --json readers
    message: str
    severity: str = ERROR


@dataclass(frozen=True)
class ClipInfo:
    utterance_id: str
    seconds: float
    problems: tuple[Problem, ...]


@dataclass
class CheckReport:
    n_clips: int
    usable_ids: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == ERROR]

    @property
    def usable(self) -> bool:
        """A dataset is usable when it has clips and none of them has an error."""
        return self.n_clips > 0 and not self.errors

    def to_dict(self) -> dict:
        return {
            "clips": self.n_clips,
            "usable_clips": len(self.usable_ids),
            "usable": self.usable,
            "total_seconds": round(self.total_seconds, 3),
            "problems": [problem.__dict__ for problem in self.problems],
        }


def _audio_problems(utterance: Utterance, limits: CheckLimits) -> tuple[float, list[Problem]]:
    """Check the audio header: present, readable, sample rate, channels, duration."""
    utterance_id, path = utterance.utterance_id, utterance.audio_path
    if path is None:
        return 0.0, []
    if not path.is_file():
        return 0.0, [Problem(utterance_id, "missing-audio", f"{path}: audio file is missing")]
    import soundfile  # here: `speechsynth --help` and `say` load this module without using it

    try:
        info = soundfile.info(path)
    except (soundfile.LibsndfileError, RuntimeError) as error:
        message = f"{path}: unreadable audio ({error}); re-encode it as 16-bit PCM WAV"
        return 0.0, [Problem(utterance_id, "unreadable-audio", message)]
    problems = []
    if info.samplerate != limits.sampling_rate:
        problems.append(
            Problem(
                utterance_id,
                "sample-rate",
                f"{path}: sample rate {info.samplerate} Hz, expected {limits.sampling_rate} Hz; "
                f"resample it (sox in.wav -r {limits.sampling_rate} out.wav)",
            )
        )
    if info.channels != 1:
        problems.append(
            Problem(
                utterance_id,
                "channels",
                f"{path}: {info.channels} channels, expected mono; "
                "mix it down (sox in.wav -c 1 out.wav)",
            )
        )
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if seconds < limits.min_seconds:
        problems.append(
            Problem(
                utterance_id,
                "too-short",
                f"{path}: {seconds:.2f} s is shorter than the {limits.min_seconds} s minimum",
            )
        )
    elif seconds > limits.max_seconds:
        problems.append(
            Problem(
                utterance_id,
                "too-long",
                f"{path}: {seconds:.2f} s is longer than the {limits.max_seconds} s maximum; "
                "split the clip or raise --max-seconds",
            )
        )
    return seconds, problems


def _text_problems(utterance: Utterance, limits: CheckLimits) -> list[Problem]:
    utterance_id, where = utterance.utterance_id, utterance.origin or utterance.utterance_id
    text = utterance.text
    if not text.strip():
        return [Problem(utterance_id, "empty-text", f"{where}: transcript is empty")]
    problems = []
    if len(text) > limits.max_text_chars:
        problems.append(
            Problem(
                utterance_id,
                "long-text",
                f"{where}: transcript has {len(text)} characters, more than "
                f"{limits.max_text_chars}; split the clip or raise --max-text-chars",
            )
        )
    unknown = find_unknown_characters(text, list(limits.cleaners))
    if unknown:
        listed = ", ".join(repr(char) for char in sorted(unknown))
        problems.append(
            Problem(
                utterance_id,
                "unknown-characters",
                f"{where}: characters not in the symbol table will be dropped: {listed}",
                WARNING,
            )
        )
    return problems


def _duplicate_problems(utterances: list[Utterance]) -> dict[str, Problem]:
    return {
        utterance_id: Problem(
            utterance_id,
            "duplicate-id",
            f"id {utterance_id} appears {count} times; ids must be unique",
        )
        for utterance_id, count in duplicate_ids(utterances).items()
    }


def _check_audio(utterance: Utterance, limits: CheckLimits) -> ClipInfo:
    seconds, problems = _audio_problems(utterance, limits)
    return ClipInfo(utterance.utterance_id, seconds, tuple(problems))


def check_dataset(
    utterances: list[Utterance],
    limits: CheckLimits | None = None,
    jobs: int = 4,
    progress: bool = False,
) -> CheckReport:
    """Check every clip and collect the problems.

    Audio headers are read in threads (I/O bound); text is checked in this thread because
    inflect's number speller keeps state on its engine and is not thread-safe.
    """
    from tqdm import tqdm

    limits = limits or CheckLimits()
    report = CheckReport(n_clips=len(utterances))
    duplicates = _duplicate_problems(utterances)
    report.problems.extend(duplicates.values())
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        clips: Iterable[ClipInfo] = pool.map(lambda u: _check_audio(u, limits), utterances)
        for clip, utterance in tqdm(
            zip(clips, utterances, strict=True),
            total=len(utterances),
            desc="checking",
            unit="clip",
            disable=not progress,
        ):
            problems = [*clip.problems, *_text_problems(utterance, limits)]
            report.problems.extend(problems)
            has_error = any(problem.severity == ERROR for problem in problems)
            if not has_error and clip.utterance_id not in duplicates:
                report.usable_ids.append(clip.utterance_id)
                report.total_seconds += clip.seconds
    return report


def format_report(report: CheckReport, dataset: str) -> str:
    """A human-readable report: one line per problem, then a summary."""
    lines = [f"{problem.severity}: {problem.message}" for problem in report.problems]
    hours = report.total_seconds / 3600
    lines.append(
        f"{dataset}: {len(report.usable_ids)} of {report.n_clips} clips usable, "
        f"{report.total_seconds:.1f} s ({hours:.2f} h) of audio"
    )
    kinds = Counter(problem.kind for problem in report.errors)
    if kinds:
        summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        lines.append(f"NOT USABLE: {len(report.errors)} error(s): {summary}")
    elif report.n_clips == 0:
        lines.append("NOT USABLE: the dataset has no clips")
    else:
        lines.append("OK: the dataset is usable")
    return "\n".join(lines)
