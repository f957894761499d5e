"""`prepare durations`: per-symbol durations from a teacher-forced Tacotron 2.

FastPitch 1.0 and FastSpeech learn how many mel frames each input symbol lasts from a trained
Tacotron 2: the teacher reads every clip with its true mel as decoder input (teacher forcing),
and each frame is credited to the symbol it attends to most. As NVIDIA's `extract_mels.py`:
`durations = histc(argmax(alignment, dim=1), bins=text_length)`, so the durations of a clip sum
to its number of mel frames.

Written to the output directory: `<id>.pt`, an int64 tensor [text_length], one duration per
symbol of the encoded text. No filelist: a 3-column `audio|durations|text` file would read as
FastPitch 1.1's `audio|pitch|text`; `prepare pitch --durations` writes FastPitch 1.0's
`mel|durations|pitch|text` filelist instead.

The text is encoded with the teacher's own cleaners and without ARPAbet substitution, so the
durations match one fixed symbol sequence per clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from speechsynth.audio.config import MelConfig
from speechsynth.data.formats import Utterance, refuse_duplicate_ids
from speechsynth.data.text_mel import TextMelDataset, TextMelItem, collate_text_mel
from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path
from speechsynth.models.overrides import config_overridden
from speechsynth.models.registry import LoadedModel, load_model
from speechsynth.models.tacotron2 import Tacotron2
from speechsynth.prepare.mels import expected_frames
from speechsynth.prepare.results import FileResult
from speechsynth.text import TextProcessor

# ----------------------------------------------------------------------------- durations


def attention_to_durations(alignment: Tensor, mel_length: int, text_length: int) -> Tensor:
    """alignment [T_mel, T_text] of one clip -> int64 [text_length] frame counts per symbol.

    Each of the first `mel_length` frames counts once, for the symbol (among the first
    `text_length`) it attends to most, so the result sums to `mel_length`. Padding is ignored.
    """
    if mel_length < 1 or text_length < 1:
        raise SpeechSynthError(
            f"durations need at least one frame and one symbol, got {mel_length} frame(s) "
            f"and {text_length} symbol(s)"
        )
    if alignment.size(0) < mel_length or alignment.size(1) < text_length:
        raise SpeechSynthError(
            f"alignment of shape {tuple(alignment.shape)} is smaller than "
            f"[{mel_length}, {text_length}] frames x symbols"
        )
    attended_symbols = alignment[:mel_length, :text_length].argmax(dim=1)
    return torch.bincount(attended_symbols, minlength=text_length).long()


def batch_attention_to_durations(
    alignments: Tensor, mel_lengths: Tensor, text_lengths: Tensor
) -> list[Tensor]:
    """alignments [B, T_mel, T_text] -> one int64 [text_lengths[b]] tensor per clip."""
    return [
        attention_to_durations(alignment, mel_length, text_length)
        for alignment, mel_length, text_length in zip(
            alignments, mel_lengths.tolist(), text_lengths.tolist(), strict=True
        )
    ]


# ----------------------------------------------------------------------------- files on disk


def clip_frames(utterance: Utterance, mel_config: MelConfig) -> int | None:
    """Mel frames of the clip without computing its mel; None when that cannot be known."""
    try:
        if utterance.mel_path is not None:
            mel = torch.load(utterance.mel_path, weights_only=True)
            return mel.size(-1) if isinstance(mel, Tensor) else None
        if utterance.audio_path is not None:
            return expected_frames(utterance.audio_path, mel_config)
    except Exception:  # unreadable here means "compute it", which reports the real error
        return None
    return None


def is_valid_durations(path: Path, text_length: int, mel_frames: int | None) -> bool:
    """An existing file is kept if it is int64 [text_length], non-negative, summing to the
    clip's mel frame count (which must be known)."""
    if mel_frames is None or not path.is_file():
        return False
    try:
        durations = torch.load(path, weights_only=True)
    except Exception:  # any unreadable file is simply recomputed
        return False
    return (
        isinstance(durations, Tensor)
        and durations.dtype == torch.int64
        and durations.shape == (text_length,)
        and bool((durations >= 0).all())
        and int(durations.sum()) == mel_frames
    )


def save_durations(path: Path, durations: Tensor) -> None:
    with atomic_path(path) as temp_path:
        torch.save(durations.to(torch.int64).cpu().clone(), temp_path)


# ----------------------------------------------------------------------------- the teacher


def teacher_forced_durations(
    model: Tacotron2,
    items: list[TextMelItem],
    device: torch.device,
    generator: torch.Generator | None = None,
) -> dict[str, Tensor]:
    """Run the teacher on one batch of items -> {utterance id: durations}."""
    batch = collate_text_mel(items).to(device)
    with torch.inference_mode():
        outputs = model(
            batch.text, batch.text_lengths, batch.mels, batch.mel_lengths, generator=generator
        )
    durations = batch_attention_to_durations(
        outputs.alignments.cpu(), batch.mel_lengths.cpu(), batch.text_lengths.cpu()
    )
    return dict(zip(batch.utterance_ids, durations, strict=True))


