"""How the console reads a live engine: its parts as ``LiveModels``.

An engine (``render.live.LiveEngine``, or a test's composition of the same parts) exposes
``tracking`` (TrackingHub), ``loop`` (FrameLoop), ``gpu`` (GpuMonitor), ``start()``/``stop()``,
``set_pattern(spec, canvas=None)`` (``None`` = the scene), ``pattern_for(canvas)`` and
``start_take(slate, ...)``/``stop_take()``; whichever of these it lacks, the panels show as
unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.live.models import LiveModels
from vpstage.patterns import PatternSpec
from vpstage.takes import TakeInfo


class EnginePatterns:
    """``PatternTarget`` over an engine's ``set_pattern`` / ``pattern_for``."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.supports_scene = bool(getattr(engine, "supports_scene", True))

    def set_pattern(self, spec: PatternSpec | None, canvas: str | None = None) -> None:
        self.engine.set_pattern(spec, canvas)

    def pattern_for(self, canvas: str) -> PatternSpec | None:
        getter = getattr(self.engine, "pattern_for", None)
        spec: PatternSpec | None = getter(canvas) if getter is not None else None
        return spec


class EngineTakes:
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


def live_models(engine: Any) -> LiveModels:
    """The parts of a running ``engine`` the live panels read."""
    recorder = getattr(engine, "recorder", None)
    return LiveModels(
        hub=getattr(engine, "tracking", None),
        loop=getattr(engine, "loop", None),
        gpu=getattr(engine, "gpu", None),
        patterns=EnginePatterns(engine) if hasattr(engine, "set_pattern") else None,
        takes=EngineTakes(engine) if hasattr(engine, "start_take") and recorder is not None else None,
    )
