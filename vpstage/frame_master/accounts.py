"""The master's accounts of each frame: which nodes were sent it, what each reported, when it is done.

Frame N is opened when its orders go out. Every node that was sent an order reports back right
after its own present (at frame N's deadline): fresh, repeated (late) or black, its present time
on the master's clock, render and CPU times. Frame N is *closed* once every such node reported,
or at ``deadline + grace`` for the ones that did not (a frozen or dying node): they count as late
and their canvases as dropped. Frames close in order, so statistics and take records are too.

Per node and frame: **late** when it was sent the frame and did not present it fresh; **dropped**
when any canvas it answers for did not show this frame's own picture (late, not sent because the
node was down or its canvas was being handed over). **Skew** is the spread of the nodes' present
times; **tracking to present** is the last present minus the oldest tracking data shown.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from vpstage.frame_master.frame_stats import FrameStats, NodeStats
from vpstage.frame_master.plan import FramePlan
from vpstage.nodes.messages import FrameReport


@dataclass(kw_only=True)
class OpenFrame:
    plan: FramePlan
    groups: dict[str, tuple[str, ...]]
    """Node -> canvases it answers for this frame (a down node: its own, uncovered ones)."""
    sent: dict[str, tuple[str, ...]]
    """Node -> canvases in the order it was sent (every node that was sent one)."""
    close_at_ns: int
    plan_ms: float
    send_ms: float
    skipped_before: int
    reports: dict[str, FrameReport] = field(default_factory=dict)

    @property
    def frame(self) -> int:
        return self.plan.tick.index

    @property
    def complete(self) -> bool:
        return all(node in self.reports for node in self.sent)


class FrameAccounts:
    """Open frames in order (loop thread only)."""

    def __init__(self) -> None:
        self._open: OrderedDict[int, OpenFrame] = OrderedDict()

    def open(self, frame: OpenFrame) -> None:
        self._open[frame.frame] = frame

    def offer(self, node: str, report: FrameReport) -> bool:
        """Attach ``report``; False when no open frame was sent to ``node`` (stale or unknown)."""
        frame = self._open.get(report.frame)
        if frame is None or node not in frame.sent or node in frame.reports:
            return False
        frame.reports[node] = report
        return True

    def forget_node(self, node: str) -> None:
        """A node died: it will report none of its open frames."""
        for frame in self._open.values():
            if node not in frame.reports:
                frame.sent.pop(node, None)

    def close_due(self, now_ns: int) -> list[OpenFrame]:
        """Frames that can close now, oldest first (each complete, or past its close time)."""
        done = []
        while self._open:
            frame = next(iter(self._open.values()))
            if not (frame.complete or now_ns >= frame.close_at_ns):
                break
            done.append(self._open.popitem(last=False)[1])
        return done

    def close_all(self) -> list[OpenFrame]:
        done = list(self._open.values())
        self._open.clear()
        return done

    def __len__(self) -> int:
        return len(self._open)


def frame_stats(frame: OpenFrame, states: Mapping[str, str]) -> FrameStats:
    """The statistics of a closed frame (``states``: node -> up / down / starting)."""
    tick = frame.plan.tick
    nodes = []
    presents: list[int] = []
    for node, state in states.items():
        canvases = frame.groups.get(node, ())
        sent = frame.sent.get(node)
        report = frame.reports.get(node)
        fresh = report is not None and report.status == "fresh"
        if report is not None and (canvases or sent):
            presents.append(report.present_ns)
        complete = sent is not None and set(canvases) <= set(sent)
        nodes.append(NodeStats(
            node=node, state=state, canvases=canvases,
            render_ms=report.render_ms if fresh and report is not None else math.nan,
            present_ms=report.present_ms if report is not None else 0.0,
            present_ns=report.present_ns if report is not None else 0,
            late=sent is not None and bool(sent) and not fresh,
            dropped=bool(canvases) and not (fresh and complete),
            cpu_ms=report.cpu_ms if report is not None else math.nan,
            gpu_ms=report.gpu_ms if fresh and report is not None else math.nan))
    skew = (max(presents) - min(presents)) / 1e6 if len(presents) > 1 else (0.0 if presents else math.nan)
    shown = tuple(c for canvases in frame.groups.values() for c in canvases)
    oldest = frame.plan.tracking_time_ns(shown)
    last = max(presents) if presents else tick.deadline_ns
    present_ms = max((n.present_ms for n in nodes), default=0.0)
    return FrameStats(frame=tick.index, timecode=str(tick.timecode), time_ns=tick.time_ns, deadline_ns=tick.deadline_ns,
                      plan_ms=frame.plan_ms, send_ms=frame.send_ms, present_ms=present_ms, present_skew_ms=skew,
                      tracking_age_ms=math.nan if oldest is None else (tick.time_ns - oldest) / 1e6,
                      tracking_to_present_ms=math.nan if oldest is None else (last - oldest) / 1e6,
                      skipped_before=frame.skipped_before, nodes=tuple(nodes))
