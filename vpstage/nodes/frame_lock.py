"""A render node's side of frame lock: what to render next, and what to present at each deadline.

Orders arrive in frame order, each with its present deadline on the master's clock (converted to
the node's clock when scheduled). Two threads use this object:

* the **render** thread asks :meth:`FrameLock.next_to_render` for the newest order whose deadline
  is still ahead (older ones it has not started are skipped and counted: rendering them could
  only produce late pictures), renders it, and hands the result to :meth:`rendered`: on time
  (finished before the deadline) it is kept for the present, late it is refused and the caller
  frees it (a late picture is never shown). An order whose deadline is nearer than the quickest
  of the node's last eight renders is skipped too: it is left with too little time when the
  render before it overran or it arrived late, so rendering it would be late and make the next
  order start late as well (one overrun would cost a run of frames instead of one or two). Never
  two such skips in a row: the render after one always runs, so the node keeps measuring (and a
  node that can never make its deadlines still renders every other order);
* the **present** thread takes the :meth:`upcoming` frame (its order and deadline), prepares its
  present and waits for the deadline, then takes the frame that is due with
  :meth:`due`: its own pictures when they were ready in time (``fresh``), otherwise the previous
  pictures again (``repeat``, a late frame), or nothing yet (``black``). No frame is presented
  before its deadline, so no node runs ahead of the others.

Time is passed in (``now_ns``, the node's monotonic clock), so the rules are testable with a
fake clock; the methods are thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from vpstage.nodes.messages import FrameOrder

R = TypeVar("R")
Outcome = Literal["fresh", "repeat", "black"]
RECENT_RENDERS = 8
"""An order is hopeless when even the quickest of the node's last ``RECENT_RENDERS`` renders would
not fit before its deadline (none is, before there were that many)."""


@dataclass(kw_only=True)
class Scheduled(Generic[R]):
    order: FrameOrder
    deadline_ns: int
    """Present deadline on this node's clock."""
    started: bool = False
    result: R | None = None
    render_ms: float = float("nan")


@dataclass(kw_only=True)
class Due(Generic[R]):
    """The frame whose deadline has come, and what to show for it."""

    order: FrameOrder
    deadline_ns: int
    outcome: Outcome
    result: R | None
    """This frame's result when ``fresh``."""
    render_ms: float


@dataclass(kw_only=True)
class FrameLockCounters:
    scheduled: int = 0
    out_of_order: int = 0
    skipped: int = 0
    """Orders never rendered because a newer one was waiting, their deadline had passed, or it
    was nearer than the node's quickest recent render (those are counted in ``hopeless`` too)."""
    hopeless: int = 0
    """Orders skipped because their deadline was nearer than the node's quickest recent render."""
    late: int = 0
    """Renders that finished after their deadline (refused)."""
    fresh: int = 0
    repeated: int = 0
    late_renders: list[tuple[int, float]] = field(default_factory=list)
    """(frame, render_ms) of late renders not yet reported."""


class FrameLock(Generic[R]):
    """See the module docstring. ``R`` is whatever a render produces (pictures in host memory)."""

    def __init__(self) -> None:
        self._frames: OrderedDict[int, Scheduled[R]] = OrderedDict()
        self._last_frame = -1
        self._cond = threading.Condition()
        self._closed = False
        self.counters = FrameLockCounters()
        self._recent_ms: deque[float] = deque(maxlen=RECENT_RENDERS)
        self._skipped_hopeless = False
        """Whether the last choice skipped an order as hopeless (the next one is rendered)."""

    def schedule(self, order: FrameOrder, deadline_ns: int) -> bool:
        """Accept ``order`` (deadline already on this node's clock). False, and counted, when its
        frame number does not follow the last one (a duplicate or out-of-order order)."""
        with self._cond:
            if order.frame <= self._last_frame:
                self.counters.out_of_order += 1
                return False
            self._last_frame = order.frame
            self._frames[order.frame] = Scheduled(order=order, deadline_ns=deadline_ns)
            self.counters.scheduled += 1
            self._cond.notify_all()
            return True

    def next_to_render(self, now_ns: int) -> Scheduled[R] | None:
        """The newest order not yet started whose deadline is after ``now_ns`` (marked started);
        older unstarted orders are skipped. None when there is nothing to render now."""
        with self._cond:
            choice = None
            for entry in reversed(self._frames.values()):
                if entry.started:
                    break
                if choice is None and entry.deadline_ns > now_ns:
                    choice = entry
                elif choice is not None or entry.deadline_ns <= now_ns:
                    entry.started = True  # skipped: it will be presented as a repeat
                    self.counters.skipped += 1
            if choice is None:
                return None
            choice.started = True
            if self._hopeless(choice, now_ns):
                self.counters.skipped += 1
                self.counters.hopeless += 1
                self._skipped_hopeless = True
                return None
            self._skipped_hopeless = False
            return choice

    def _hopeless(self, entry: Scheduled[R], now_ns: int) -> bool:
        """Whether ``entry`` is due sooner than the node's quickest recent render (module docstring)."""
        if self._skipped_hopeless or len(self._recent_ms) < RECENT_RENDERS:
            return False
        return entry.deadline_ns - now_ns < min(self._recent_ms) * 1e6

    def wait_for_order(self, timeout_s: float) -> None:
        """Block until a new order arrives, the lock is closed or ``timeout_s`` passes."""
        with self._cond:
            if not self._closed and not any(not e.started for e in self._frames.values()):
                self._cond.wait(timeout_s)

    def rendered(self, frame: int, result: R, finished_ns: int, render_ms: float) -> bool:
        """Hand over ``frame``'s result. True: kept for its present. False: late (after its
        deadline, or already presented): refused, the caller releases ``result``."""
        with self._cond:
            self._recent_ms.append(render_ms)
            entry = self._frames.get(frame)
            if entry is None or finished_ns > entry.deadline_ns:
                self.counters.late += 1
                self.counters.late_renders.append((frame, render_ms))
                return False
            entry.result, entry.render_ms = result, render_ms
            return True

    def upcoming(self) -> Scheduled[R] | None:
        """The oldest frame not yet presented (its order and its deadline on the node's clock), None
        when there is none."""
        with self._cond:
            return next(iter(self._frames.values()), None)

    def due(self, now_ns: int, have_previous: bool) -> Due[R] | None:
        """Take the oldest frame if its deadline has come (``now_ns``). ``have_previous``: whether
        earlier pictures exist to repeat."""
        with self._cond:
            if not self._frames:
                return None
            frame, entry = next(iter(self._frames.items()))
            if entry.deadline_ns > now_ns:
                return None
            del self._frames[frame]
            if entry.result is not None:
                self.counters.fresh += 1
                return Due(order=entry.order, deadline_ns=entry.deadline_ns, outcome="fresh", result=entry.result,
                           render_ms=entry.render_ms)
            self.counters.repeated += 1
            return Due(order=entry.order, deadline_ns=entry.deadline_ns, outcome="repeat" if have_previous else "black",
                       result=None, render_ms=entry.render_ms)

    def take_late_renders(self) -> tuple[tuple[int, float], ...]:
        with self._cond:
            late, self.counters.late_renders = tuple(self.counters.late_renders), []
            return late

    def drain(self) -> list[Scheduled[R]]:
        """Remove and return every frame not yet presented (on stop), so results can be released."""
        with self._cond:
            entries = list(self._frames.values())
            self._frames.clear()
            return entries

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
