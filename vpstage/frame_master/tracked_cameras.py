"""Per frame, every tracked camera: its calibrated state, the pose it came from, and whether its
tracking is lost.

The planner samples each camera of the project at the frame's instant through a
:class:`CameraSource` (``devices.tracking.TrackingHub`` is one: ``calibrated_at`` is its
``state_at`` together with the tracker-frame pose the state was made from, the camera's tracking
delay, lens profile and alignment applied). A camera whose tracker has been silent for longer
than its source's ``lost_after_ms`` is flagged ``tracking_lost``; its last pose is held (the hub
holds it, or extrapolates it for at most the camera's ``extrapolate_ms``); a camera whose source
raises or has never sent anything keeps the last state it had (none at all before the first
sample). Sampling never blocks and never raises: the frame loop must not stall on tracking.

Several cameras (:class:`CameraLayering`): each gets its effective priority (the project's
``priority``, by default its place in the list, the first camera highest), whether it is the
active camera (the operator's choice, by default the highest-priority camera), and whether its
inner frustum goes on the wall this frame (its ``interleave``: only on frames whose timecode
count falls in its phase; never while it has no state).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from vpstage.stage.model import Camera, Project
from vpstage.tracking.buffer import PoseAt
from vpstage.tracking.calibration import CalibratedPose
from vpstage.tracking.camera import CameraState

log = logging.getLogger(__name__)

DEFAULT_LOST_AFTER_MS = 500.0


class CameraSource(Protocol):
    """Where the planner gets cameras from (``TrackingHub`` implements it)."""

    def calibrated_at(self, camera_name: str, t_ns: int) -> CalibratedPose | None:
        """The camera at ``t_ns`` (monotonic ns) minus its tracking delay: the tracker-frame pose
        and the calibrated stage-frame state; None before its first sample. Any thread."""
        ...


@dataclass(frozen=True, kw_only=True)
class TrackedCamera:
    """One camera at one frame (what the planner used, and what a take records)."""

    name: str
    state: CameraState | None
    """The calibrated camera used for this frame (held from an earlier frame when ``held``);
    None while the camera has never been seen."""
    pose: PoseAt | None
    """The tracker-frame pose ``state`` was made from (same hold rules)."""
    tracking_lost: bool
    """Silent for longer than its source's ``lost_after_ms`` (or never seen, or failing)."""
    age_ms: float | None
    """Frame instant minus the arrival of the newest sample, at least 0 (None: no sample yet)."""
    held: bool = False
    """True when this frame's sampling gave nothing and an earlier frame's state is reused."""
    priority: int = 0
    """Effective draw priority (higher on top where inner frusta overlap)."""
    active: bool = False
    """The active camera this frame: drawn over every other camera."""
    on_wall: bool = True
    """Its inner frustum is rendered this frame (False on frames its interleave gives to other
    cameras, and while it has no state)."""
    interleave: tuple[int, int] | None = None
    """(every, phase) of its interleave setting; None: every frame."""

    @property
    def data_time_ns(self) -> int | None:
        """When the tracking data used was current: the sampling instant (frame time minus the
        delay), or the newest sample's arrival when the pose is held beyond it."""
        if self.pose is not None:
            return min(self.pose.time_ns, self.pose.newest_arrival_ns)
        return None if self.state is None else self.state.time_ns


class CameraSampler:
    """Samples every camera of a project once per frame (the planner's thread)."""

    def __init__(self, project: Project, source: CameraSource, cameras: Sequence[str] | None = None) -> None:
        lost_after = {s.name: s.lost_after_ms for s in project.tracking}
        chosen = [c for c in project.cameras if cameras is None or c.name in cameras]
        self.names = tuple(c.name for c in chosen)
        self.source = source
        self._lost_after_ns = {c.name: round(lost_after.get(c.tracker, DEFAULT_LOST_AFTER_MS) * 1e6)
                               for c in chosen}
        self._last: dict[str, CalibratedPose] = {}
        self._lost: dict[str, bool] = dict.fromkeys(self.names, True)
        self.errors: dict[str, str] = {}
        """Camera -> the last error its source raised (cleared when it samples again)."""

    def sample(self, t_ns: int) -> tuple[tuple[TrackedCamera, ...], list[tuple[str, bool]]]:
        """Every camera at ``t_ns``, and the (camera, lost) changes since the previous call."""
        out, changes = [], []
        for name in self.names:
            camera = self._sample_one(name, t_ns)
            out.append(camera)
            if camera.tracking_lost != self._lost[name]:
                self._lost[name] = camera.tracking_lost
                changes.append((name, camera.tracking_lost))
        return tuple(out), changes

    def _sample_one(self, name: str, t_ns: int) -> TrackedCamera:
        try:
            got = self.source.calibrated_at(name, t_ns)
            self.errors.pop(name, None)
        except Exception as exc:  # a broken source must not stop the wall: hold the last pose
            if name not in self.errors:
                log.warning("camera %s: tracking source failed: %s", name, exc)
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            got = None
        if got is None:
            last = self._last.get(name)
            if last is None:
                return TrackedCamera(name=name, state=None, pose=None, tracking_lost=True, age_ms=None)
            age = max(0, t_ns - last.pose.newest_arrival_ns) / 1e6
            return TrackedCamera(name=name, state=last.state, pose=last.pose, tracking_lost=True, age_ms=age, held=True)
        self._last[name] = got
        age_ns = max(0, t_ns - got.pose.newest_arrival_ns)
        return TrackedCamera(name=name, state=got.state, pose=got.pose,
                             tracking_lost=age_ns > self._lost_after_ns[name], age_ms=age_ns / 1e6)


def camera_priorities(cameras: Sequence[Camera]) -> dict[str, int]:
    """Camera -> effective priority: its ``priority``, or ``len(cameras) - index`` (by list order,
    the first camera highest)."""
    count = len(cameras)
    return {c.name: c.priority if c.priority is not None else count - i for i, c in enumerate(cameras)}


def draw_rank(priorities: dict[str, int], names: Sequence[str]) -> list[str]:
    """``names`` from top to bottom by priority (of equal priority the one listed first on top)."""
    return sorted(names, key=lambda n: (-priorities[n], names.index(n)))


class CameraLayering:
    """Priority, the active camera and interleaving for the planned cameras of a project (the
    planner's thread; ``apply`` is pure)."""

    def __init__(self, project: Project, names: Sequence[str]) -> None:
        chosen = [c for c in project.cameras if c.name in names]
        self.priorities = camera_priorities(project.cameras)
        self.interleave = {c.name: (c.interleave.every, c.interleave.phase) if c.interleave else None
                           for c in chosen}
        self.names = tuple(c.name for c in chosen)
        ranked = draw_rank(self.priorities, self.names)
        self.default_active: str | None = ranked[0] if ranked else None
        """The highest-priority camera: active until the operator picks another."""

    def on_wall(self, name: str, count: int) -> bool:
        """Whether camera ``name``'s interleave puts it on the wall at timecode count ``count``."""
        cycle = self.interleave.get(name)
        return cycle is None or count % cycle[0] == cycle[1]

    def apply(self, cameras: Sequence[TrackedCamera], active: str | None, count: int) -> tuple[TrackedCamera, ...]:
        """``cameras`` with priority, active and on-wall set for the frame at timecode count
        ``count``; ``active`` None: the default (highest-priority) camera."""
        chosen = active if active is not None else self.default_active
        return tuple(replace(c, priority=self.priorities.get(c.name, 0), active=c.name == chosen,
                             on_wall=c.state is not None and self.on_wall(c.name, count),
                             interleave=self.interleave.get(c.name)) for c in cameras)
