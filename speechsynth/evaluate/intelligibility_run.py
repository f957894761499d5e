"""`speechsynth eval intelligibility` as one call: synthesise the sentences with the voice (and
the teacher), transcribe both, score them and write the outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from speechsynth.audio.io import save_audio
from speechsynth.errors import SpeechSynthError
from speechsynth.evaluate.intelligibility import (
    SystemResult,
    TeacherFn,
    Transcriber,
    build_report,
    score_clips,
    synthesize_teacher,
    synthesize_voice,
)
from speechsynth.fileio import write_text_atomic
from speechsynth.infer.synthesis_job import SynthesisSettings, build_synthesizer

REPORT_NAME = "report.json"
TRANSCRIPTS_NAME = "transcripts.tsv"


@dataclass(frozen=True)
class Teacher:
    name: str
    speak: TeacherFn  # text -> audio at `sampling_rate`
    sampling_rate: int


def evaluate_intelligibility(
    voice: SynthesisSettings,
    sentences: Sequence[tuple[str, str]],
    teacher: Teacher | None = None,
    output: Path | None = None,
    show_progress: bool = False,
    sentences_file: Path | None = None,
) -> dict[str, Any]:
    """The WER report of the voice (and the teacher) on `(id, text)` sentences; with `output`,
    also its WAVs, transcripts.tsv and report.json there."""
    if output is not None and output.exists() and not output.is_dir():
        raise SpeechSynthError(f"{output}: exists and is not a folder; choose another --output")
    progress = _progress_factory(show_progress)
    synthesizer = build_synthesizer(voice)
    transcriber = Transcriber()
    voice_clips = synthesize_voice(synthesizer, sentences)
    voice_result = SystemResult(
        "voice",
        voice_clips,
        score_clips(transcriber, sentences, voice_clips, progress("transcribing the voice")),
    )
    teacher_result = None
    if teacher is not None:
        clips = synthesize_teacher(
            teacher.speak,
            sentences,
            teacher.sampling_rate,
            progress(f"synthesising with {teacher.name}"),
        )
        teacher_scores = score_clips(
            transcriber, sentences, clips, progress("transcribing the teacher")
        )
        teacher_result = SystemResult(teacher.name, clips, teacher_scores)
    settings = {
        "voice": str(voice.model),
        "vocoder": voice.vocoder,
        "sentences_file": str(sentences_file) if sentences_file else None,
        "teacher": teacher.name if teacher else None,
        "seed": voice.seed,
    }
    report = build_report(
        settings, sentences, voice_result, teacher_result, wav_names=output is not None
    )
    if output is not None:
        _write_outputs(output, sentences, voice_result, teacher_result, report)
    return report


def _progress_factory(enabled: bool) -> Callable[[str], Callable[[Sequence], Any]]:
    def progress(description: str) -> Callable[[Sequence], Any]:
        return lambda items: tqdm(items, desc=description, unit="sentence", disable=not enabled)

    return progress


def _write_outputs(
    output_dir: Path,
    sentences: Sequence[tuple[str, str]],
    voice: SystemResult,
    teacher: SystemResult | None,
    report: dict[str, Any],
) -> None:
    for folder, system in (("voice", voice), ("teacher", teacher)):
        if system is None:
            continue
        for (name, _), clip in zip(sentences, system.clips, strict=True):
            if clip.audio is not None:
                save_audio(output_dir / folder / f"{name}.wav", clip.audio, clip.sampling_rate)
    lines = ["id\treference\tvoice\tteacher"]
    for row in report["rows"]:
        teacher_text = row["teacher"]["hypothesis"] if "teacher" in row else ""
        lines.append(
            f"{row['id']}\t{row['reference']}\t{row['voice']['hypothesis']}\t{teacher_text}"
        )
    write_text_atomic(output_dir / TRANSCRIPTS_NAME, "\n".join(lines) + "\n")
    write_text_atomic(
        output_dir / REPORT_NAME, json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )
