"""The outcome of preparing one file of a dataset (mels, durations, ...)."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("written", "skipped", "failed")


@dataclass(frozen=True)
class FileResult:
    utterance_id: str
    status: str  # "written", "skipped" (a valid file was already there) or "failed"
    message: str = ""
