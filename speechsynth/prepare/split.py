"""`prepare split`: write seeded train / validation / test filelists."""

from __future__ import annotations

from pathlib import Path

from speechsynth.data.formats import Utterance, write_filelist
from speechsynth.errors import SpeechSynthError


def write_splits(splits: dict[str, list[Utterance]], output_dir: Path) -> dict[str, Path]:
    """Write `<output_dir>/<split>.txt` as `audio|text` lines (NVIDIA's relative-path layout)."""
    written = {}
    for name, utterances in splits.items():
        rows = [(_source_path(utterance), utterance.text) for utterance in utterances]
        path = output_dir / f"{name}.txt"
        write_filelist(path, rows)
        written[name] = path
    return written


def _source_path(utterance: Utterance) -> Path:
    path = utterance.audio_path or utterance.mel_path
    if path is None:
        raise SpeechSynthError(f"{utterance.origin}: utterance has no audio or mel file")
    return path
