"""EngineActions: the Engine menu (start, stop, record a take) over the ``LiveController``.

Start refuses a project with errors and says where the first one is (the Problems panel is asked
for through ``dock_wanted``). The actions are enabled as the engine's state allows: start when it
can start, stop while it runs, record while a running engine has a take recorder.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from ui.action_group import ActionGroup
from ui.layout_editor.problems_panel import location
from ui.live.controller import LiveController
from ui.live.takes_panel import TakesPanel
from vpstage.stage.document import StageDocument


class EngineActions(ActionGroup):
    def __init__(self, host: QWidget, live: LiveController) -> None:
        super().__init__(host)
        self.live = live
        self._document: StageDocument | None = None
        self._takes: TakesPanel | None = None
        self.start_engine = self.action("▶ &Start engine", "Ctrl+Shift+E", self.start)
        self.stop_engine = self.action("■ S&top engine", "Ctrl+Shift+X", live.stop_engine)
        self.record = self.action("● &Record / stop take", "F9", self.toggle_recording, extra=["Ctrl+R"])
        live.state_changed.connect(self._follow_state)
        live.state_line_changed.connect(self._follow_state)
        live.models_changed.connect(self._follow_models)
        self._follow_state()
        self._follow_models(live.models)

    def menu_items(self) -> list[QAction | None]:
        """The Engine menu, top to bottom (None: a separator)."""
        return [self.start_engine, self.stop_engine, None, self.record]

    def bind(self, document: StageDocument, takes: TakesPanel) -> None:
        """Start the engine on ``document``; record through ``takes`` (the Takes panel)."""
        self._document, self._takes = document, takes

    def start(self) -> bool:
        """Start the live engine, unless the project has errors: then say where the first one is."""
        doc = self._document
        assert doc is not None, "EngineActions.bind() first"
        errors = [p for p in doc.validate() if p.severity == "error"]
        if errors:
            first, where = errors[0], location(errors[0], doc.display_name)
            self.message.emit(f"the engine cannot start: {len(errors)} error(s), first {where}: {first.message} "
                              "(see Problems)")
            self.dock_wanted.emit("problems")
            return False
        return self.live.start_engine()

    def toggle_recording(self) -> None:
        if self._takes is not None:
            self._takes.toggle_recording()

    def _follow_state(self, _changed: str = "") -> None:
        self.start_engine.setEnabled(self.live.can_start)
        self.stop_engine.setEnabled(self.live.state == "running")

    def _follow_models(self, models: object) -> None:
        self.record.setEnabled(models is not None)
