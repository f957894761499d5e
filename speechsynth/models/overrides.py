"""Run a model for a while with some of its config fields changed."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from torch import nn


@contextlib.contextmanager
def config_overridden(model: nn.Module, **changes: Any) -> Iterator[None]:
    """Replace `model.config` by a copy with `changes` (None values: keep) and restore it after.

    The config is copied, never mutated, so other holders of the original config see no change.
    Works for settings the model reads from `model.config` at call time (gate threshold, prenet
    dropout at inference, early stopping, ...).
    """
    changes = {name: value for name, value in changes.items() if value is not None}
    if not changes:
        yield
        return
    original = model.config
    model.config = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        model.config = original
