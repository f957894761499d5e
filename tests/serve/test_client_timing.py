"""The benchmark client's timing of a stream, on a fake clock: time to first audio, latency and
the longest stall of a listener who starts playing at the first chunk."""

from __future__ import annotations

import numpy as np
import pytest

from speechsynth.serve import client as client_module
from speechsynth.serve.client import timed_stream


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


class ScriptedStream:
    """Chunks of `samples` arriving `delays` seconds apart (on the fake clock), at 1,000 Hz."""

    sampling_rate = 1000

    def __init__(self, clock: FakeClock, script: list[tuple[float, int]]) -> None:
        self.clock, self.script = clock, script

    def stream(self, text: str):
        for delay, samples in self.script:
            self.clock.now += delay
            yield np.ones(samples, np.float32)


@pytest.mark.parametrize(
    ("script", "first", "latency", "stall"),
    [
        ([(0.2, 500), (0.3, 500), (0.3, 100)], 0.2, 0.8, 0.0),  # always ahead of playback
        ([(0.2, 100), (0.4, 100), (0.1, 100)], 0.2, 0.7, 0.3),  # 0.1 s played, then 0.3 s wait
        ([(0.1, 100), (0.3, 100), (0.3, 100)], 0.1, 0.7, 0.2),  # two waits of 0.2 s
    ],
)
def test_a_stream_is_timed_as_a_listener_hears_it(monkeypatch, script, first, latency, stall):
    clock = FakeClock()
    monkeypatch.setattr(client_module.time, "perf_counter", clock.perf_counter)
    timed = timed_stream(ScriptedStream(clock, script), "text")
    assert len(timed.audio) == sum(samples for _, samples in script)
    assert timed.first_audio_s == pytest.approx(first)
    assert timed.latency_s == pytest.approx(latency)
    assert timed.stall_s == pytest.approx(stall)
