"""ConsoleWindow: the operator console's main window.

The 3D stage view is the central widget; the editors, lists and live panels are dock widgets
arranged in two workspaces, Live and Edit (``ui.workspaces``: F2 switches), whose arrangements
(and the window geometry) are saved to the console settings on close and restored on start.
Docks move only by their title's drag handle (``ui.dock_title``), and not at all while locked.
One StageDocument is shown at a time; opening another file rebuilds the panels on it. Edits go
through one QUndoStack per document. The live engine is started and stopped through the
LiveController (``self.live``); its alarms show in a banner across the top.

The window composes the console: the menus' commands (``ui.actions``: one group per menu) are given
the narrow objects they act on (the document's ``DocumentEditor``, its views, the LiveController)
and bound again when another document is shown; what they say goes to the status bar. Long jobs
a panel starts (a take export) show their progress in the status bar, with Cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QShowEvent, QUndoGroup, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ui.actions import ConsoleActions, build_menus
from ui.colour.colour_panel import ColourPanel
from ui.commands import DocumentEditor
from ui.dock_tabs import hide_stray_tab_bars
from ui.dock_title import DockTitleBar
from ui.edit_actions import EditActions
from ui.engine_actions import EngineActions
from ui.file_actions import FileActions
from ui.fix_actions import ProblemFixes
from ui.help_actions import HelpActions
from ui.layout_editor.canvas_panel import CanvasPanel
from ui.layout_editor.catalog_panel import CatalogPanel
from ui.layout_editor.map_view import PixelMapView
from ui.layout_editor.plan_view import WallPlanView
from ui.layout_editor.problems_panel import ProblemsPanel
from ui.layout_editor.section_panel import SectionPanel
from ui.live.alarm_banner import AlarmBanner
from ui.live.controller import EngineFactory, LiveController
from ui.live.live_docks import LivePanels, show_overlays
from ui.stage_view.view import StageView
from ui.status_bar import ConsoleStatusBar
from ui.view_actions import ViewActions
from ui.workspaces import Workspaces
from vpstage.stage.document import StageDocument

ENGINE_STOP_WAIT_S = 10.0
JOB_STOP_WAIT_S = 5.0
VALIDATE_AFTER_MS = 150
Answer = Literal["save", "discard", "cancel"]
Confirm = Callable[[str], Answer]


def ask_unsaved(parent: QWidget, what: str) -> Answer:
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "Unsaved changes", f"Save the changes to {what}?",
                                  buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")  # type: ignore[return-value]


class ConsoleWindow(QMainWindow):
    DOCKS = (("plan", "Wall plan"), ("section", "Section"), ("map", "Pixel map"), ("problems", "Problems"),
             ("catalog", "Cabinet catalog"), ("preview", "Live preview"), ("health", "Health"),
             ("tracking", "Tracking"), ("takes", "Takes"), ("canvases", "Canvases"), ("colour", "Colour"))
    """Key and title of every dock; View → Ctrl+1 … Ctrl+9, Ctrl+0 toggle them in this order (Colour
    has no shortcut)."""

    def __init__(self, document: StageDocument, *, rehearsal: bool, settings: QSettings,
                 confirm: Confirm | None = None, stage_backend: str = "auto",
                 engine_factory: EngineFactory | None = None) -> None:
        super().__init__()
        self.setObjectName("consoleWindow")
        self.rehearsal, self.settings, self._stage_backend = rehearsal, settings, stage_backend
        self.confirm: Confirm = confirm or (lambda what: ask_unsaved(self, what))
        self.undo_group = QUndoGroup(self)
        self.docks: dict[str, QDockWidget] = {}
        for key, title in self.DOCKS:
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            dock.setTitleBarWidget(DockTitleBar(dock))
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            dock.dockLocationChanged.connect(self._tidy_tab_bars)
            dock.topLevelChanged.connect(self._on_dock_floated)
            self.docks[key] = dock
        self.setDockNestingEnabled(True)
        self.workspaces = Workspaces(self, self.docks, settings, "live" if rehearsal else "edit")
        self.workspaces.place(self.workspaces.current)
        self.workspaces.changed.connect(self._tidy_tab_bars)
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)
        self.live = LiveController(document, engine_factory, self)
        self.live.status_changed.connect(self.status.show_live)
        self.live.message.connect(self.status.say)
        self.live.views.overlays_ready.connect(self._show_overlays)
        self.live.models_changed.connect(self._on_models_changed)
        self.banner = AlarmBanner()
        self.live.alarms_changed.connect(self.banner.show_alarms)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(VALIDATE_AFTER_MS)
        self._validate_timer.timeout.connect(self._validate)
        self.document: StageDocument | None = None
        self.act = self._make_actions()
        self._add_engine_bar()
        self.install_document(document, rehearsal)
        self.resize(1600, 960)
        self._layout_restored = self.restore_layout()
        self._shown_once = False
        self.engine_stopped_cleanly = True

    # ------------------------------------------------------------------ document

    def install_document(self, document: StageDocument, rehearsal: bool) -> None:
        """Show ``document``: new panels, a fresh undo stack, immediate validation."""
        if self.document is not None:
            self._release_document()
        self.document, self.rehearsal = document, rehearsal
        self.stack = QUndoStack(self)
        self.undo_group.addStack(self.stack)
        self.undo_group.setActiveStack(self.stack)
        self.editor = DocumentEditor(document, self.stack, self)
        self.editor.refused.connect(self.status.say)
        self.stack.cleanChanged.connect(self.update_title)
        self.stack.indexChanged.connect(self._on_stack_index)
        document.file_changed.connect(self._on_file_changed)
        self.stage_view = StageView(document, backend=self._stage_backend)
        self.setCentralWidget(self.stage_view)
        self.plan = WallPlanView(document, self.editor)
        self.map = PixelMapView(document, self.editor)
        self.section_panel = SectionPanel(document, self.editor)
        self.problems = ProblemsPanel(document)
        self.problems.fix_requested.connect(self.act.fixes.apply_fix)
        self.canvas_panel = CanvasPanel(document, self.editor)
        self.colour_panel = ColourPanel(document, self.editor)
        self.catalog = CatalogPanel(document.catalog)
        self.catalog.panel_activated.connect(self.act.edit.add_panel_section)
        if self.live.document is not document:
            self.live.stop_engine()  # it runs the previous project's snapshot
            self.live.set_document(document)
        self.live_panels = LivePanels(document, self.editor, self.live)
        self.live_panels.takes.job_started.connect(self.status.show_job)
        self.docks["preview"].setWidget(self._scrolling(self.live_panels.preview))
        self.docks["health"].setWidget(self._scrolling(self.live_panels.health))
        self.docks["tracking"].setWidget(self._scrolling(self.live_panels.tracking))
        self.docks["takes"].setWidget(self._scrolling(self.live_panels.takes))
        self.docks["plan"].setWidget(self._with_toolbar(self.plan, self.act.edit.plan_tools()))
        self.docks["map"].setWidget(self._with_toolbar(self.map, self.act.edit.map_tools()))
        self.docks["section"].setWidget(self._scrolling(self.section_panel))
        self.docks["problems"].setWidget(self.problems)
        self.docks["catalog"].setWidget(self.catalog)
        self.docks["canvases"].setWidget(self._scrolling(self.canvas_panel))
        self.docks["colour"].setWidget(self._scrolling(self.colour_panel))
        self._bind_actions()
        document.project_changed.connect(self._schedule_validation)
        self.status.bind(document, rehearsal)
        self._validate()
        self.map.fit()
        self.update_title()

    def _release_document(self) -> None:
        assert self.document is not None
        self.document.project_changed.disconnect(self._schedule_validation)
        self.document.file_changed.disconnect(self._on_file_changed)
        for panel in (self.stage_view, self.plan, self.map, self.section_panel, self.problems, self.canvas_panel,
                      self.colour_panel, self.live_panels):
            panel.detach()
        for dock in self.docks.values():  # setWidget() does not delete the widget it replaces
            old = dock.widget()
            if old is not None:
                old.deleteLater()
        self.undo_group.removeStack(self.stack)
        self.stack.deleteLater()

    def _make_actions(self) -> ConsoleActions:
        """The command groups, each given only what it acts on; their messages go to the status bar."""
        fixes = ProblemFixes(self)
        act = ConsoleActions(
            file=FileActions(self, open_document=lambda document: self.install_document(document, rehearsal=False),
                             may_discard=self.confirm_discard),
            edit=EditActions(self, self.undo_group, fixes), fixes=fixes, engine=EngineActions(self, self.live),
            view=ViewActions(self, self.workspaces), help=HelpActions(self, self._log_file))
        for group in act.groups():
            group.message.connect(self.status.say)
            group.dock_wanted.connect(self.show_dock)
        build_menus(self.menuBar(), act, self.docks)
        return act

    def _bind_actions(self) -> None:
        """The commands act on the document shown, its editor and its views."""
        assert self.document is not None
        self.act.file.bind(self.editor)
        self.act.edit.bind(self.editor, self.plan, self.map)
        self.act.fixes.bind(self.editor, self.canvas_panel)
        self.act.engine.bind(self.document, self.live_panels.takes)
        self.act.view.bind(self.stage_view, self.plan, self.map)

    def _log_file(self) -> Path | None:
        log = self.live.console_log
        return log.path if log is not None else None

    def _add_engine_bar(self) -> None:
        """Engine start/stop, record and the engine state in the menu bar's corner (no extra row);
        the alarm banner in a strip across the top, shown only while something is wrong."""
        corner = QToolBar("engine", self.menuBar())  # parented: setCornerWidget does not keep it alive
        corner.setObjectName("engineBar")
        for action in self.act.view.workspace.values():
            corner.addAction(action)
            corner.widgetForAction(action).setObjectName("workspaceButton")
        corner.addSeparator()
        for action in (self.act.engine.start_engine, self.act.engine.stop_engine, self.act.engine.record):
            corner.addAction(action)
        self.engine_state = QLabel()
        self.engine_state.setObjectName("engineState")
        corner.addWidget(self.engine_state)
        self.menuBar().setCornerWidget(corner, Qt.Corner.TopRightCorner)
        alarms = QToolBar("alarms")
        alarms.setObjectName("alarmBar")
        alarms.setMovable(False)
        alarms.addWidget(self.banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, alarms)
        self.alarm_bar = alarms
        self.live.alarms_changed.connect(self._on_alarms)
        alarms.setVisible(False)
        self.live.state_changed.connect(self._on_engine_state)
        self.live.state_line_changed.connect(self._on_engine_state)
        self._on_engine_state(self.live.state)

    def _on_engine_state(self, _changed: str = "") -> None:
        """The engine's one-line state (never growing the bar) with the full story in the tooltip."""
        self.engine_state.setText(f"  engine: {self.live.state_line}")
        self.engine_state.setToolTip(self.live.state_details)

    def _on_alarms(self, alarms: list[object]) -> None:
        self.alarm_bar.setVisible(bool(alarms))  # no empty strip while nothing is wrong

    def _show_overlays(self, overlays: object) -> None:
        """The live-views worker's latest overlays (queued onto the GUI thread)."""
        if self.live.models is not None:  # late deliveries after a stop are dropped
            show_overlays(self.stage_view, overlays)  # type: ignore[arg-type]

    def _on_models_changed(self, models: object) -> None:
        if models is None:
            show_overlays(self.stage_view, None)
        else:  # the engine just started: show what the wall shows, and how it runs
            self.workspaces.switch("live")
            self.docks["preview"].raise_()

    @staticmethod
    def _scrolling(panel: QWidget) -> QScrollArea:
        """``panel`` in a scroll area, so a tall form never forces the docks around it to shrink."""
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(panel)
        return area

    @staticmethod
    def _with_toolbar(view: QWidget, tools: QToolBar) -> QWidget:
        host = QWidget()
        box = QVBoxLayout(host)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(tools)
        box.addWidget(view)
        return host

    def _schedule_validation(self, _change: object) -> None:
        self._validate_timer.start()

    def _validate(self) -> None:
        if self.document is not None:
            self.document.validate()

    def _on_stack_index(self, _index: int) -> None:
        self.update_title()

    def _on_file_changed(self, _path: object) -> None:
        self.update_title()  # saved, maybe under another name

    def update_title(self, *_args: object) -> None:
        doc = self.document
        assert doc is not None
        name = doc.path.name if doc.path else "untitled"
        dirty = "" if self.stack.isClean() else " *"
        mode = "REHEARSAL" if self.rehearsal else "PROJECT"
        self.setWindowTitle(f"vpstage [{mode}] {doc.project.name} — {name}{dirty}")

    def is_modified(self) -> bool:
        return not self.stack.isClean()

    # ------------------------------------------------------------------ layout persistence

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._layout_restored:
                self.workspaces.size(self.workspaces.current)  # the window has its size now
        self._tidy_tab_bars()

    def _tidy_tab_bars(self, *_args: object) -> None:
        QTimer.singleShot(0, lambda: hide_stray_tab_bars(self))  # once the dock layout has settled

    def _on_dock_floated(self, *_args: object) -> None:
        self.workspaces.apply_lock()  # a floating dock can always be docked again
        self._tidy_tab_bars()

    def show_dock(self, key: str) -> None:
        """Show and raise one dock, whatever the workspace hides (a fix opens its panel)."""
        dock = self.docks[key]
        dock.show()
        dock.raise_()

    def save_layout(self) -> None:
        self.settings.setValue("console/geometry", self.saveGeometry())
        self.workspaces.save()
        self.settings.setValue("editor/snap", self.act.edit.snap.isChecked())
        self.settings.sync()

    def restore_layout(self) -> bool:
        """Restore geometry and workspaces from the settings; False when the current workspace had
        nothing (valid) saved (it is then sized for the window when it is first shown)."""
        geometry = self.settings.value("console/geometry")
        snap = self.settings.value("editor/snap")
        if snap is not None:
            self.act.edit.snap.setChecked(str(snap).lower() in ("true", "1"))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        restored = self.workspaces.restore()
        if not restored:
            self.workspaces.place(self.workspaces.current)
        self.act.view.show_workspace(self.workspaces.current)
        return restored and isinstance(geometry, QByteArray)

    def reset_layout(self) -> None:
        self.workspaces.reset()
        self._tidy_tab_bars()

    # ------------------------------------------------------------------ closing

    def confirm_discard(self) -> bool:
        """True when it is fine to drop the current document (saved, or the operator agreed)."""
        if not self.is_modified():
            return True
        assert self.document is not None
        what = self.document.path.name if self.document.path else "the untitled project"
        answer = self.confirm(what)
        if answer == "save":
            return self.act.file.save()
        return answer == "discard"

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        self.save_layout()
        self._cancel_jobs()
        self.engine_stopped_cleanly = self.live.shutdown(ENGINE_STOP_WAIT_S)
        event.accept()

    def _cancel_jobs(self) -> None:
        """Cancel the long jobs still running (an export writes nothing when cancelled) and give
        each a moment to unwind."""
        jobs = [progress.job for progress in self.status.jobs]
        for job in jobs:
            job.cancel()
        for job in jobs:
            job.wait(JOB_STOP_WAIT_S)
