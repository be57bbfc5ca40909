"""Controls of a headless ``LiveEngine`` (``main.py run --web``): every action calls the engine
directly, from the API's worker threads (the engine's setters are thread-safe; start, stop and
takes are serialised by one lock here, as the CLI's main thread would call them)."""

from __future__ import annotations

import threading
from typing import Any

from remote.actions import (
    Action,
    SetActiveCamera,
    SetAssetEnabled,
    SetDelay,
    SetPattern,
    SetPlacement,
    StartEngine,
    StartTake,
    StopEngine,
    StopTake,
)
from remote.requests import ApiError
from remote.status import EngineStatus
from vpstage.patterns import PatternSpec
from vpstage.stage.model import Placement
from vpstage.takes.recorder import RecorderError


def check_name(kind: str, name: str | None, known: list[str], field: str) -> None:
    if name is not None and name not in known:
        raise ApiError(422, f"no {kind} named {name!r} (known: {', '.join(known) or 'none'})", field)


class EngineControls:
    """``Controls`` of one ``LiveEngine``. ``started``: whether the caller already started it.
    A headless engine runs once: ``engine/stop`` ends the run, and a stopped engine is not
    started again (409)."""

    def __init__(self, engine: Any, started: bool = False) -> None:
        self._engine = engine
        self._state = "running" if started else "ready"
        self._lock = threading.Lock()
        self._status = EngineStatus()
        project = engine.stage.project
        self.cameras = [c.name for c in project.cameras]
        self.canvases = [c.name for c in project.canvases]
        self.assets = [a.name for a in project.scene]

    @property
    def state(self) -> str:
        if self._state == "running" and self._engine.wait(0):  # the loop ended (--frames, an error)
            self._state = "stopped"
        return self._state

    def status(self) -> dict[str, Any]:
        return self._status.status(self._engine, self.state)

    def health(self) -> dict[str, Any]:
        return self._status.health(self._engine, self.state)

    def perform(self, action: Action) -> dict[str, Any]:
        self._check(action)
        with self._lock:
            return self._perform(action)

    def _check(self, action: Action) -> None:
        """Names the stage does not know: refused before anything changes."""
        if isinstance(action, SetDelay | SetActiveCamera):
            check_name("camera", action.camera, self.cameras, "camera")
        elif isinstance(action, SetPattern):
            check_name("canvas", action.canvas, self.canvases, "canvas")
        elif isinstance(action, SetPlacement | SetAssetEnabled):
            check_name("asset", action.asset, self.assets, "asset")

    def _perform(self, action: Action) -> dict[str, Any]:
        engine = self._engine
        match action:
            case StartEngine():
                return self._start()
            case StopEngine():
                if self.state != "running":
                    raise ApiError(409, f"the engine is not running ({self.state})")
                engine.stop()
                self._state = "stopped"
                return {"engine": "stopped"}
            case StartTake(slate=slate, scene=scene, notes=notes, camera_roll=roll):
                return self._start_take(slate, scene, notes, roll)
            case StopTake():
                if engine.recording is None:
                    raise ApiError(409, "no take is recording")
                return {"take": engine.stop_take().to_dict()}
            case SetPattern(canvas=canvas, pattern=pattern, color=color):
                spec = None if pattern is None else PatternSpec(name=pattern, color=color)  # type: ignore[arg-type]
                engine.set_pattern(canvas, spec)
                return {"canvas": canvas, "pattern": pattern}
            case SetDelay(camera=camera, ms=ms):
                engine.set_delay(camera, ms)
                return {"camera": camera, "delay_ms": engine.tracking.delay_ms(camera)}
            case SetActiveCamera(camera=camera):
                engine.set_active_camera(camera)
                return {"active_camera": camera}
            case SetPlacement():
                placement = Placement(translation=action.translation, yaw_deg=action.yaw_deg,
                                      pitch_deg=action.pitch_deg, roll_deg=action.roll_deg, scale=action.scale)
                engine.planner.set_placement(action.asset, placement)
                return {"asset": action.asset, "placement": placement.model_dump(mode="json")}
            case SetAssetEnabled(asset=asset, enabled=enabled):
                engine.planner.set_asset_enabled(asset, enabled)
                return {"asset": asset, "enabled": enabled}
        raise ApiError(404, f"unsupported action {type(action).__name__}")

    def _start(self) -> dict[str, Any]:
        if self.state == "running":
            raise ApiError(409, "the engine is already running")
        if self.state == "stopped":
            raise ApiError(409, "a headless run does not restart its engine: start a new run")
        self._engine.cluster.start()
        errors = self._engine.start()
        self._state = "running"
        return {"engine": "running", "tracking_errors": errors}

    def _start_take(self, slate: str, scene: str, notes: str, roll: str) -> dict[str, Any]:
        engine = self._engine
        if engine.recorder is None:
            raise ApiError(409, "this run has no takes database (run with --record or --db)")
        if engine.recording is not None:
            raise ApiError(409, f"take {engine.recording.name} is already recording")
        try:
            take = engine.start_take(slate, scene=scene, notes=notes, camera_roll=roll)
        except (RecorderError, ValueError) as exc:
            raise ApiError(409, str(exc)) from None
        return {"take": take.to_dict()}
