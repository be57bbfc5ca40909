"""The swap barrier of one frame: which nodes delivered by the deadline.

The loop submits frame N to every free node, then offers each reply here. The barrier releases
(present may start) as soon as every submitted node has answered, or at the present deadline
for the stragglers. A node is *late* at frame N when it was given the job and had not answered
by the deadline; its canvases repeat their previous picture (a *drop*), and its eventual answer
is discarded. A node that fails (worker raised or died) is not late: it is down.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from vpstage.engine.cluster import Reply
from vpstage.engine.jobs import NodeFrame

Verdict = Literal["on_time", "late", "stale", "failed"]


class FrameBarrier:
    """Accounting for one frame; not thread-safe (the loop's thread only)."""

    def __init__(self, frame: int, submitted: Iterable[str], deadline_ns: int) -> None:
        self.frame = frame
        self.deadline_ns = deadline_ns
        self.waiting = set(submitted)
        self.submitted = frozenset(self.waiting)
        self.on_time: dict[str, NodeFrame] = {}
        self.late: set[str] = set()
        self.failed: dict[str, str] = {}

    def offer(self, reply: Reply) -> Verdict:
        """Record one reply; returns how it counts."""
        if reply.frame != self.frame or reply.node not in self.submitted:
            return "stale"
        self.waiting.discard(reply.node)
        if reply.failure is not None or reply.result is None:
            self.failed[reply.node] = reply.failure or "no result"
            return "failed"
        if reply.arrived_ns > self.deadline_ns:
            self.late.add(reply.node)
            return "late"
        self.on_time[reply.node] = reply.result
        return "on_time"

    @property
    def complete(self) -> bool:
        """Every submitted node has answered (the barrier may release before the deadline)."""
        return not self.waiting

    def close(self) -> set[str]:
        """Release at the deadline: nodes still waiting count as late. Returns all late nodes."""
        self.late |= self.waiting
        self.waiting = set()
        return set(self.late)
