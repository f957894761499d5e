"""`prepare mels`: precompute log-mel spectrograms to disk, in parallel and resumably."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import soundfile
import torch
from tqdm import tqdm

from speechsynth.audio import MelConfig, MelSpectrogram, load_audio
from speechsynth.data.formats import Utterance, refuse_duplicate_ids, write_filelist
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path
from speechsynth.prepare.results import FileResult

FILELIST_NAME = "filelist.txt"


@dataclass(frozen=True)
class MelJob:
    utterance_id: str
    audio_path: Path
    mel_path: Path
    text: str


def expected_frames(audio_path: Path, config: MelConfig) -> int | None:
    """Mel frames the clip will give, from its header; None when it must be resampled first."""
    info = soundfile.info(audio_path)
    if info.samplerate != config.sampling_rate:
        return None
    return config.n_frames(info.frames)


def is_valid_mel(mel_path: Path, audio_path: Path, config: MelConfig) -> bool:
    """An existing mel file can be kept if it loads, has the right shape and is finite."""
    if not mel_path.is_file():
        return False
    try:
        mel = torch.load(mel_path, weights_only=True)
        frames = expected_frames(audio_path, config)
    except Exception:  # any unreadable file is simply recomputed
        return False
    return (
        isinstance(mel, torch.Tensor)
        and mel.dim() == 2
        and mel.size(0) == config.n_mel_channels
        and (frames is None or mel.size(1) == frames)
        and bool(torch.isfinite(mel).all())
    )


_worker_state: dict = {}


def _init_worker(config: MelConfig, strict: bool) -> None:
    torch.set_num_threads(1)  # one process per core; more threads per process only oversubscribe
    _worker_state["mel"] = MelSpectrogram(config)
    _worker_state["strict"] = strict


def _compute_one(job: MelJob) -> FileResult:
    mel_spectrogram: MelSpectrogram = _worker_state["mel"]
    config = mel_spectrogram.config
    try:
        if is_valid_mel(job.mel_path, job.audio_path, config):
            return FileResult(job.utterance_id, "skipped")
        audio = load_audio(job.audio_path, config.sampling_rate, strict=_worker_state["strict"])
        mel = mel_spectrogram(torch.from_numpy(audio))
        with atomic_path(job.mel_path) as temp_path:
            torch.save(mel.clone(), temp_path)
    except SpeechSynthError as error:
        return FileResult(job.utterance_id, "failed", str(error))
    return FileResult(job.utterance_id, "written")


def compute_mels(
    utterances: list[Utterance],
    output_dir: Path,
    config: MelConfig | None = None,
    jobs: int | None = None,
    strict: bool = False,
    progress: bool = False,
) -> list[FileResult]:
    """Write `<output_dir>/<id>.pt` (float32 [n_mels, frames], as NVIDIA) and a `mel|text` filelist.

    Valid files from an earlier run are kept, so an interrupted run resumes where it stopped.
    """
    config = config or MelConfig()
    jobs = jobs or min(os.cpu_count() or 1, 8)
    missing_audio = [u.origin or u.utterance_id for u in utterances if u.audio_path is None]
    if missing_audio:
        raise SpeechSynthError(
            f"{missing_audio[0]}: utterance has no audio file to compute a mel from"
        )
    refuse_duplicate_ids(utterances, "mel")
    work = [
        MelJob(u.utterance_id, u.audio_path, output_dir / f"{u.utterance_id}.pt", u.text)
        for u in utterances
    ]
    output_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(config, strict)) as pool:
        results = list(
            tqdm(
                pool.map(_compute_one, work, chunksize=4),
                total=len(work),
                desc="mels",
                unit="clip",
                disable=not progress,
            )
        )
    done = {result.utterance_id for result in results if result.status != "failed"}
    rows = [(job.mel_path, job.text) for job in work if job.utterance_id in done]
    write_filelist(output_dir / FILELIST_NAME, rows, root=output_dir)
    return results
