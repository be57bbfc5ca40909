"""Per-node frame counts with one denominator, over the last seconds and over the whole run (Qt-free).

The frame loop keeps running totals per node (``StatsHistory.totals``): ``frames`` counts every
frame the node answered for, the ones the master skipped included; ``late`` the frames it was sent
and did not present fresh; ``dropped`` the frames a canvas of it did not show its own picture (a
skipped frame counts as dropped, so dropped never exceeds frames). ``NodeRateWindow`` samples those
totals at each call and gives the same counts over the last ``window_s`` seconds by difference:
run and window figures share their denominator, and no count can exceed the frames it is a share of.

CPU rehearsal: on a stage whose nodes all render on the CPU, scene frames take a large part of a
second or more, so most frames are dropped by design. That is not a fault: the console shows it as
an informational notice (``cpu_rehearsal_notice``) and raises an alarm only when a node has shown
no new picture for ``CPU_NO_FRESH_S`` seconds.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpstage.stage.model import Project

WINDOW_S = 2.0
BEHIND_SHARE = 0.5
"""A node that dropped more than this share of its frames over the window is shown as behind."""
CPU_NOTICE_SHARE = 0.1
"""A CPU stage dropping more than this share over the window gets the CPU-rehearsal notice."""
CPU_NO_FRESH_S = 10.0
"""On a CPU stage, a node without a single new picture for this long is an alarm."""


def cpu_only(project: Project | None) -> bool:
    """Every render node of the project renders on the CPU (no ``gpu:``)."""
    return project is not None and bool(project.nodes) and all(n.gpu is None for n in project.nodes)


@dataclass(frozen=True)
class NodeCounts:
    frames: int = 0
    late: int = 0
    dropped: int = 0

    @property
    def fresh(self) -> int:
        """Frames on which every canvas of the node showed that frame's own picture."""
        return max(0, self.frames - self.dropped)

    def minus(self, earlier: NodeCounts) -> NodeCounts:
        return NodeCounts(self.frames - earlier.frames, self.late - earlier.late, self.dropped - earlier.dropped)


def count_text(part: int, whole: int) -> str:
    """``12/60 20%``: a count as a share of its frames; ``–`` without frames."""
    if whole <= 0:
        return "–" if part <= 0 else str(part)
    return f"{part}/{whole} {100.0 * part / whole:.0f}%"


@dataclass(frozen=True)
class NodeRates:
    run: NodeCounts
    """Since the engine started."""
    window: NodeCounts
    """Over the last ``window_s`` seconds."""
    window_s: float
    since_fresh_s: float
    """Seconds since the node last showed a new picture (or since it was first seen, if never)."""

    @property
    def behind(self) -> bool:
        return self.window.frames > 0 and self.window.dropped > BEHIND_SHARE * self.window.frames

    @property
    def stuck(self) -> bool:
        """Frames came over the window but not one of them was fresh."""
        return self.window.frames > 0 and self.window.fresh == 0


def read_totals(history: Any) -> dict[str, NodeCounts]:
    """The loop's per-node totals now. ``dropped`` and ``late`` are read before ``frames`` (the loop
    adds to ``frames`` first), so a read racing a frame never shows more dropped than frames."""
    out = {}
    for node, totals in list(history.totals.items()):
        dropped, late = totals.dropped, totals.late
        out[node] = NodeCounts(totals.frames, late, dropped)
    return out


class NodeRateWindow:
    """Samples the loop's totals at each ``update`` (see the module docstring)."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_ns = int(window_s * 1e9)
        self._samples: collections.deque[tuple[int, dict[str, NodeCounts]]] = collections.deque()
        self._fresh: dict[str, tuple[int, int]] = {}
        """Node -> (fresh frames, when that count last grew or the node was first seen)."""

    def reset(self) -> None:
        self._samples.clear()
        self._fresh.clear()

    def update(self, history: Any, now_ns: int) -> dict[str, NodeRates]:
        totals = read_totals(history)
        samples = self._samples
        samples.append((now_ns, totals))
        while len(samples) > 2 and samples[1][0] <= now_ns - self.window_ns:
            samples.popleft()  # keep one sample at or before the window's start
        since, first = samples[0]
        span_s = (now_ns - since) / 1e9
        out = {}
        for node, run in totals.items():
            out[node] = NodeRates(run, run.minus(first.get(node, NodeCounts())), span_s,
                                  self._since_fresh(node, run.fresh, now_ns))
        return out

    def _since_fresh(self, node: str, fresh: int, now_ns: int) -> float:
        seen = self._fresh.get(node)
        if seen is None or fresh > seen[0]:
            seen = (fresh, now_ns)
            self._fresh[node] = seen
        return (now_ns - seen[1]) / 1e9


def cpu_rehearsal_notice(rates: Mapping[str, NodeRates]) -> str | None:
    """On a CPU stage: one line saying how many new pictures each node shows (None while the
    nodes keep up)."""
    slow = {n: r for n, r in rates.items() if r.window.frames and r.window.dropped > CPU_NOTICE_SHARE * r.window.frames}
    if not slow:
        return None
    parts = ", ".join(f"{node} {r.window.fresh}/{r.window.frames}" for node, r in rates.items() if r.window.frames)
    return (f"CPU rehearsal: new pictures in the last {WINDOW_S:g} s: {parts}. The nodes render on the CPU and "
            f"cannot keep up with the frame rate: expected without a GPU, not a fault")
