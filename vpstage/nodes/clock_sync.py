"""A render node's estimate of the frame master's clock.

Every node presents frame N at the deadline the master put in its order, on the master's
monotonic clock. A node on the master's host (same boot id) shares that clock exactly: offset 0.
A node on another host estimates ``offset = master - node`` from ping/pong round trips, the way
NTP does: for a ping sent at node time ``t0``, answered at master time ``tm`` and received back
at ``t1``, ``offset = tm - (t0 + t1) / 2`` with an error of at most half the round trip. It keeps
the sample with the shortest round trip among the most recent ``window`` ones (queueing delays
only ever lengthen a round trip), so a busy network or CPU does not pull the estimate around.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


def boot_id() -> str:
    """This host's boot id (Linux), or '' where there is none: hosts with equal ids share a clock."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


@dataclass(frozen=True)
class ClockSample:
    offset_ns: int
    rtt_ns: int
    at_ns: int
    """Node time the answer arrived."""


class ClockSync:
    """Thread-safe; ``add`` from the link reader, ``offset_ns`` / ``to_local`` from anywhere."""

    def __init__(self, same_clock: bool = False, window: int = 32) -> None:
        self.same_clock = same_clock
        """True when master and node share one monotonic clock (same host): the offset is 0."""
        self._samples: deque[ClockSample] = deque(maxlen=window)
        self._best: ClockSample | None = None
        self._lock = threading.Lock()

    def add(self, sent_node_ns: int, master_ns: int, received_node_ns: int) -> ClockSample | None:
        """Record one round trip; returns the sample (None if it makes no sense: time ran backwards)."""
        rtt = received_node_ns - sent_node_ns
        if rtt < 0:
            return None
        sample = ClockSample(master_ns - (sent_node_ns + received_node_ns) // 2, rtt, received_node_ns)
        with self._lock:
            self._samples.append(sample)
            self._best = min(self._samples, key=lambda s: s.rtt_ns)
        return sample

    @property
    def synced(self) -> bool:
        return self.same_clock or self._best is not None

    def offset_ns(self) -> int:
        """Master clock minus node clock (0 until the first sample, and always on the same host)."""
        if self.same_clock:
            return 0
        best = self._best
        return 0 if best is None else best.offset_ns

    def rtt_ns(self) -> int:
        best = self._best
        return 0 if best is None else best.rtt_ns

    def to_local(self, master_ns: int) -> int:
        """A master-clock instant on this node's clock."""
        return master_ns - self.offset_ns()

    def to_master(self, node_ns: int) -> int:
        return node_ns + self.offset_ns()
