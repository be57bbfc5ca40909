"""Node health and canvas assignment: who renders which canvas now, and outage records.

Every canvas has a *home* node (``Canvas.node``). When a node goes down its canvases move to a
free spare (``RenderNode.spare``) if one is up; when the node is back, they return home and the
spare is free again. Each outage records when the node stopped delivering, when it was marked
down, who covered, and when every one of its canvases was on the wall fresh again: the recovery
time. Used only from the frame loop's thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from vpstage.stage.model import Project

NodeState = Literal["up", "down", "starting"]


@dataclass(kw_only=True)
class Outage:
    node: str
    reason: str
    failed_ns: int
    """When the node stopped delivering (the frame instant of its first missed frame, or when
    its death was observed)."""
    detected_ns: int
    """When it was marked down."""
    canvases: tuple[str, ...]
    covered_by: str | None = None
    back_ns: int | None = None
    """When its restarted worker was ready again."""
    recovered_ns: int | None = None
    """First present with fresh pictures on all of its canvases (from the spare or itself)."""

    @property
    def detection_ms(self) -> float:
        return (self.detected_ns - self.failed_ns) / 1e6

    @property
    def recovery_ms(self) -> float | None:
        return None if self.recovered_ns is None else (self.recovered_ns - self.failed_ns) / 1e6

    def as_dict(self) -> dict[str, object]:
        recovery = self.recovery_ms
        return {"node": self.node, "reason": self.reason, "canvases": list(self.canvases),
                "covered_by": self.covered_by, "detection_ms": round(self.detection_ms, 3),
                "recovery_ms": None if recovery is None else round(recovery, 3),
                "restarted": self.back_ns is not None}


class Failover:
    """Tracks node states and the current canvas -> node assignment."""

    def __init__(self, project: Project) -> None:
        self.home = {c.name: c.node for c in project.canvases}
        self.spares = [n.name for n in project.nodes if n.spare]
        self.state: dict[str, NodeState] = {n.name: "up" for n in project.nodes}
        self._cover: dict[str, str] = {}
        """spare -> the down node whose canvases it renders."""
        self.outages: list[Outage] = []
        self._open: dict[str, Outage] = {}

    def owner(self, canvas: str) -> str | None:
        """The node that renders ``canvas`` now (None: nobody, it repeats its last picture)."""
        home = self.home[canvas]
        if self.state[home] == "up":
            return home
        for spare, covered in self._cover.items():
            if covered == home and self.state[spare] == "up":
                return spare
        return None

    def assignment(self) -> dict[str, tuple[str, ...]]:
        """Node -> canvases it renders now, for every node with work (project canvas order)."""
        out: dict[str, list[str]] = {}
        for canvas in self.home:
            owner = self.owner(canvas)
            if owner is not None:
                out.setdefault(owner, []).append(canvas)
        return {node: tuple(canvases) for node, canvases in out.items()}

    def mark_down(self, node: str, reason: str, failed_ns: int, now_ns: int) -> Outage:
        """Node ``node`` stopped: move its canvases to a free spare. Calling it again while the
        outage is open (e.g. the restart failed too) keeps the first record."""
        self.state[node] = "down"
        orphan = self._cover.pop(node, None)
        if orphan is not None:  # a spare that dies hands its cover on to another free spare
            self._take_cover(orphan)
        outage = self._open.get(node)
        if outage is None:
            canvases = tuple(c for c, home in self.home.items() if home == node)
            outage = Outage(node=node, reason=reason, failed_ns=min(failed_ns, now_ns), detected_ns=now_ns,
                            canvases=canvases)
            outage.covered_by = self._take_cover(node) if canvases else None
            self.outages.append(outage)
            self._open[node] = outage
        return outage

    def _take_cover(self, node: str) -> str | None:
        for spare in self.spares:
            if spare != node and self.state[spare] == "up" and spare not in self._cover:
                self._cover[spare] = node
                return spare
        return None

    def mark_starting(self, node: str) -> None:
        self.state[node] = "starting"

    def mark_up(self, node: str, now_ns: int) -> None:
        """The node's new worker is ready: its canvases come home and its spare is freed."""
        self.state[node] = "up"
        for spare in [s for s, covered in self._cover.items() if covered == node]:
            del self._cover[spare]
        outage = self._open.get(node)
        if outage is not None:
            outage.back_ns = now_ns
            if not outage.canvases:
                outage.recovered_ns = now_ns
            if outage.recovered_ns is not None:
                del self._open[node]
        if node in self.spares:  # a spare back in service covers whoever is still uncovered
            for down, open_outage in self._open.items():
                if open_outage.canvases and down not in self._cover.values() and self.state[down] != "up":
                    self._take_cover(down)

    def note_presented(self, fresh: Iterable[str], present_ns: int) -> list[Outage]:
        """Canvases presented fresh this frame; returns the outages whose recovery this completes."""
        fresh_set = set(fresh)
        ended = [o for o in self._open.values()
                 if o.canvases and o.recovered_ns is None and fresh_set.issuperset(o.canvases)]
        for outage in ended:
            outage.recovered_ns = present_ns
            if self.state[outage.node] == "up":
                del self._open[outage.node]
        return ended

    def open_outage(self, node: str) -> Outage | None:
        return self._open.get(node)
