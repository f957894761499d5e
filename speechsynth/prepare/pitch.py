"""`prepare pitch`: FastPitch's pitch targets, per mel frame and per input symbol.

For every clip, F0 is estimated with Praat (FastPitch 1.0) or pyin (FastPitch 1.1) on the
clip's audio, one value per mel frame (`speechsynth.audio.pitch.estimate_pitch`). The mel
length is the precomputed mel's when there is one (`--mel-dir`, or the dataset's own mel
column), else the one our `MelSpectrogram` gives for the audio.

Written to the output directory:
- `<id>.pt`: float32 [1, frames] F0 in Hz, 0 where unvoiced (NVIDIA FastPitch 1.1's
  `pitch/<id>.pt` layout: one row per formant, here one);
- `filelist.txt`: `<audio>|<id>.pt|<text>`, FastPitch 1.1's `audio|pitch|text`;
- with durations (from `prepare durations`): `per_symbol/<id>.pt`, float32 [symbols], the mean
  of the voiced frames each symbol lasts (0 if none; FastPitch 1.0's `pitch_char`, in Hz), and
  `fastpitch1.0_filelist.txt`: `<mel>|<durations>|per_symbol/<id>.pt|<text>`, FastPitch 1.0's
  `mel|durations|pitch|text` (which needs the precomputed mels of `prepare mels`);
- `pitch_stats.json`: mean and standard deviation of the voiced (non-zero) values, over the
  symbols with durations (what FastPitch 1.0 normalises), else over the frames (FastPitch 1.1);
  training copies them into the model's `pitch_mean` / `pitch_std` buffers.

Files hold Hz, not normalised values: loaders normalise with the stats (`normalise_pitch`).
All paths in the filelists are relative to the output directory. Valid files from an earlier
run are kept, so an interrupted run resumes; per-symbol pitch is recomputed from the frames
(cheap) and rewritten only when the durations changed it.
"""

from __future__ import annotations

import json
import logging
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from speechsynth.audio.config import MelConfig
from speechsynth.audio.io import load_audio
from speechsynth.audio.pitch import METHODS, estimate_pitch
from speechsynth.data.formats import Utterance, refuse_duplicate_ids, write_filelist
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path, write_text_atomic
from speechsynth.models.aligner import average_per_symbol
from speechsynth.prepare.mels import expected_frames
from speechsynth.prepare.results import FileResult

log = logging.getLogger(__name__)

FILELIST_NAME = "filelist.txt"  # audio|pitch|text (FastPitch 1.1)
SYMBOL_DIR = "per_symbol"
SYMBOL_FILELIST_NAME = "fastpitch1.0_filelist.txt"  # mel|durations|pitch|text (FastPitch 1.0)
STATS_NAME = "pitch_stats.json"


# ----------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class VoicedStats:
    """Count, mean and sum of squared deviations (M2) of the non-zero values seen so far."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0

    @classmethod
    def of(cls, values: np.ndarray | Tensor) -> VoicedStats:
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        voiced = values[values != 0]
        if voiced.size == 0:
            return cls()
        mean = float(voiced.mean())
        return cls(int(voiced.size), mean, float(((voiced - mean) ** 2).sum()))

    def merge(self, other: VoicedStats) -> VoicedStats:
        """Chan et al.'s pairwise update: exact and stable however the clips are grouped."""
        count = self.count + other.count
        if count == 0:
            return VoicedStats()
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / count
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / count
        return VoicedStats(count, mean, m2)

    @property
    def std(self) -> float:
        """Population standard deviation (numpy's default, as NVIDIA's `np.std`)."""
        return math.sqrt(self.m2 / self.count) if self.count else 0.0

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "count": self.count}


# ----------------------------------------------------------------------------- files on disk


