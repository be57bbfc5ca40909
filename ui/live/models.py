"""What the live panels are given: the running engine's parts (any may be missing).

The live engine (``live.LiveEngine``) composes a TrackingHub, a FrameLoop, a GpuMonitor
and a TakeRecorder; the panels read those objects directly (each is thread-safe for the reads
the panels make) and change them only through the setters their owners document. Tests build
the same objects by hand. ``PatternTarget`` and ``TakeControl`` are the two commands the panels
send that are not plain setters of one part (``ui.live.model_adapters`` implements them over the
engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vpstage.patterns import PatternSpec
from vpstage.takes import TakeInfo


class PatternTarget(Protocol):
    supports_scene: bool
    """Whether a canvas can be switched back to the scene (``set_pattern(None, ...)``)."""

    def set_pattern(self, spec: PatternSpec | None, canvas: str | None = None) -> None:
        """Show ``spec`` on ``canvas`` (every canvas when None); ``None`` shows the scene. Any thread."""
        ...

    def pattern_for(self, canvas: str) -> PatternSpec | None:
        """What ``canvas`` shows now (None: the scene)."""
        ...


class TakeControl(Protocol):
    library_path: Path
    """The takes database the take list reads (exists once the first take started)."""

    @property
    def current_take(self) -> TakeInfo | None: ...

    def start_take(self, slate: str, *, scene: str = "", camera_roll: str = "", notes: str = "") -> TakeInfo:
        ...

    def stop_take(self) -> TakeInfo:
        """Blocks until the take is durable (the console calls it off the GUI thread)."""
        ...


class CameraSwitch(Protocol):
    names: tuple[str, ...]
    """The cameras the engine plans, in the project's order."""

    @property
    def active_camera(self) -> str | None:
        """The camera whose inner frustum is on top now."""
        ...

    def set_active_camera(self, camera: str | None) -> None:
        """Put ``camera`` on top from the next frame (None: the highest priority). Any thread."""
        ...


@dataclass(kw_only=True)
class LiveModels:
    """The running engine's parts, for the live panels. None where the engine has no such part."""

    stage: Any = None
    """vpstage.stage.Stage as the engine runs it (may differ from the document: a rehearsal on
    CPU nodes runs a scaled-down copy; edits made while it runs wait for the next start)."""
    hub: Any = None
    """devices.tracking.hub.TrackingHub"""
    loop: Any = None
    """vpstage.frame_master.FrameLoop"""
    gpu: Any = None
    """devices.telemetry.GpuMonitor"""
    patterns: PatternTarget | None = None
    takes: TakeControl | None = None
    cameras: CameraSwitch | None = None
    planner: Any = None
    """vpstage.frame_master.Planner (its setters take effect at the next frame; any thread)"""
