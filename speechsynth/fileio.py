"""Atomic file writes: a crash or Ctrl-C never leaves a half-written output file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `destination`; rename it over `destination` on success.

    The temporary file lives in the same directory so the final `os.replace` is atomic.
    On any exception the temporary file is removed and `destination` is left untouched.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp" + destination.suffix, dir=destination.parent
    )
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        # mkstemp creates the file 0600; give it the permissions a plain open() would have.
        os.chmod(temp_path, 0o666 & ~_current_umask())
        os.replace(temp_path, destination)
    finally:
        temp_path.unlink(missing_ok=True)


def _current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_text_atomic(destination: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `destination` atomically."""
    with atomic_path(destination) as temp_path:
        temp_path.write_text(text, encoding="utf-8")


def cache_dir() -> Path:
    """Where the package keeps what it builds on first use (the compact CMUdict, mel bases):
    $SPEECHSYNTH_CACHE, else $XDG_CACHE_HOME/speechsynth, else ~/.cache/speechsynth."""
    if os.environ.get("SPEECHSYNTH_CACHE"):
        return Path(os.environ["SPEECHSYNTH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "speechsynth"
