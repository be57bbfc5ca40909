"""Controls of the console (``main.py --web HOST:PORT``): every action is marshalled onto the Qt
GUI thread (:class:`remote.gui_calls.GuiCalls`) and goes through the path the console's own
widgets use, so the console shows it at once and can undo what is undoable:

* engine start / stop: ``LiveController.start_engine`` / ``stop_engine`` (the Engine bar);
* test patterns: ``PreviewPanel.apply_pattern`` (the canvas tiles' menus);
* tracking delay: the hub at once and the camera's ``delay_ms`` as one undoable document edit
  through ``DocumentEditor.run`` (what the tracking panel's delay field does);
* active camera: the live models' ``set_active_camera`` (the camera switch);
* takes: the takes panel's commands on the engine-control thread (``ControlThread.submit``);
* scene placement and enabled: an undoable document edit of ``scene`` and the running planner at
  once (Edit > Undo reverts both: ``ui.live.edit_forwarder`` follows the document).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
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
from remote.engine_controls import check_name
from remote.gui_calls import GuiCalls
from remote.requests import ApiError
from remote.status import EngineStatus
from ui.live.takes_panel import START as START_TAKE
from ui.live.takes_panel import STOP as STOP_TAKE
from vpstage.patterns import PatternSpec
from vpstage.stage.change import EditError, replace_fields
from vpstage.stage.model import Placement
from vpstage.stage.tracking_edits import update_camera

TAKE_TIMEOUT_S = 10.0


class ConsoleControls:
    """``Controls`` of one ``ConsoleWindow``; create it on the GUI thread."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self._gui = GuiCalls()
        self._status = EngineStatus()

    def status(self) -> dict[str, Any]:
        live = self.window.live
        engine = live.engine if live.state == "running" else None
        status = self._status.status(engine, live.state)
        status["state_line"] = live.state_line
        return status

    def health(self) -> dict[str, Any]:
        live = self.window.live
        return self._status.health(live.engine if live.state == "running" else None, live.state)

    def perform(self, action: Action) -> dict[str, Any]:
        taken: list[Any] = []
        result = self._gui.call(lambda: self._on_gui(action, taken))
        if isinstance(action, StartTake | StopTake):
            return self._take_result(action, taken)
        return result

    # ------------------------------------------------------------------ GUI thread

    def _check(self, action: Action) -> None:
        project = self.window.document.project
        if isinstance(action, SetDelay | SetActiveCamera):
            check_name("camera", action.camera, [c.name for c in project.cameras], "camera")
        elif isinstance(action, SetPattern):
            check_name("canvas", action.canvas, [c.name for c in project.canvases], "canvas")
        elif isinstance(action, SetPlacement | SetAssetEnabled):
            check_name("asset", action.asset, [a.name for a in project.scene], "asset")

    def _on_gui(self, action: Action, taken: list[Any]) -> dict[str, Any]:
        """Do ``action``; a take command's TakeInfo goes into ``taken`` once the control thread ran it."""
        self._check(action)
        live = self.window.live
        match action:
            case StartEngine():
                if not live.start_engine():
                    raise ApiError(409, f"the engine cannot start now ({live.state_line})")
                return {"engine": live.state}
            case StopEngine():
                if not live.stop_engine():
                    raise ApiError(409, f"the engine is not running ({live.state})")
                return {"engine": live.state}
            case SetPattern(canvas=canvas, pattern=pattern, color=color):
                self._models("patterns")
                spec = None if pattern is None else PatternSpec(name=pattern, color=color)  # type: ignore[arg-type]
                self.window.live_panels.preview.apply_pattern(canvas, spec)
                return {"canvas": canvas, "pattern": pattern}
            case SetDelay(camera=camera, ms=ms):
                return self._set_delay(camera, ms)
            case SetActiveCamera(camera=camera):
                self._models("cameras").set_active_camera(camera)
                return {"active_camera": camera}
            case StartTake(slate=slate, scene=scene, notes=notes, camera_roll=roll):
                takes = self._models("takes")
                if takes.current_take is not None:
                    raise ApiError(409, f"take {takes.current_take.name} is already recording")
                live.control.submit(START_TAKE, kept(taken, lambda: takes.start_take(slate, scene=scene,
                                                                                     camera_roll=roll, notes=notes)))
                return {}
            case StopTake():
                takes = self._models("takes")
                if takes.current_take is None:
                    raise ApiError(409, "no take is recording")
                live.control.submit(STOP_TAKE, kept(taken, takes.stop_take))
                return {}
            case SetPlacement() | SetAssetEnabled():
                return self._edit_scene(action)
        raise ApiError(404, f"unsupported action {type(action).__name__}")

    def _models(self, part: str) -> Any:
        models = self.window.live.models
        found = getattr(models, part, None) if models is not None else None
        if found is None:
            raise ApiError(409, f"not available now: the engine is {self.window.live.state}")
        return found

    def _set_delay(self, camera: str, ms: float) -> dict[str, Any]:
        hub = self.window.live.models.hub if self.window.live.models is not None else None
        if hub is not None and camera in hub.camera_names:
            hub.set_delay(camera, ms)
        document = self.window.document
        self.window.editor.run(lambda: update_camera(document.project, camera, {"delay_ms": round(ms, 3)}))
        return {"camera": camera, "delay_ms": ms}

    def _edit_scene(self, action: SetPlacement | SetAssetEnabled) -> dict[str, Any]:
        document = self.window.document
        assets = copy.deepcopy(document.project.scene)
        asset = next(a for a in assets if a.name == action.asset)
        if isinstance(action, SetPlacement):
            asset.placement = Placement(translation=action.translation, yaw_deg=action.yaw_deg,
                                        pitch_deg=action.pitch_deg, roll_deg=action.roll_deg, scale=action.scale)
            description = f"move scene asset {asset.name}"
        else:
            asset.enabled = action.enabled
            description = f"{'enable' if action.enabled else 'disable'} scene asset {asset.name}"
        try:
            self.window.editor.run(lambda: replace_fields(document.project, description, scene=assets))
        except EditError as exc:
            raise ApiError(422, str(exc)) from None
        engine = self.window.live.engine if self.window.live.state == "running" else None
        if engine is not None:  # the running wall at once (the document is what the next start uses)
            if isinstance(action, SetPlacement):
                engine.planner.set_placement(asset.name, asset.placement)
            else:
                engine.planner.set_asset_enabled(asset.name, asset.enabled)
        return {"asset": asset.name, "placement": asset.placement.model_dump(mode="json"), "enabled": asset.enabled}

    # ------------------------------------------------------------------ worker thread

    def _take_result(self, action: StartTake | StopTake, taken: list[Any]) -> dict[str, Any]:
        """Wait for the take command the engine-control thread runs (the takes panel shows it)."""
        if not self.window.live.control.wait_idle(TAKE_TIMEOUT_S):
            raise ApiError(504, "the take command did not finish in time")
        if not taken:
            verb = "start" if isinstance(action, StartTake) else "stop"
            raise ApiError(409, f"the take did not {verb} (the console's takes panel says why)")
        return {"take": taken[0].to_dict()}


def kept(into: list[Any], command: Callable[[], Any]) -> Callable[[], Any]:
    """``command`` that also keeps what it returned in ``into``."""

    def run() -> Any:
        result = command()
        into.append(result)
        return result

    return run