def load_pitch_file(path: Path) -> Tensor | None:
    """A pitch tensor written by this step, or None when it is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        values = torch.load(path, weights_only=True)
    except Exception:  # any unreadable file is simply recomputed
        return None
    return values if isinstance(values, Tensor) else None


def is_valid_pitch(values: Tensor | None, n_frames: int | None) -> bool:
    """Dense pitch can be kept if it is float32 [1, n_frames] (any length when that is not
    known without resampling the clip), finite and non-negative."""
    return (
        values is not None
        and values.dtype == torch.float32
        and values.dim() == 2
        and values.size(0) == 1
        and (n_frames is None or values.size(1) == n_frames)
        and bool(torch.isfinite(values).all())
        and bool((values >= 0).all())
    )


def load_durations(path: Path, n_frames: int) -> Tensor:
    """int64 [symbols] durations from `prepare durations`, checked against the mel length."""
    if not path.is_file():
        raise SpeechSynthError(
            f"{path}: no durations for this clip; run `speechsynth prepare durations` on the "
            "dataset (or point --durations at its output)"
        )
    try:
        durations = torch.load(path, weights_only=True)
    except Exception as error:
        raise SpeechSynthError(
            f"{path}: cannot read durations ({type(error).__name__}); delete it and re-run "
            "`speechsynth prepare durations`"
        ) from None
    if (
        not isinstance(durations, Tensor)
        or durations.dim() != 1
        or durations.numel() == 0
        or durations.is_floating_point()
        or bool((durations < 0).any())
    ):
        raise SpeechSynthError(
            f"{path}: not a durations file (expected a non-negative integer tensor [symbols]); "
            "re-run `speechsynth prepare durations`"
        )
    total = int(durations.sum())
    if total != n_frames:
        raise SpeechSynthError(
            f"{path}: durations sum to {total} frames but the clip's mel has {n_frames}; "
            "re-run `speechsynth prepare durations` on the mels this step reads (--mel-dir)"
        )
    return durations.long()


def per_symbol_pitch(frames: Tensor, durations: Tensor) -> Tensor:
    """Dense pitch [1, frames] + durations [symbols] -> float32 [symbols]: each symbol's mean
    of its voiced frames, 0 if it has none (NVIDIA FastPitch 1.0's per-character pitch)."""
    averaged = average_per_symbol(frames.float()[None], durations.long()[None])
    return averaged[0, 0].float().contiguous()


def _save(path: Path, values: Tensor) -> None:
    with atomic_path(path) as temp_path:
        torch.save(values.clone(), temp_path)


# ----------------------------------------------------------------------------- one clip


@dataclass(frozen=True)
class PitchJob:
    utterance_id: str
    text: str
    audio_path: Path
    mel_path: Path | None  # the precomputed mel, when there is one
    pitch_path: Path
    durations_path: Path | None  # only when per-symbol pitch is asked for
    symbol_path: Path | None


@dataclass(frozen=True)
class PitchOutcome:
    result: FileResult
    frames: VoicedStats = field(default_factory=VoicedStats)
    symbols: VoicedStats = field(default_factory=VoicedStats)


_worker_state: dict = {}


def _init_worker(method: str, config: MelConfig, strict: bool) -> None:
    torch.set_num_threads(1)  # one process per core; more threads per process only oversubscribe
    _worker_state.update(method=method, config=config, strict=strict)


def _mel_frames(job: PitchJob, config: MelConfig) -> int | None:
    """The clip's mel length: the precomputed mel's, else from the audio header (None when
    the clip must be resampled first)."""
    if job.mel_path is None:
        try:
            return expected_frames(job.audio_path, config)
        except Exception:  # missing or unreadable: loading the audio reports the real error
            return None
    try:
        mel = torch.load(job.mel_path, weights_only=True)
    except Exception as error:
        raise SpeechSynthError(
            f"{job.mel_path}: cannot read the mel ({type(error).__name__}); re-run "
            "`speechsynth prepare mels`"
        ) from None
    if not isinstance(mel, Tensor) or mel.dim() != 2 or mel.size(0) != config.n_mel_channels:
        raise SpeechSynthError(
            f"{job.mel_path}: not a [{config.n_mel_channels}, frames] mel; re-run "
            "`speechsynth prepare mels`"
        )
    return mel.size(1)


def _compute_one(job: PitchJob) -> PitchOutcome:
    config: MelConfig = _worker_state["config"]
    wrote = False
    try:
        if job.durations_path is not None and job.mel_path is None:
            raise SpeechSynthError(
                f"{job.utterance_id}: no precomputed mel, which FastPitch 1.0's "
                "mel|durations|pitch|text filelist needs; run `speechsynth prepare mels` first "
                "(or pass --mel-dir)"
            )
        n_frames = _mel_frames(job, config)
        durations = None
        if job.durations_path is not None and n_frames is not None:
            durations = load_durations(job.durations_path, n_frames)  # before the slow part
        frames = load_pitch_file(job.pitch_path)
        if not is_valid_pitch(frames, n_frames):
            audio = load_audio(job.audio_path, config.sampling_rate, _worker_state["strict"])
            n_frames = n_frames or config.n_frames(len(audio))
            f0 = estimate_pitch(
                audio, config.sampling_rate, n_frames, _worker_state["method"], config.hop_length
            )
            frames = torch.from_numpy(f0)[None]
            _save(job.pitch_path, frames)
            wrote = True
        symbols = None
        if job.durations_path is not None:
            if durations is None:
                durations = load_durations(job.durations_path, frames.size(1))
            symbols = per_symbol_pitch(frames, durations)
            existing = load_pitch_file(job.symbol_path)
            if existing is None or not torch.equal(existing, symbols):
                _save(job.symbol_path, symbols)
                wrote = True
    except SpeechSynthError as error:
        return PitchOutcome(FileResult(job.utterance_id, "failed", str(error)))
    return PitchOutcome(
        FileResult(job.utterance_id, "written" if wrote else "skipped"),
        VoicedStats.of(frames),
        VoicedStats.of(symbols) if symbols is not None else VoicedStats(),
    )


# ----------------------------------------------------------------------------- the dataset


@dataclass
class PitchSummary:
    results: list[FileResult]  # one per utterance, in their order
    stats: dict  # what `pitch_stats.json` holds


def _mel_for(utterance: Utterance, mel_dir: Path | None) -> Path | None:
    if utterance.mel_path is not None:
        return utterance.mel_path
    if mel_dir is not None and (mel_dir / f"{utterance.utterance_id}.pt").is_file():
        return mel_dir / f"{utterance.utterance_id}.pt"
    return None


def _refuse_other_method(output_dir: Path, method: str) -> None:
    stats_path = output_dir / STATS_NAME
    if not stats_path.is_file():
        return
    try:
        earlier = json.loads(stats_path.read_text(encoding="utf-8")).get("method")
    except (OSError, ValueError, AttributeError):
        return  # unreadable: rewritten at the end
    if earlier is not None and earlier != method:
        raise SpeechSynthError(
            f"{output_dir}: holds {earlier} pitch, this run asks for {method}; give another "
            "--output or delete that directory"
        )


def _check_inputs(
    utterances: list[Utterance], durations_dir: Path | None, mel_dir: Path | None
) -> None:
    missing_audio = [u.origin or u.utterance_id for u in utterances if u.audio_path is None]
    if missing_audio:
        raise SpeechSynthError(
            f"{missing_audio[0]}: utterance has no audio file to estimate pitch from; give a "
            "dataset or filelist with audio paths"
        )
    if durations_dir is not None and not durations_dir.is_dir():
        raise SpeechSynthError(
            f"{durations_dir}: no such durations directory; run `speechsynth prepare "
            "durations` first or fix --durations"
        )
    if mel_dir is not None and not mel_dir.is_dir():
        raise SpeechSynthError(
            f"{mel_dir}: no such mel directory; run `speechsynth prepare mels` or fix --mel-dir"
        )


def compute_pitch(
    utterances: list[Utterance],
    output_dir: Path,
    method: str,
    durations_dir: Path | None = None,
    mel_dir: Path | None = None,
    config: MelConfig | None = None,
    jobs: int | None = None,
    strict: bool = False,
    progress: bool = False,
) -> PitchSummary:
    """Write every clip's pitch into `output_dir` (see the module docstring for the layout),
    the filelists and `pitch_stats.json`; per-symbol pitch too when `durations_dir` is given.

    Valid files from an earlier run are kept, so an interrupted run resumes; a directory
    holding another method's pitch is refused. Failures are reported per clip.
    """
    if method not in METHODS:
        raise SpeechSynthError(
            f"unknown pitch method {method!r}; choose one of: {', '.join(METHODS)}"
        )
    config = config or MelConfig()
    jobs = jobs or min(os.cpu_count() or 1, 8)
    output_dir = Path(output_dir)
    _check_inputs(utterances, durations_dir, mel_dir)
    refuse_duplicate_ids(utterances, "pitch")
    _refuse_other_method(output_dir, method)
    with_symbols = durations_dir is not None
    work = [
        PitchJob(
            utterance_id=u.utterance_id,
            text=u.text,
            audio_path=u.audio_path,
            mel_path=_mel_for(u, mel_dir),
            pitch_path=output_dir / f"{u.utterance_id}.pt",
            durations_path=durations_dir / f"{u.utterance_id}.pt" if with_symbols else None,
            symbol_path=output_dir / SYMBOL_DIR / f"{u.utterance_id}.pt" if with_symbols else None,
        )
        for u in utterances
    ]
    if with_symbols and all(job.mel_path is None for job in work):
        raise SpeechSynthError(
            f"{output_dir}: per-symbol pitch goes into FastPitch 1.0's mel|durations|pitch|text "
            "filelist, which needs precomputed mels; run `speechsynth prepare mels` first "
            "(or pass --mel-dir)"
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(
        max(1, min(jobs, len(work))), initializer=_init_worker, initargs=(method, config, strict)
    ) as pool:
        outcomes = list(
            tqdm(
                pool.map(_compute_one, work, chunksize=1),
                total=len(work),
                desc=f"pitch ({method})",
                unit="clip",
                disable=not progress,
            )
        )
    done = [job for job, o in zip(work, outcomes, strict=True) if o.result.status != "failed"]
    write_filelist(
        output_dir / FILELIST_NAME,
        [(job.audio_path, job.pitch_path, job.text) for job in done],
        root=output_dir,
    )
    if with_symbols:
        write_filelist(
            output_dir / SYMBOL_FILELIST_NAME,
            [(job.mel_path, job.durations_path, job.symbol_path, job.text) for job in done],
            root=output_dir,
        )
    stats = _write_stats(output_dir, method, config, outcomes, with_symbols)
    return PitchSummary([outcome.result for outcome in outcomes], stats)


def _write_stats(
    output_dir: Path,
    method: str,
    config: MelConfig,
    outcomes: list[PitchOutcome],
    with_symbols: bool,
) -> dict:
    frames, symbols = VoicedStats(), VoicedStats()
    for outcome in outcomes:
        frames = frames.merge(outcome.frames)
        symbols = symbols.merge(outcome.symbols)
    chosen = symbols if with_symbols else frames
    stats = {
        "method": method,
        "values": "symbols" if with_symbols else "frames",
        **chosen.to_dict(),
        "clips": sum(outcome.result.status != "failed" for outcome in outcomes),
        "frames": frames.to_dict(),
        **({"symbols": symbols.to_dict()} if with_symbols else {}),
        "sampling_rate": config.sampling_rate,
        "hop_length": config.hop_length,
    }
    if stats["clips"] and chosen.count == 0:
        log.warning("%s: no voiced %s in any clip; pitch_std is 0", output_dir, stats["values"])
    write_text_atomic(output_dir / STATS_NAME, json.dumps(stats, indent=2) + "\n")
    return stats
