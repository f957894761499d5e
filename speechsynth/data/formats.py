"""Dataset and filelist formats: LJSpeech directories, NVIDIA filelists, synthesis phrase files.

Supported layouts (paths inside filelists are relative to a dataset root):
- LJSpeech directory: `metadata.csv` (`id|text|normalized text`) and `wavs/<id>.wav`;
- `audio|text` (Tacotron 2, WaveGlow), `mel|text` (Tacotron 2 with mels precomputed);
- `audio|pitch|text[|speaker]` (FastPitch 1.1);
- `mel|durations|pitch|text` (FastPitch 1.0);
- phrase files for synthesis: plain lines, `<output name>|<utterance>`, or a `.tsv` with a header
  naming an `output` and a `text` column (NVIDIA FastPitch's `phrases/*.tsv`).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import write_text_atomic

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
METADATA_NAME = "metadata.csv"


@dataclass(frozen=True)
class Utterance:
    """One training example: an id, its transcript and the files that belong to it."""

    utterance_id: str
    text: str
    audio_path: Path | None = None
    mel_path: Path | None = None
    duration_path: Path | None = None
    pitch_path: Path | None = None
    speaker: int = 0
    origin: str = ""  # "file:line" it was read from, for error messages


@dataclass(frozen=True)
class Phrase:
    """One utterance to synthesise and the name of the file it goes to (without extension)."""

    output_name: str
    text: str


def read_lines(path: Path) -> list[str]:
    """The file's lines as UTF-8 text, with a clear error for a missing or non-UTF-8 file."""
    if not path.is_file():
        raise SpeechSynthError(f"{path}: file not found; check the path")
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise SpeechSynthError(
            f"{path}:{line}: not valid UTF-8 ({error.reason}); re-save the file as UTF-8"
        ) from None


def duplicate_ids(utterances: list[Utterance]) -> dict[str, int]:
    """Ids used by more than one utterance, with how often each is used."""
    counts = Counter(utterance.utterance_id for utterance in utterances)
    return {utterance_id: count for utterance_id, count in counts.items() if count > 1}


def refuse_duplicate_ids(utterances: list[Utterance], output_kind: str) -> None:
    """Per-clip output files are named by id: two clips with one id would overwrite each other."""
    duplicates = duplicate_ids(utterances)
    if duplicates:
        raise SpeechSynthError(
            f"ids used by more than one clip: {', '.join(list(duplicates)[:5])}; each would write "
            f"the same {output_kind} file; run `speechsynth prepare check` and fix the ids"
        )


def read_ljspeech(dataset_dir: str | os.PathLike) -> list[Utterance]:
    """Read an LJSpeech-layout directory; the normalised transcript wins when it is given."""
    dataset_dir = Path(dataset_dir)
    metadata = dataset_dir / METADATA_NAME
    if not metadata.is_file():
        raise SpeechSynthError(
            f"{dataset_dir}: no {METADATA_NAME} found; expected the LJSpeech layout "
            f"({METADATA_NAME} with id|text|normalized text, and wavs/<id>.wav) or a filelist"
        )
    utterances = []
    for line_number, line in enumerate(read_lines(metadata), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) not in (2, 3):
            raise SpeechSynthError(
                f"{metadata}:{line_number}: expected 'id|text|normalized text', "
                f"found {len(fields)} field(s)"
            )
        utterance_id = fields[0].strip()
        text = fields[2] if len(fields) == 3 and fields[2].strip() else fields[1]
        utterances.append(
            Utterance(
                utterance_id=utterance_id,
                text=text.strip(),
                audio_path=dataset_dir / "wavs" / f"{utterance_id}.wav",
                origin=f"{metadata}:{line_number}",
            )
        )
    return utterances


def default_filelist_root(filelist: Path) -> Path:
    """NVIDIA keeps filelists in `<dataset>/filelists/` with paths relative to `<dataset>`."""
    parent = filelist.resolve().parent
    return parent.parent if parent.name == "filelists" else parent


def _is_audio(path_field: str) -> bool:
    return path_field.lower().endswith(AUDIO_SUFFIXES)


