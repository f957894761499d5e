"""NVIDIA's parity inputs (text and the ids NVIDIA's own front end produced for it)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tacotron2_inputs(load_parity) -> dict:
    return load_parity("tacotron2")["inputs"]


@pytest.fixture(scope="session")
def fastpitch10_inputs(load_parity) -> dict:
    return load_parity("fastpitch10")["inputs"]
