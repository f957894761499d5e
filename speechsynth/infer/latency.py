"""Latency statistics as NVIDIA's benchmarks report them (numpy only: the serving client and
the model benchmarks share them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatencyStats:
    """Seconds over repeats: mean, standard deviation, the 90/95/99th percentiles (NVIDIA's
    "latency confidence intervals") and the median (what speed-ups compare: a noisy neighbour
    moves it least)."""

    mean: float
    std: float
    p90: float
    p95: float
    p99: float
    median: float

    @classmethod
    def of(cls, samples: list[float]) -> LatencyStats:
        values = np.asarray(samples, dtype=np.float64)
        p50, p90, p95, p99 = (float(value) for value in np.percentile(values, [50, 90, 95, 99]))
        return cls(float(values.mean()), float(values.std()), p90, p95, p99, p50)

    def intervals(self) -> dict[str, float]:
        """The seed's `latency interval 50% / 90% / 95% / 99%` lines."""
        return {"50%": self.median, "90%": self.p90, "95%": self.p95, "99%": self.p99}
