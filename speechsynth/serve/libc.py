"""The C library's functions that Python does not wrap (Linux / glibc)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def libc_function(name: str, use_errno: bool = False) -> Callable[..., int] | None:
    """The C library's `name`, or None where this platform's C library has none."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=use_errno), name)
    except (OSError, AttributeError):
        return None
