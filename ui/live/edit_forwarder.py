"""EditForwarder: project edits that the running engine takes at once (tracking sources, camera
settings and colour regions), applied to the TrackingHub and the planner when the document
changes, undo and redo included.

The panels edit the document (one undoable command per edit); this object watches
``project_changed`` and brings the hub in line: a changed or new source restarts or starts its
receiver (on the control thread: closing and binding sockets may block briefly), a camera's
delay, lens and alignment go to the hub's setters (cheap, any thread, effective at the next
``state_at``). What the hub cannot take live (new cameras, removed sources) waits for the next
engine start, and ``notice`` says so. Colour regions go to the planner's
``set_colour_regions`` and scene asset placements and enabled flags to ``set_placement`` /
``set_asset_enabled`` (cheap, any thread): the next frame's orders carry them to the nodes
(regions moved onto the engine's canvases when it runs a scaled-down copy of the stage). An asset
the running engine did not load waits for the next start, and ``notice`` says so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ui.live.control_thread import ControlThread
from vpstage.colour.grading import region_grades, rescaled_grades
from vpstage.stage.change import Change
from vpstage.stage.document import StageDocument
from vpstage.stage.model import Camera, Project
from vpstage.tracking.alignment import AlignmentTransform


def _canvas_sizes(project: Project) -> dict[str, tuple[int, int]]:
    return {c.name: (c.width, c.height) for c in project.canvases}


class EditForwarder:
    def __init__(self, document: StageDocument, control: ControlThread,
                 notice: Callable[[str], None] = lambda _text: None) -> None:
        self._doc, self._control, self._notice = document, control, notice
        self.hub: Any = None
        self.planner: Any = None
        self.stage: Any = None
        self._applied: dict[str, Any] = {}
        """Source name -> the TrackingSource the hub runs (as built, then as updated here)."""
        document.project_changed.connect(self._on_project_changed)

    def detach(self) -> None:
        self._doc.project_changed.disconnect(self._on_project_changed)

    def bind(self, hub: Any, planner: Any = None, stage: Any = None) -> None:
        """Keep ``hub`` (a TrackingHub, or None) and ``planner`` (a Planner planning ``stage``, the
        stage as the engine runs it; or None) in line with the document."""
        self.hub, self.planner, self.stage = hub, planner, stage
        self._applied = {s.name: s for s in hub.project.tracking} if hub is not None else {}

    def _on_project_changed(self, change: Change | None) -> None:
        if change is not None and "colour" in change.after:
            self.apply_colour_regions()
        if change is not None and "scene" in change.after:
            self.apply_scene()
        if self.hub is None or change is None:
            return
        if "tracking" in change.after:
            self._sync_sources()
        if "cameras" in change.after:
            for camera in self._doc.project.cameras:
                self.apply_camera(camera)

    def apply_colour_regions(self) -> None:
        """The document's enabled colour regions to the planner, on the engine's canvases."""
        if self.planner is None or self.stage is None:
            return
        project = self._doc.project
        grades = region_grades(project.colour.regions) if project.colour is not None else ()
        self.planner.set_colour_regions(rescaled_grades(grades, _canvas_sizes(project),
                                                        _canvas_sizes(self.stage.project)))

    def apply_scene(self) -> None:
        """The document's scene placements and enabled flags to the planner (assets it plans)."""
        if self.planner is None or self.stage is None:
            return
        known = {a.name for a in self.stage.project.scene}
        waiting = []
        for asset in self._doc.project.scene:
            if asset.name not in known:
                waiting.append(asset.name)
                continue
            self.planner.set_placement(asset.name, asset.placement)
            self.planner.set_asset_enabled(asset.name, asset.enabled)
        if waiting:
            self._notice(f"scene asset {', '.join(waiting)} appears when the engine restarts")

    def _sync_sources(self) -> None:
        hub = self.hub
        wanted = {s.name: s for s in self._doc.project.tracking}
        for name, source in wanted.items():
            if self._applied.get(name) != source:
                self._applied[name] = source
                self._control.submit(f"tracking source {name}", functools.partial(self._restart, hub, source))
        dropped = sorted(set(self._applied) - set(wanted))
        if dropped:
            self._notice(f"tracking source {', '.join(dropped)} keeps running until the engine restarts")

    @staticmethod
    def _restart(hub: Any, source: Any) -> str | None:
        running = hub.running
        error: str | None = hub.update_source(source)
        started = hub.start() if running else {}  # a new source starts with the others
        return error or started.get(source.name)

    def apply_camera(self, camera: Camera) -> None:
        """Delay, lens and alignment of ``camera`` to the hub (a camera it does not know waits)."""
        hub = self.hub
        if hub is None or camera.name not in hub.camera_names:
            return
        if camera.delay_frames is not None:
            hub.set_delay_frames(camera.name, camera.delay_frames)
        else:
            hub.set_delay(camera.name, camera.delay_ms)
        if camera.lens in hub.lenses:
            hub.set_lens(camera.name, camera.lens)
        else:
            self._notice(f"camera {camera.name}: lens profile {camera.lens!r} is not in the lens library")
        hub.set_alignment(camera.name, AlignmentTransform.from_model(camera.alignment))
