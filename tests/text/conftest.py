"""NVIDIA's parity inputs (text and the ids NVIDIA's own front end produced for it)."""

from __future__ import annotations

import pytest
import torch


def _load_inputs(parity_dir, name: str) -> dict:
    path = parity_dir / f"{name}.pt"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return torch.load(path, weights_only=True)["inputs"]


@pytest.fixture(scope="session")
def tacotron2_inputs(parity_dir) -> dict:
    return _load_inputs(parity_dir, "tacotron2")


@pytest.fixture(scope="session")
def fastpitch10_inputs(parity_dir) -> dict:
    return _load_inputs(parity_dir, "fastpitch10")
