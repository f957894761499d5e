"""Helpers shared by the models' config dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from speechsynth.errors import SpeechSynthError


def refuse_unknown_keys(config_class: type, values: Mapping[str, Any], model_label: str) -> None:
    """A checkpoint or file config with keys the dataclass lacks is an error naming them."""
    known = {item.name for item in fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SpeechSynthError(
            f"unknown {model_label} config key(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
