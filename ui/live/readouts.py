"""Small read-only helpers the live panels share: which stream drives a camera, the measured frame
rate, short value formats. Qt-free; every read is one the models allow from any thread."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np


def camera_stream(hub: Any, camera_name: str, streams: list[Any] | None = None) -> Any:
    """The StreamStats of the stream feeding ``camera_name`` (its source, and its stream id when it
    names one), or None when that stream has not been seen."""
    camera = next((c for c in hub.project.cameras if c.name == camera_name), None)
    if camera is None:
        return None
    source = next((s for s in hub.project.tracking if s.name == camera.tracker), None)
    wanted = camera.camera_id if camera.camera_id is not None else (source.camera_id if source else None)
    for stream in streams if streams is not None else hub.stream_health():
        if stream.receiver == camera.tracker and (wanted is None or str(stream.camera_id) == str(wanted)):
            return stream
    return None


class RateMeter:
    """Frames per second from a growing frame count, averaged over about ``window_s``."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_ns = int(window_s * 1e9)
        self._marks: list[tuple[int, int]] = []

    def update(self, count: int, now_ns: int | None = None) -> float:
        now = time.monotonic_ns() if now_ns is None else now_ns
        self._marks.append((now, count))
        while len(self._marks) > 2 and now - self._marks[1][0] >= self.window_ns:
            self._marks.pop(0)
        (t0, c0), (t1, c1) = self._marks[0], self._marks[-1]
        return (c1 - c0) * 1e9 / (t1 - t0) if t1 > t0 else math.nan

    def reset(self) -> None:
        self._marks.clear()


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    """A number for a readout; '–' for None or NaN."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}{unit}"


def last_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else math.nan
