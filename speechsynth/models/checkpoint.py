"""Checkpoints: NVIDIA DeepLearningExamples files (unwrap, strip DDP prefixes, load strictly)
and speechsynth's own self-describing format (model name + config + weights + training state).

Layouts handled (see NVIDIA's `train.py save_checkpoint` of each model):
- Tacotron2 / WaveGlow / FastPitch: `{'state_dict', 'config', 'epoch', 'optimizer', ...}`,
  FastPitch also `'ema_state_dict'` (None unless EMA was on; preferred when present).
- FastSpeech: `{'model': state_dict, 'optim', 'step'}`.
- HiFi-GAN: `hifigan_gen_checkpoint_*.pt` = `{'generator', 'gen_ema', 'config', 'train_setup',
  'train_state'}` (NVIDIA's inference reads `generator`, never `gen_ema`), and jik876's original
  `{'generator': state_dict}`.
- a bare state_dict.
Keys saved from a DistributedDataParallel model carry `module.` (torch-hub files `module.1.`).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from speechsynth.errors import SpeechSynthError
from speechsynth.fileio import atomic_path

DDP_PREFIXES = ("module.1.", "module.")
# In order of preference; `generator`: HiFi-GAN (its `gen_ema` is left alone, as NVIDIA's
# inference does).
STATE_DICT_KEYS = ("ema_state_dict", "state_dict", "model", "generator")
MAX_KEYS_SHOWN = 3


def strip_prefixes(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Remove leading `module.1.` / `module.` (repeatedly) from every key.

    NVIDIA's loaders replace these strings anywhere in a key; no parameter name of these models
    contains them except as a prefix, so stripping only prefixes gives the same result.
    """
    return {_strip_key(key): value for key, value in state_dict.items()}


def _strip_key(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in DDP_PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix) :], True
    return key


def unwrap_nvidia_checkpoint(
    checkpoint: Any, source_name: str = "checkpoint"
) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    """-> (state_dict without DDP prefixes, the checkpoint's config dict or None)."""
    if isinstance(checkpoint, nn.Module):
        return strip_prefixes(checkpoint.state_dict()), None
    if not isinstance(checkpoint, Mapping):
        raise SpeechSynthError(
            f"{source_name}: expected a checkpoint dict or a state_dict, "
            f"got {type(checkpoint).__name__}"
        )
    if _is_state_dict(checkpoint):
        return strip_prefixes(checkpoint), None
    state_dict = _pick_state_dict(checkpoint, source_name)
    config = checkpoint.get("config")
    return strip_prefixes(state_dict), dict(config) if isinstance(config, Mapping) else None


def _is_state_dict(candidate: Mapping[Any, Any]) -> bool:
    return len(candidate) > 0 and all(
        isinstance(key, str) and isinstance(value, Tensor) for key, value in candidate.items()
    )


def _pick_state_dict(checkpoint: Mapping[str, Any], source_name: str) -> Mapping[str, Tensor]:
    for key in STATE_DICT_KEYS:
        candidate = checkpoint.get(key)
        if isinstance(candidate, nn.Module):
            return candidate.state_dict()
        if isinstance(candidate, Mapping) and _is_state_dict(candidate):
            return candidate
    found = ", ".join(sorted(map(str, checkpoint))) or "none"
    raise SpeechSynthError(
        f"{source_name}: no model weights found (looked for {', '.join(STATE_DICT_KEYS)}; "
        f"top-level keys: {found})"
    )


def load_state_dict_strict(
    model: nn.Module, state_dict: Mapping[str, Tensor], source_name: str
) -> None:
    """`model.load_state_dict(state_dict, strict=True)`, but a mismatch raises a one-line
    SpeechSynthError naming `source_name` and a few missing / unexpected / mis-shaped keys."""
    problems = state_dict_problems(model.state_dict(), state_dict)
    if problems:
        raise SpeechSynthError(
            f"{source_name} does not fit {type(model).__name__}: {'; '.join(problems)}"
        )
    model.load_state_dict(state_dict, strict=True)


def state_dict_problems(expected: Mapping[str, Tensor], given: Mapping[str, Tensor]) -> list[str]:
    """Short descriptions of what keeps `given` from loading where `expected` lives."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    mismatched = [
        f"{key} {_shape(given[key])} vs model {_shape(expected[key])}"
        for key in expected
        if key in given and given[key].shape != expected[key].shape
    ]
    problems = []
    for label, items in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", mismatched),
    ):
        if items:
            problems.append(f"{len(items)} {label} ({_first_few(items)})")
    return problems


def _shape(tensor: Tensor) -> str:
    return str(list(tensor.shape))


def _first_few(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_KEYS_SHOWN])
    return shown if len(items) <= MAX_KEYS_SHOWN else f"{shown}, ..."


# ----------------------------------------------------------------- speechsynth's own checkpoints

CHECKPOINT_FORMAT = "speechsynth"
CHECKPOINT_FORMAT_VERSION = 1


def write_checkpoint(path: str | os.PathLike, payload: Mapping[str, Any]) -> None:
    """Save a self-describing checkpoint atomically (temp file + rename).

    `payload` must hold at least `model_name`, `model_config` (a dict) and `state_dict`.
    """
    missing = [key for key in ("model_name", "model_config", "state_dict") if key not in payload]
    if missing:
        raise ValueError(f"checkpoint payload lacks {', '.join(missing)}")
    record = {"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_FORMAT_VERSION, **payload}
    with atomic_path(path) as temp_path:
        torch.save(record, temp_path)


# What a file torch.save wrote starts with: a zip archive (torch >= 1.6), or a pickle's protocol
# opcode (older files).
_ZIP_MAGIC, _PICKLE_MAGIC = b"PK\x03\x04", b"\x80"


def load_file(path: str | os.PathLike) -> Any:
    """`torch.load` (tensors and plain containers only) with one-line errors naming the file."""
    path = Path(path)
    if not path.is_file():
        raise SpeechSynthError(f"{path}: checkpoint not found; check the path")
    with path.open("rb") as file:
        start = file.read(len(_ZIP_MAGIC))
    if not start.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        raise SpeechSynthError(
            f"{path}: not a checkpoint (a PyTorch file is a zip archive or a pickle; this one "
            f"starts with {start!r}); check the path"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise SpeechSynthError(
            f"{path}: holds pickled Python objects, not only weights "
            f"({str(error).splitlines()[0]}); re-save it as a state_dict with NVIDIA's code"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise SpeechSynthError(
            f"{path}: not a readable checkpoint ({str(error).splitlines()[0]}); "
            "was it copied completely?"
        ) from None


def is_own_checkpoint(content: Any) -> bool:
    return isinstance(content, Mapping) and content.get("format") == CHECKPOINT_FORMAT


def read_checkpoint(path: str | os.PathLike, expected_model: str | None = None) -> dict[str, Any]:
    """Load a speechsynth checkpoint, checking its format and (optionally) its model."""
    content = load_file(path)
    if not is_own_checkpoint(content):
        raise SpeechSynthError(
            f"{path}: not a speechsynth checkpoint (NVIDIA checkpoints can be used for "
            "inference and as initial weights, not resumed)"
        )
    if content.get("format_version", 0) > CHECKPOINT_FORMAT_VERSION:
        raise SpeechSynthError(
            f"{path}: checkpoint format {content['format_version']} is newer than this "
            f"speechsynth understands ({CHECKPOINT_FORMAT_VERSION}); upgrade speechsynth"
        )
    if expected_model is not None and content["model_name"] != expected_model:
        raise SpeechSynthError(
            f"{path}: is a {content['model_name']} checkpoint, expected {expected_model}"
        )
    return content
