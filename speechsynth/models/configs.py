"""Helpers shared by the models' config dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, ClassVar

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


class ModelConfig:
    """`from_dict` / `to_dict` for the models' config dataclasses (a mixin: each subclass is a
    dataclass and names its model in `model_label` for error messages)."""

    model_label: ClassVar[str] = "model"

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Any:
        """Build from a checkpoint's or file's config dict; unknown keys are an error naming
        them."""
        refuse_unknown_keys(cls, values, cls.model_label)
        return cls(**cls.normalised(values))

    @classmethod
    def normalised(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` as the constructor takes them (a subclass copies nested mappings)."""
        return dict(values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]
