"""One Euro filter (Casiez, Roussel, Vogel 2012): adaptive low-pass for noisy tracking, off by default.

At low speed the cutoff is ``min_cutoff_hz`` (strong smoothing of jitter); it rises with the
filtered speed by ``beta`` so fast moves are not lagged. Timestamps are monotonic nanoseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class OneEuroSettings:
    min_cutoff_hz: float = 1.0
    beta: float = 0.05
    derivative_cutoff_hz: float = 1.0


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Filters a fixed-length vector of channels. Not thread-safe (one per camera buffer)."""

    def __init__(self, settings: OneEuroSettings) -> None:
        self.settings = settings
        self._last_t: int | None = None
        self._x: list[float] = []
        self._dx: list[float] = []

    def reset(self) -> None:
        self._last_t = None

    def __call__(self, t_ns: int, values: Sequence[float]) -> list[float]:
        if self._last_t is None or t_ns <= self._last_t or len(values) != len(self._x):
            self._last_t, self._x, self._dx = t_ns, list(values), [0.0] * len(values)
            return list(values)
        dt = (t_ns - self._last_t) * 1e-9
        self._last_t = t_ns
        s = self.settings
        a_d = _alpha(s.derivative_cutoff_hz, dt)
        out = []
        for i, value in enumerate(values):
            dx = (value - self._x[i]) / dt
            self._dx[i] += a_d * (dx - self._dx[i])
            a = _alpha(s.min_cutoff_hz + s.beta * abs(self._dx[i]), dt)
            self._x[i] += a * (value - self._x[i])
            out.append(self._x[i])
        return out