def _utterance_from_fields(fields: list[str], root: Path, origin: str) -> Utterance:
    def resolve(field: str) -> Path:
        return root / field.strip()

    first = fields[0].strip()
    utterance_id = Path(first).stem
    audio_or_mel = {"audio_path" if _is_audio(first) else "mel_path": resolve(first)}
    if len(fields) == 2:
        return Utterance(utterance_id, fields[1].strip(), origin=origin, **audio_or_mel)
    if len(fields) == 3:
        return Utterance(
            utterance_id,
            fields[2].strip(),
            pitch_path=resolve(fields[1]),
            origin=origin,
            **audio_or_mel,
        )
    if _is_audio(first):  # FastPitch 1.1 with speakers: audio|pitch|text|speaker
        return Utterance(
            utterance_id,
            fields[2].strip(),
            audio_path=resolve(first),
            pitch_path=resolve(fields[1]),
            speaker=_parse_speaker(fields[3], origin),
            origin=origin,
        )
    return Utterance(  # FastPitch 1.0: mel|durations|pitch|text
        utterance_id,
        fields[3].strip(),
        mel_path=resolve(first),
        duration_path=resolve(fields[1]),
        pitch_path=resolve(fields[2]),
        origin=origin,
    )


def _parse_speaker(field: str, origin: str) -> int:
    try:
        return int(field)
    except ValueError:
        raise SpeechSynthError(
            f"{origin}: speaker must be an integer id, found {field!r}"
        ) from None


def read_filelist(
    path: str | os.PathLike, root: str | os.PathLike | None = None
) -> list[Utterance]:
    """Read an NVIDIA-style `|`-separated filelist (2, 3 or 4 columns, see the module docstring)."""
    path = Path(path)
    root = Path(root) if root is not None else default_filelist_root(path)
    utterances = []
    for line_number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        origin = f"{path}:{line_number}"
        if not 2 <= len(fields) <= 4:
            raise SpeechSynthError(
                f"{origin}: expected 2 to 4 '|'-separated fields "
                f"(audio|text, audio|pitch|text, mel|durations|pitch|text), found {len(fields)}"
            )
        utterances.append(_utterance_from_fields(fields, root, origin))
    return utterances


def load_dataset(path: str | os.PathLike) -> list[Utterance]:
    """A dataset given as an LJSpeech directory or as a filelist, whichever `path` is."""
    path = Path(path)
    if path.is_dir():
        return read_ljspeech(path)
    if path.is_file():
        return read_filelist(path)
    raise SpeechSynthError(
        f"{path}: no such dataset; give an LJSpeech directory (with {METADATA_NAME}) or a filelist"
    )


def write_filelist(
    path: str | os.PathLike, rows: list[tuple[Path | str, ...]], root: Path | None = None
) -> None:
    """Write `|`-separated rows atomically; Path fields are written relative to `root`.

    `root` defaults to the root `read_filelist` infers for `path`, so the file reads back as is.
    """
    path = Path(path)
    root = root if root is not None else default_filelist_root(path)
    lines = []
    for row in rows:
        fields = [os.path.relpath(f, root) if isinstance(f, Path) else f for f in row]
        lines.append("|".join(fields))
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_phrases(path: str | os.PathLike) -> list[Phrase]:
    """Utterances to synthesise, named `0001`, `0002`, ... unless the file names them."""
    path = Path(path)
    lines = read_lines(path)
    if path.suffix.lower() == ".tsv":
        phrases = _phrases_from_tsv(path, lines)
    else:
        phrases = _phrases_from_lines(lines)
    if not phrases:
        raise SpeechSynthError(f"{path}: no text to synthesise; write one utterance per line")
    names = [phrase.output_name for phrase in phrases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SpeechSynthError(
            f"{path}: output names used more than once: {', '.join(duplicates[:5])}; "
            "give each line its own name"
        )
    return phrases


def _phrases_from_lines(lines: list[str]) -> list[Phrase]:
    phrases = []
    for line in lines:
        if not line.strip():
            continue
        name, separator, text = line.partition("|")
        if separator and name.strip() and "|" not in text:
            phrases.append(Phrase(Path(name.strip()).stem, text.strip()))
        else:
            phrases.append(Phrase(f"{len(phrases) + 1:04d}", line.strip()))
    return phrases


def _phrases_from_tsv(path: Path, lines: list[str]) -> list[Phrase]:
    if not lines:
        return []
    header = [column.strip() for column in lines[0].split("\t")]
    if "text" not in header:
        raise SpeechSynthError(
            f"{path}:1: a .tsv phrase file needs a header line with a 'text' column "
            f"(and optionally 'output'); found {header}"
        )
    text_column = header.index("text")
    output_column = header.index("output") if "output" in header else None
    phrases = []
    for line_number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise SpeechSynthError(
                f"{path}:{line_number}: expected {len(header)} tab-separated fields, "
                f"found {len(fields)}"
            )
        name = f"{len(phrases) + 1:04d}"
        if output_column is not None:
            name = Path(fields[output_column].strip()).stem
        phrases.append(Phrase(name, fields[text_column].strip()))
    return phrases
