"""Shared fixtures: where ../shared is, and a single-threaded, quiet torch."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Caches the package builds on first use (the compact CMUdict) go to a fresh folder per run,
# never the developer's ~/.cache.
os.environ["SPEECHSYNTH_CACHE"] = tempfile.mkdtemp(prefix="speechsynth-test-cache-")

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


@pytest.fixture(scope="session")
def waveglow_onnx_dir(parity_dir, tmp_path_factory) -> Path:
    """../shared/parity/waveglow.pt exported (sigma 0.6) through the command line, once for
    every module that runs it: the export is the slowest step of those tests (20-100 s)."""
    from speechsynth.cli import main

    directory = tmp_path_factory.mktemp("waveglow-onnx")
    checkpoint = str(require_shared(parity_dir / "waveglow.pt"))
    assert main(["export", "--model", checkpoint, "-o", str(directory), "--sigma", "0.6"]) == 0
    return directory


@pytest.fixture(scope="session")
def parallel_exports(parity_dir, tmp_path_factory) -> dict:
    """name -> (export directory, the PyTorch LoadedModel it came from) for FastPitch 1.0,
    FastPitch 1.1 with energy and FastSpeech, exported once for every module that runs them
    (30-45 s each)."""
    from speechsynth.export.exporters import export_model
    from speechsynth.models.registry import load_model

    result = {}
    for name in ("fastpitch10", "fastpitch11_energy", "fastspeech"):
        loaded = load_model(require_shared(parity_dir / f"{name}.pt"))
        directory = tmp_path_factory.mktemp(f"{name}-onnx")
        export_model(loaded, directory)
        result[name] = (directory, loaded)
    return result
