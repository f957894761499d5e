"""The manifest of a `speechsynth export` directory: one schema for every model.

It holds what running the graphs needs besides them: the model's name and config, how it reads
text (acoustic models), the audio setup (sampling rate, hop, mel parameters), the inference
defaults, the graph files and the export options. Reading it needs no torch (the ONNX runtime
runs without it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from speechsynth.errors import SpeechSynthError
from speechsynth.models.text_setup import SPEECHSYNTH_TEXT_RULES, TextSetup

MANIFEST_NAME = "speechsynth_onnx.json"
# 1: acoustic models only, no audio setup; 2: every model, with "audio" and "inference_defaults".
MANIFEST_FORMAT = 2


def build_manifest(
    *,
    model_name: str,
    model_config: dict[str, Any],
    source: str,
    files: dict[str, str],
    opset: int,
    version: str,
    audio: dict[str, Any],
    inference_defaults: dict[str, Any],
    text_setup: TextSetup | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A manifest; `text_setup` for models that read text, `extra` for the model's own export
    options (they are recorded as given)."""
    text = {}
    if text_setup is not None:
        text = {
            "text_cleaners": list(text_setup.cleaners),
            "p_arpabet": text_setup.p_arpabet,
            "text_rules": text_setup.rules,
        }
    return {
        "format": MANIFEST_FORMAT,
        "model_name": model_name,
        "model_config": model_config,
        **text,
        "audio": dict(audio),
        "inference_defaults": dict(inference_defaults),
        **extra,
        "opset": opset,
        "files": dict(files),
        "source": source,
        "speechsynth_version": version,
    }


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def is_export_dir(path: str | Path) -> bool:
    """True for a directory written by `speechsynth export` (it holds the manifest)."""
    return (Path(path) / MANIFEST_NAME).is_file()


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of an export directory, with one-line errors for a missing, unreadable or
    newer one."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise SpeechSynthError(
            f"{directory}: no {MANIFEST_NAME}; is it a directory written by `speechsynth export`?"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SpeechSynthError(
            f"{path}: not valid JSON ({error}); export the model again"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format", 0), int):
        raise SpeechSynthError(f"{path}: not an export manifest; export the model again")
    if manifest.get("format", 0) > MANIFEST_FORMAT:
        raise SpeechSynthError(
            f"{path}: written by a newer speechsynth (format {manifest['format']}); upgrade "
            "speechsynth or export the model again"
        )
    for key in ("model_name", "model_config", "files"):
        if key not in manifest:
            raise SpeechSynthError(f"{path}: has no {key!r}; export the model again")
    return manifest


def require_model(manifest: dict[str, Any], name: str, directory: Path) -> None:
    if manifest.get("model_name") != name:
        raise SpeechSynthError(
            f"{directory / MANIFEST_NAME}: an export of {manifest.get('model_name')!r}, "
            f"not {name}; export the model again"
        )


def manifest_text_setup(manifest: dict[str, Any]) -> TextSetup:
    if "text_cleaners" not in manifest or "p_arpabet" not in manifest:
        raise SpeechSynthError(
            f"the export of {manifest.get('model_name')!r} records no text setup: it does not "
            "read text (a vocoder?), or its manifest is damaged; export the model again"
        )
    return TextSetup(
        tuple(manifest["text_cleaners"]),
        float(manifest["p_arpabet"]),
        str(manifest.get("text_rules", SPEECHSYNTH_TEXT_RULES)),  # exports older than text_rules
    )


def graph_path(directory: Path, manifest: dict[str, Any], part: str) -> Path:
    """The file of graph `part`, as the manifest names it."""
    try:
        return directory / manifest["files"][part]
    except (KeyError, TypeError):
        raise SpeechSynthError(
            f"{directory / MANIFEST_NAME}: names no {part!r} graph; export the model again"
        ) from None