def _teacher(loaded_model: LoadedModel) -> Tacotron2:
    if loaded_model.name != "tacotron2" or not isinstance(loaded_model.model, Tacotron2):
        raise SpeechSynthError(
            f"{loaded_model.source}: durations need a Tacotron 2 teacher, "
            f"this is a {loaded_model.name} checkpoint"
        )
    return loaded_model.model


@dataclass
class _Pending:
    utterance: Utterance
    text_length: int


def _sort_out(
    utterances: list[Utterance],
    output_dir: Path,
    text_processor: TextProcessor,
    mel_config: MelConfig,
) -> tuple[list[_Pending], dict[str, FileResult]]:
    """-> (clips still to compute, results already known: skipped or failed)."""
    pending, known = [], {}
    for utterance in utterances:
        utterance_id = utterance.utterance_id
        try:
            text_length = len(text_processor.encode(utterance.text))
        except SpeechSynthError as error:
            known[utterance_id] = FileResult(utterance_id, "failed", str(error))
            continue
        path = output_dir / f"{utterance_id}.pt"
        if is_valid_durations(path, text_length, clip_frames(utterance, mel_config)):
            known[utterance_id] = FileResult(utterance_id, "skipped")
        else:
            pending.append(_Pending(utterance, text_length))
    return pending, known


def _load_items(
    dataset: TextMelDataset, indices: range, results: dict[str, FileResult]
) -> list[TextMelItem]:
    """Load a batch's clips; a clip that fails to load is recorded and left out."""
    items = []
    for index in indices:
        try:
            items.append(dataset[index])
        except SpeechSynthError as error:
            utterance_id = dataset.utterances[index].utterance_id
            results[utterance_id] = FileResult(utterance_id, "failed", str(error))
    return items


def compute_durations(
    loaded_model: LoadedModel | Path,
    utterances: list[Utterance],
    output_dir: Path,
    batch_size: int = 16,
    text_processor: TextProcessor | None = None,
    *,
    dropout: bool = True,
    seed: int = 1234,
    device: str | torch.device = "cpu",
    mel_config: MelConfig | None = None,
    progress: bool = False,
) -> list[FileResult]:
    """Write `<output_dir>/<id>.pt` durations for every clip.

    `loaded_model` is the Tacotron 2 teacher, or the path of its checkpoint. The teacher runs
    in eval mode under `torch.inference_mode()`. `dropout` keeps its prenet
    dropout on, as NVIDIA does (the attention of a Tacotron 2 trained with it degrades without
    it); the dropout masks come from a generator seeded with `seed`. Valid files from an
    earlier run are kept, so an interrupted run resumes. Clips are batched by text length.
    -> one result per utterance, in their order.
    """
    if batch_size < 1:
        raise SpeechSynthError(f"batch size must be at least 1, got {batch_size}")
    if isinstance(loaded_model, Path):  # a checkpoint to load (ours or NVIDIA's)
        loaded_model = load_model(loaded_model, expected_name="tacotron2")
    model = _teacher(loaded_model)
    mel_config = mel_config or MelConfig()
    if model.config.n_mel_channels != mel_config.n_mel_channels:
        raise SpeechSynthError(
            f"{loaded_model.source}: the teacher reads {model.config.n_mel_channels}-band mels, "
            f"the mel front end makes {mel_config.n_mel_channels}"
        )
    refuse_duplicate_ids(utterances, "durations")
    # No ARPAbet: a student trained on these durations must see the same symbols every epoch.
    text_processor = text_processor or TextProcessor(
        loaded_model.text_cleaners, warn_once=True, rules=loaded_model.text_rules
    )
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)

    pending, results = _sort_out(utterances, output_dir, text_processor, mel_config)
    pending.sort(key=lambda entry: entry.text_length, reverse=True)  # little padding per batch
    dataset = TextMelDataset([entry.utterance for entry in pending], text_processor, mel_config)
    device = torch.device(device)
    generator = torch.Generator(device=device).manual_seed(seed) if dropout else None
    model.eval().to(device)
    with (
        config_overridden(model, prenet_dropout_at_inference=dropout),
        tqdm(total=len(pending), desc="durations", unit="clip", disable=not progress) as bar,
    ):
        for start in range(0, len(pending), batch_size):
            indices = range(start, min(start + batch_size, len(pending)))
            items = _load_items(dataset, indices, results)
            if items:
                for utterance_id, durations in teacher_forced_durations(
                    model, items, device, generator
                ).items():
                    save_durations(output_dir / f"{utterance_id}.pt", durations)
                    results[utterance_id] = FileResult(utterance_id, "written")
            bar.update(len(indices))

    return [results[utterance.utterance_id] for utterance in utterances]
