"""Glass-to-glass latency reported by viewer pages: (feed frame counter, wall-clock ms when the
browser had it decoded) pairs, turned into milliseconds since the feed published that frame.

The browser's clock is ``performance.timeOrigin + performance.now()`` (Unix epoch, ms); on one
machine (loopback) it is the same clock as the server's ``time.time()``, so no offset is needed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vpstage.frame_master.frame_stats import RingBuffer, percentiles

MAX_SAMPLES_PER_POST = 600


class LatencyLog:
    """Latencies per viewer and overall (thread-safe)."""

    def __init__(self, published_at: Callable[[int], float | None], capacity: int = 4096) -> None:
        self._published_at = published_at
        self._lock = threading.Lock()
        self._all = RingBuffer(capacity)
        self.unmatched = 0

    def record(self, samples: Sequence[tuple[int, float]]) -> list[float]:
        """Latency (ms) of every sample whose frame is still known; others are counted."""
        out = []
        for counter, decoded_ms in samples:
            published = self._published_at(counter)
            if published is None:
                self.unmatched += 1
                continue
            out.append(decoded_ms - published * 1e3)
        with self._lock:
            for value in out:
                self._all.append(value)
        return out

    def values(self) -> np.ndarray:
        """Every latency kept (ms), oldest first."""
        with self._lock:
            return self._all.values()

    def report(self) -> dict[str, Any]:
        with self._lock:
            values = self._all.values()
        return {"samples": len(values), "unmatched": self.unmatched, "ms": percentiles(np.asarray(values))}
