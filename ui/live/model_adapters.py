"""How the console reads a live engine: its parts as ``LiveModels``, and the adapters that give the
panels' commands (``PatternTarget``, ``TakeControl``, ``CameraSwitch`` in ``ui.live.models``) over it.

The engine is ``live.LiveEngine`` (or a test's composition with the same surface): parts
``tracking`` (TrackingHub), ``loop`` (FrameLoop), ``gpu`` (GpuMonitor), ``recorder``
(TakeRecorder or None), ``planner`` (``pattern_for``), ``events``; commands ``start()``,
``close()``, ``set_pattern(canvas, spec)`` (spec None = the scene), ``start_take(slate, ...)``,
``stop_take()`` and ``set_active_camera(name)``. Whatever an engine lacks, the panels show as unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.live.models import LiveModels
from vpstage.patterns import PatternSpec
from vpstage.takes import TakeInfo


class PatternTargetAdapter:
    """``PatternTarget`` over the engine's ``set_pattern(canvas, spec)`` and its planner's
    ``pattern_for``. The scene is available when the engine has a scene renderer."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        options = getattr(engine, "options", None)
        self.supports_scene = (options.scene_renderer is not None if options is not None
                               else bool(getattr(engine, "supports_scene", False)))
        self.canvases = [c.name for c in engine.stage.project.canvases]

    def set_pattern(self, spec: PatternSpec | None, canvas: str | None = None) -> None:
        if spec is None and canvas is not None and self.pattern_for(canvas) is not None:
            # Back to the scene on one canvas: the engine's all-canvas pattern would otherwise
            # show there, so keep every other canvas's pattern as its own and clear the rest.
            others = {c: self.pattern_for(c) for c in self.canvases if c != canvas}
            self.engine.set_pattern(None, None)
            for other, kept in others.items():
                if kept is not None:
                    self.engine.set_pattern(other, kept)
            return
        self.engine.set_pattern(canvas, spec)

    def pattern_for(self, canvas: str) -> PatternSpec | None:
        planner = getattr(self.engine, "planner", self.engine)
        spec: PatternSpec | None = planner.pattern_for(canvas)
        return spec


class TakeControlAdapter:
    """``TakeControl`` over an engine's ``start_take`` / ``stop_take`` and its recorder."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.library_path = Path(engine.recorder.path)

    @property
    def current_take(self) -> TakeInfo | None:
        take: TakeInfo | None = self.engine.recorder.current_take
        return take

    def start_take(self, slate: str, *, scene: str = "", camera_roll: str = "", notes: str = "") -> TakeInfo:
        take: TakeInfo = self.engine.start_take(slate, scene=scene, camera_roll=camera_roll, notes=notes)
        return take

    def stop_take(self) -> TakeInfo:
        take: TakeInfo = self.engine.stop_take()
        return take


class CameraSwitchAdapter:
    """``CameraSwitch`` over the engine's ``set_active_camera`` and its planner."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.names: tuple[str, ...] = tuple(engine.planner.sampler.names)

    @property
    def active_camera(self) -> str | None:
        active: str | None = self.engine.planner.active_camera
        return active

    def set_active_camera(self, camera: str | None) -> None:
        self.engine.set_active_camera(camera)


def live_models(engine: Any) -> LiveModels:
    """The parts of a running ``engine`` the live panels read."""
    recorder = getattr(engine, "recorder", None)
    return LiveModels(
        stage=getattr(engine, "stage", None),
        hub=getattr(engine, "tracking", None),
        loop=getattr(engine, "loop", None),
        gpu=getattr(engine, "gpu", None),
        patterns=PatternTargetAdapter(engine) if hasattr(engine, "set_pattern") else None,
        takes=TakeControlAdapter(engine) if hasattr(engine, "start_take") and recorder is not None else None,
        cameras=CameraSwitchAdapter(engine) if hasattr(engine, "set_active_camera") else None,
        planner=getattr(engine, "planner", None),
    )
