"""Per-frame statistics, and bounded ring buffers of them for the console's plots.

The loop builds one :class:`FrameStats` per frame it runs and records it in a
:class:`StatsHistory`: fixed-size numpy rings (the last ``capacity`` frames) plus running
totals over the whole run. The console reads copies from its own thread (a timer), so the
history locks around each record and read. Times are milliseconds; NaN means "not measured
this frame" (e.g. render time of a node that did not deliver, tracking latency of a pattern).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class NodeStats:
    node: str
    state: str
    """'up', 'down' or 'starting'."""
    canvases: tuple[str, ...]
    """Canvases the node was responsible for this frame (for a down node: its own, uncovered)."""
    render_ms: float
    """Node-measured render time of a fresh frame (NaN when it was not ready in time)."""
    present_ms: float
    """Time the node took to hand its canvases to its outputs."""
    present_ns: int
    """When its last canvas was handed over, on the master's clock (0 when it did not report)."""
    late: bool
    """It was sent the frame and did not present it fresh by the deadline."""
    dropped: bool
    """A canvas it answers for did not show this frame's own picture."""
    cpu_ms: float = math.nan
    """CPU time (all threads of the node's process) since its previous report."""
    gpu_ms: float = math.nan
    """GPU time of a fresh render (NaN on the CPU)."""


@dataclass(frozen=True, kw_only=True)
class FrameStats:
    frame: int
    timecode: str
    time_ns: int
    deadline_ns: int
    plan_ms: float
    send_ms: float
    """Time the master took to send the frame's orders."""
    present_ms: float
    """Longest hand-over of a node's canvases to its outputs."""
    present_skew_ms: float
    """Spread of the nodes' present times (last canvas handed over, master clock), max - min."""
    tracking_age_ms: float
    """Frame instant minus the oldest tracking state used (NaN without tracking)."""
    tracking_to_present_ms: float
    """Present time minus the oldest tracking state used (NaN without tracking)."""
    skipped_before: int
    """Frames skipped just before this one because the loop had fallen behind."""
    nodes: tuple[NodeStats, ...]

    @property
    def late(self) -> int:
        return sum(n.late for n in self.nodes)

    @property
    def dropped(self) -> int:
        return sum(n.dropped for n in self.nodes)


class RingBuffer:
    """The last ``capacity`` float values, oldest first on read."""

    def __init__(self, capacity: int) -> None:
        self._data = np.full(capacity, np.nan)
        self._count = 0

    def append(self, value: float) -> None:
        self._data[self._count % len(self._data)] = value
        self._count += 1

    def values(self) -> F64:
        n, cap = self._count, len(self._data)
        if n <= cap:
            return self._data[:n].copy()
        start = n % cap
        return np.concatenate([self._data[start:], self._data[:start]])

    def __len__(self) -> int:
        return min(self._count, len(self._data))


FRAME_SERIES = ("frame", "plan_ms", "send_ms", "present_ms", "present_skew_ms", "tracking_age_ms",
                "tracking_to_present_ms", "late", "dropped")
NODE_SERIES = ("render_ms", "present_ms", "late", "dropped", "cpu_ms", "gpu_ms")


@dataclass
class NodeTotals:
    frames: int = 0
    late: int = 0
    dropped: int = 0


class StatsHistory:
    """Rings of the last ``capacity`` frames and totals for the whole run (thread-safe)."""

    def __init__(self, nodes: Sequence[str], capacity: int = 4096) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._frame = {name: RingBuffer(capacity) for name in FRAME_SERIES}
        self._node = {node: {name: RingBuffer(capacity) for name in NODE_SERIES} for node in nodes}
        self.frames = 0
        self.skipped = 0
        self.totals = {node: NodeTotals() for node in nodes}

    def record(self, stats: FrameStats) -> None:
        with self._lock:
            self.frames += 1
            self.skipped += stats.skipped_before
            for name in FRAME_SERIES:
                self._frame[name].append(float(getattr(stats, name)))
            for node in stats.nodes:
                rings, totals = self._node[node.node], self.totals[node.node]
                for name in NODE_SERIES:
                    rings[name].append(float(getattr(node, name)))
                # frames the node answered for, skipped ones included: dropped never exceeds frames
                slots = 1 + stats.skipped_before if node.canvases else 0
                totals.frames += slots
                totals.late += node.late
                totals.dropped += int(node.dropped) + (stats.skipped_before if node.canvases else 0)

    def series(self, name: str) -> F64:
        """Copy of one per-frame series (see FRAME_SERIES), oldest first."""
        with self._lock:
            return self._frame[name].values()

    def node_series(self, node: str, name: str) -> F64:
        """Copy of one per-node series (see NODE_SERIES), oldest first."""
        with self._lock:
            return self._node[node][name].values()

    @property
    def nodes(self) -> list[str]:
        return list(self._node)


def percentiles(values: F64) -> dict[str, float | None]:
    """p50 / p99 / max of the finite values, in the report's shape (None when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"p50": None, "p99": None, "max": None}
    p50, p99 = np.percentile(finite, [50, 99])
    return {"p50": round(float(p50), 3), "p99": round(float(p99), 3), "max": round(float(finite.max()), 3)}


def nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value
