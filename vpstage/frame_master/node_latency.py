"""Per render node: its share of the present skew, its tracking-to-present latency, and the render
time of every answer (late ones included).

The loop's statistics give present skew across nodes and tracking-to-present latency per frame;
the run report also wants them per node. Per frame (on the loop's thread):

* ``present_skew_ms`` of a node: its present time minus the earliest node's present time;
* ``present_after_deadline_ms`` of a node: its present time minus the frame's deadline (how
  closely it keeps the frame lock: the hand-over of its canvases ends this long after the instant
  every node aims at);
* ``tracking_to_present_ms`` of a node: its present time minus the time of the oldest tracking
  data any of its canvases used (from the planner's frame), NaN when none of them showed a camera;
* ``render_all_ms``: the worker-measured render time of every answer, on time or late
  (``LoopEvents.rendered``); the loop's own ``render_ms`` keeps on-time answers only, so on a
  machine whose renders miss every deadline it would show only the quick ones.

Kept in bounded rings like ``StatsHistory``; thread-safe.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from vpstage.frame_master.frame_stats import F64, FrameStats, RingBuffer, percentiles
from vpstage.frame_master.plan import PlannedFrame

SERIES = ("present_skew_ms", "present_after_deadline_ms", "tracking_to_present_ms", "render_all_ms")


class NodeLatencyHistory:
    def __init__(self, nodes: Sequence[str], capacity: int = 4096) -> None:
        self._rings = {node: {name: RingBuffer(capacity) for name in SERIES} for node in nodes}
        self._lock = threading.Lock()

    def record(self, stats: FrameStats, plan: PlannedFrame | None) -> None:
        presented = [n.present_ns for n in stats.nodes if n.present_ns]
        first = min(presented) if presented else 0
        seen: dict[str, int] = {}
        if plan is not None and plan.frame == stats.frame:
            for camera in plan.cameras:
                data_ns = camera.data_time_ns
                if data_ns is None:
                    continue
                for canvas in plan.visible.get(camera.name, {}):
                    seen[canvas] = min(seen.get(canvas, data_ns), data_ns)
        with self._lock:
            for node in stats.nodes:
                rings = self._rings.get(node.node)
                if rings is None:
                    continue
                times = [seen[c] for c in node.canvases if c in seen]
                skew = (node.present_ns - first) / 1e6 if node.present_ns else math.nan
                latency = (node.present_ns - min(times)) / 1e6 if node.present_ns and times else math.nan
                rings["present_skew_ms"].append(skew)
                after = (node.present_ns - stats.deadline_ns) / 1e6 if node.present_ns else math.nan
                rings["present_after_deadline_ms"].append(after)
                rings["tracking_to_present_ms"].append(latency)

    def record_render(self, node: str, frame: int, render_ms: float, on_time: bool) -> None:
        """Connect to ``LoopEvents.rendered`` (loop thread)."""
        with self._lock:
            rings = self._rings.get(node)
            if rings is not None:
                rings["render_all_ms"].append(render_ms)

    def all_renders(self) -> F64:
        """Every node's render times still in the rings (for the run's overall figure)."""
        with self._lock:
            values = [rings["render_all_ms"].values() for rings in self._rings.values()]
        return np.concatenate(values) if values else np.zeros(0)

    def report(self) -> dict[str, dict[str, Any]]:
        """node -> {series: {p50, p99, max}} over the frames still in the rings."""
        with self._lock:
            return {node: {name: percentiles(ring.values()) for name, ring in rings.items()}
                    for node, rings in self._rings.items()}
