"""One frame as the master plans it: tracked cameras, scene state and test patterns for every canvas.

A frame source (the planner, or test patterns) builds one :class:`FramePlan` per frame; the loop
cuts it into one small :class:`~vpstage.nodes.messages.FrameOrder` per render node with the
canvases that node renders now (``order``), and keeps it to account for the frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from vpstage.frame_master.scene_state import SceneState
from vpstage.frame_master.tracked_cameras import TrackedCamera
from vpstage.frustum.geometry import Rect
from vpstage.nodes.messages import CameraOrder, FrameOrder, SceneOrder
from vpstage.patterns import PatternSpec
from vpstage.timing import FrameTick


@dataclass(frozen=True, kw_only=True)
class PlannedFrame:
    """What the planner used for one frame (read by the take recorder on the loop's thread)."""

    tick: FrameTick
    cameras: tuple[TrackedCamera, ...]
    """Every planned camera with its state, pose, priority, active and on-wall flags."""
    visible: Mapping[str, Mapping[str, Rect]]
    """Camera -> canvas -> conservative launch rectangle, for canvases it may see (empty for a
    camera off the wall this frame)."""
    scene: SceneState
    plan_ns: int
    """Time this frame's planning took (perf counter)."""

    @property
    def frame(self) -> int:
        return self.tick.index


@dataclass(frozen=True, kw_only=True)
class FramePlan:
    tick: FrameTick
    patterns: Mapping[str, PatternSpec]
    """Canvases that show a test pattern instead of the scene."""
    cameras: tuple[CameraOrder, ...] = ()
    """Every tracked camera (project order) with its priority, active and on-wall flags, and launch
    rectangles on every canvas it may see (none while off the wall)."""
    scene: SceneOrder | None = None
    planned: PlannedFrame | None = None
    """What the planner used (take records, per-node latency); None for test patterns."""
    plan_ns: int = 0

    def order(self, canvases: tuple[str, ...], sent_ns: int) -> FrameOrder:
        """The order for a node rendering ``canvases``: only their patterns and launch rectangles."""
        wanted = set(canvases)
        cameras = tuple(replace(c, rects={k: r for k, r in c.rects.items() if k in wanted}) for c in self.cameras)
        patterns = {k: p for k, p in self.patterns.items() if k in wanted}
        tick = self.tick
        return FrameOrder(frame=tick.index, count=tick.count, time_ns=tick.time_ns, deadline_ns=tick.deadline_ns,
                          sent_ns=sent_ns, canvases=canvases, patterns=patterns, cameras=cameras, scene=self.scene)

    def tracking_time_ns(self, canvases: tuple[str, ...]) -> int | None:
        """Oldest tracking data shown on any of ``canvases`` (None: no camera sees them)."""
        times = [c.data_time_ns for c in self.cameras if c.data_time_ns is not None and c.on_wall
                 and any(k in c.rects and k not in self.patterns for k in canvases)]
        return min(times, default=None)


class FrameSource(Protocol):
    def plan(self, tick: FrameTick) -> FramePlan:
        """The plan of frame ``tick``. Called on the loop's thread once per frame; must be quick
        (it is the loop's 'plan' time)."""
        ...
