"""Shared fixtures: where ../shared is, and a single-threaded, quiet torch."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

# NVIDIA's parity fixtures were produced with one thread; one thread also avoids
# oversubscribing the 2-core CI machine.
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


def require_shared(path: Path) -> Path:
    """`path` under ../shared; absent, the test is skipped on a developer's machine and fails
    in CI (CI set), where a missing shared/ would otherwise pass green having tested nothing."""
    if not path.exists():
        message = f"{path} is absent: the read-only ../shared checkout is not beside the repo"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _shared_path(*parts: str) -> Path:
    return require_shared(SHARED_DIR.joinpath(*parts))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _shared_path()


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    return _shared_path("parity")


@pytest.fixture(scope="session")
def load_parity(parity_dir) -> Callable[[str], dict]:
    """`load_parity("tacotron2")`: the content of ../shared/parity/tacotron2.pt."""

    def load(name: str) -> dict:
        return torch.load(require_shared(parity_dir / f"{name}.pt"), weights_only=True)

    return load


@pytest.fixture(scope="session")
def ljspeech_mini() -> Path:
    return _shared_path("data", "ljspeech-mini")
