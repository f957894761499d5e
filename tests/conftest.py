"""Shared fixtures: where ../shared is, and a single-threaded, quiet torch."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path

import pytest
import torch

# NVIDIA's parity fixtures were produced with one thread; one thread also avoids
# oversubscribing the 2-core CI machine.
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


def _shared_path(*parts: str) -> Path:
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the read-only ../shared checkout is not beside the repo")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _shared_path()


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    return _shared_path("parity")


@pytest.fixture(scope="session")
def ljspeech_mini() -> Path:
    return _shared_path("data", "ljspeech-mini")
