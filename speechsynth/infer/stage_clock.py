"""Where the time of a synthesis goes: seconds per named stage (text front end, generator,
vocoder, denoiser), added up while a `StageClock` runs (`bench inference`'s breakdown).

The pipeline marks its stages with `timed_stage(name)`; with no clock running that costs one
context-variable read, so the marks stay in the code that users run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_RUNNING: ContextVar[StageClock | None] = ContextVar("speechsynth_stage_clock", default=None)


class StageClock:
    """Seconds per stage over the calls made while `running()`. Stages may nest (the
    vocoder's time includes its denoiser's)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def running(self) -> Iterator[StageClock]:
        token = _RUNNING.set(self)
        try:
            yield self
        finally:
            _RUNNING.reset(token)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


@contextmanager
def timed_stage(stage: str) -> Iterator[None]:
    """Adds the block's wall time to the running clock's `stage`, if a clock runs."""
    clock = _RUNNING.get()
    if clock is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        clock.add(stage, time.perf_counter() - started)
