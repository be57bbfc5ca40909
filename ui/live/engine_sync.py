"""EngineSync: project edits that the running engine takes at once (tracking sources and camera
settings), applied to the TrackingHub when the document changes, undo and redo included.

The panels edit the document (one undoable command per edit); this object watches
``project_changed`` and brings the hub in line: a changed or new source restarts or starts its
receiver (on the control thread: closing and binding sockets may block briefly), a camera's
delay, lens and alignment go to the hub's setters (cheap, any thread, effective at the next
``state_at``). What the hub cannot take live (new cameras, removed sources) waits for the next
engine start, and ``notice`` says so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ui.live.control import EngineControl
from vpstage.stage.change import Change
from vpstage.stage.document import StageDocument
from vpstage.stage.model import Camera
from vpstage.tracking.alignment import AlignmentTransform


class EngineSync:
    def __init__(self, document: StageDocument, control: EngineControl,
                 notice: Callable[[str], None] = lambda _text: None) -> None:
        self._doc, self._control, self._notice = document, control, notice
        self.hub: Any = None
        self._applied: dict[str, Any] = {}
        """Source name -> the TrackingSource the hub runs (as built, then as updated here)."""
        document.project_changed.connect(self._on_project_changed)

    def detach(self) -> None:
        self._doc.project_changed.disconnect(self._on_project_changed)

    def bind(self, hub: Any) -> None:
        """Keep ``hub`` (a TrackingHub, or None) in line with the document."""
        self.hub = hub
        self._applied = {s.name: s for s in hub.project.tracking} if hub is not None else {}

    def _on_project_changed(self, change: Change | None) -> None:
        if self.hub is None or change is None:
            return
        if "tracking" in change.after:
            self._sync_sources()
        if "cameras" in change.after:
            for camera in self._doc.project.cameras:
                self.apply_camera(camera)

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
