"""ConsoleActions: every menu command with its keyboard shortcut, and what it does.

Edit commands act on the shared selection: a section counts as selected when all its cabinets
are (click it in the wall plan); single cabinets come from the 3D view or the pixel map.
Workspaces: F2 switches between Live and Edit (View → Workspace, or the buttons in the menu
bar's corner); View → Lock panels keeps the current workspace's docks where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QToolBar

from ui import file_actions, fix_actions
from ui.layout_editor.panel_drop import parse_kind
from ui.workspaces import TITLES, WORKSPACES, WorkspaceName
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import (
    add_section,
    duplicate_sections,
    new_section_at,
    omit_cabinets,
    remove_sections,
    rotate_sections,
)
from vpstage.stage.map_edits import rotate_map_rects
from vpstage.stage.problem_groups import Fix

if TYPE_CHECKING:
    from ui.window_api import ConsoleWindowApi

ROTATE_STEP_DEG = 15.0
Keys = QKeySequence.StandardKey


class ConsoleActions(QObject):
    def __init__(self, window: ConsoleWindowApi) -> None:
        super().__init__(window)
        self.window = window
        w = window
        self.open = self._action("&Open project…", Keys.Open, lambda: file_actions.open_project(w))
        self.save_action = self._action("&Save", Keys.Save, self.save)
        self.save_as_action = self._action("Save &as…", "Ctrl+Shift+S", lambda: file_actions.save_as(w))
        self.quit = self._action("&Quit", "Ctrl+Q", w.close)
        self.undo = w.undo_group.createUndoAction(w, "&Undo")
        self.undo.setShortcuts([QKeySequence(Keys.Undo)])
        self.redo = w.undo_group.createRedoAction(w, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.duplicate = self._action("&Duplicate sections", "Ctrl+D", self.duplicate_sections)
        self.delete = self._action("&Delete", "Del", self.delete_selection, extra=["Backspace"])
        self.rotate_cw = self._action(f"Rotate sections {ROTATE_STEP_DEG:g}° clockwise", "R",
                                      lambda: self.rotate(ROTATE_STEP_DEG))
        self.rotate_ccw = self._action(f"Rotate sections {ROTATE_STEP_DEG:g}° counter-clockwise", "Shift+R",
                                       lambda: self.rotate(-ROTATE_STEP_DEG))
        self.turn_image = self._action("&Turn cabinet images 90° on the canvas", "T", self.turn_images)
        self.select_all = self._action("Select &all cabinets", Keys.SelectAll, self.select_every_cabinet)
        self.clear_selection = self._action("Clear selection", "Esc", lambda: self._doc().select([]))
        self.auto_layout = self._action("Auto-&layout pixel map", "Ctrl+L", self.run_auto_layout)
        self.add_canvas = self._action("Add &canvas", "Ctrl+Shift+N", lambda: fix_actions.add_canvas(w))
        self.canvases = self._action("Can&vases and processors…", "Ctrl+0", lambda: w.show_dock("canvases"))
        self.snap = self._action("Snap to &neighbours and grid", "G", self._apply_snap)
        self.snap.setCheckable(True)
        self.snap.setChecked(True)
        self.frame = self._action("&Frame everything", "Home", self.frame_all)
        self.reset_layout = self._action("&Reset panel layout", "Ctrl+Shift+0", w.reset_layout)
        self.start_engine = self._action("▶ &Start engine", "Ctrl+Shift+E", lambda: fix_actions.start_engine(w))
        self.stop_engine = self._action("■ S&top engine", "Ctrl+Shift+X", w.live.stop_engine)
        self.record = self._action("● &Record / stop take", "F9", self.toggle_recording, extra=["Ctrl+R"])
        self.record.setEnabled(False)
        self._add_workspace_actions()
        self._build_menus()

    def _doc(self) -> StageDocument:
        assert self.window.document is not None
        return self.window.document

    def _action(self, text: str, key: str | QKeySequence.StandardKey, slot: Callable[[], object],
                extra: list[str] | None = None) -> QAction:
        action = QAction(text, self.window)
        keys = [QKeySequence(key)] + [QKeySequence(k) for k in extra or []]
        action.setShortcuts(keys)
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)  # shortcuts work even while the menu bar is hidden
        return action

    def _add_workspace_actions(self) -> None:
        w = self.window
        self.switch_workspace = self._action("&Switch workspace (Live / Edit)", "F2", w.workspaces.toggle)
        self.workspace_group = QActionGroup(self)
        self.workspace: dict[WorkspaceName, QAction] = {}
        for name in WORKSPACES:
            action = QAction(f"{TITLES[name]} workspace", w)
            action.setCheckable(True)
            action.setIconText(TITLES[name].upper())
            action.setToolTip(f"{TITLES[name]} workspace (F2 switches)")
            action.triggered.connect(lambda _checked=False, n=name: w.workspaces.switch(n))
            self.workspace_group.addAction(action)
            self.workspace[name] = action
        self.lock_panels = QAction("&Lock panels", w)
        self.lock_panels.setCheckable(True)
        self.lock_panels.setToolTip("Keep this workspace's panels where they are (no drag, no float)")
        self.lock_panels.toggled.connect(w.workspaces.set_locked)
        w.workspaces.changed.connect(self.show_workspace)

    def show_workspace(self, name: str) -> None:
        """Menu checks follow the workspace on show (after a switch, a restore or a reset)."""
        action = self.workspace.get(name)  # type: ignore[call-overload]
        if action is not None:
            action.setChecked(True)
        self.lock_panels.blockSignals(True)
        self.lock_panels.setChecked(self.window.workspaces.locked)
        self.lock_panels.blockSignals(False)

    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        menus = {
            "&File": [self.open, self.save_action, self.save_as_action, None, self.quit],
            "&Edit": [self.undo, self.redo, None, self.duplicate, self.delete, self.rotate_cw, self.rotate_ccw,
                      None, self.turn_image, self.auto_layout, self.add_canvas, self.canvases, None, self.select_all,
                      self.clear_selection, None, self.snap],
        }
        for title, items in menus.items():
            menu = bar.addMenu(title)
            for item in items:
                menu.addSeparator() if item is None else menu.addAction(item)
        engine = bar.addMenu("E&ngine")
        for action in (self.start_engine, self.stop_engine, None, self.record):
            engine.addSeparator() if action is None else engine.addAction(action)
        view = bar.addMenu("&View")
        view.addAction(self.frame)
        view.addSeparator()
        workspaces = view.addMenu("&Workspace")
        for action in (*self.workspace.values(), None, self.switch_workspace):
            workspaces.addSeparator() if action is None else workspaces.addAction(action)
        view.addAction(self.lock_panels)
        view.addSeparator()
        for number, (key, dock) in enumerate(self.window.docks.items(), start=1):
            if key == "canvases":
                continue  # Ctrl+0: Edit → Canvases and processors (shows it, even in Live)
            toggle = dock.toggleViewAction()
            if number <= 9:
                toggle.setShortcut(QKeySequence(f"Ctrl+{number}"))
            view.addAction(toggle)
        view.addAction(self.window.docks["canvases"].toggleViewAction())
        view.addSeparator()
        view.addAction(self.reset_layout)

    def plan_tools(self) -> QToolBar:
        return self._toolbar("plan tools", [self.rotate_ccw, self.rotate_cw, self.duplicate, self.delete, self.snap])

    def map_tools(self) -> QToolBar:
        return self._toolbar("pixel map tools", [self.auto_layout, self.turn_image, self.snap, self.add_canvas,
                                                 self.canvases])

    def _toolbar(self, name: str, actions: list[QAction]) -> QToolBar:
        bar = QToolBar(name)
        short = {self.rotate_ccw: "⟲ 15°", self.rotate_cw: "⟳ 15°", self.duplicate: "Duplicate",
                 self.delete: "Delete", self.snap: "Snap", self.auto_layout: "Auto-layout",
                 self.turn_image: "Turn 90°", self.add_canvas: "+ Canvas", self.canvases: "Canvases…"}
        for action in actions:
            action.setIconText(short.get(action, action.iconText()))
            action.setToolTip(f"{action.text().replace('&', '')} ({action.shortcut().toString()})")
            bar.addAction(action)
        return bar

    # ------------------------------------------------------------------ handlers

    def save(self) -> bool:
        return file_actions.save(self.window)

    def _whole_sections(self) -> list[str]:
        """Sections all of whose cabinets are selected."""
        doc = self._doc()
        return [n for n in doc.selected_sections() if set(doc.section_cabinets([n])) <= doc.selection]

    def duplicate_sections(self) -> None:
        doc = self._doc()
        names = doc.selected_sections()
        if not names:
            self.window.status.say("select a section to duplicate")
            return
        if self.window.editor.run(lambda: duplicate_sections(doc.project, doc.layout, names)):
            new = [s.name for s in doc.project.sections[-len(names):]]
            doc.select(doc.section_cabinets(new))

    def delete_selection(self) -> None:
        doc = self._doc()
        if not doc.selection:
            self.window.status.say("nothing selected to delete")
            return
        whole = self._whole_sections()
        loose = set(doc.selection) - set(doc.section_cabinets(whole))
        editor, stack = self.window.editor, self.window.stack
        both = bool(loose and whole)
        if both:  # one undo step for the whole deletion
            stack.beginMacro(f"delete {len(doc.selection)} cabinets")
        if loose:
            editor.run(lambda: omit_cabinets(doc.project, sorted(loose)))
        if whole:
            editor.run(lambda: remove_sections(doc.project, doc.catalog, whole))
        if both:
            stack.endMacro()

    def rotate(self, degrees: float) -> None:
        doc = self._doc()
        names = doc.selected_sections()
        if not names:
            self.window.status.say("select sections to rotate")
            return
        self.window.editor.run(lambda: rotate_sections(doc.project, doc.layout, names, degrees))

    def turn_images(self) -> None:
        doc = self._doc()
        if doc.selection:
            self.window.editor.run(lambda: rotate_map_rects(doc.project, doc.layout, sorted(doc.selection)))

    def select_every_cabinet(self) -> None:
        self._doc().select(self._doc().layout.cabinets.ids)

    def run_auto_layout(self) -> None:
        fix_actions.run_auto_layout(self.window)

    def apply_fix(self, fix: Fix) -> None:
        fix_actions.apply_fix(self.window, fix)

    def add_panel_section(self, panel_id: str, kind: str = "auto") -> None:
        """A new section of ``panel_id`` in the middle of the wall plan's visible area."""
        doc = self._doc()
        at = self.window.plan.centre_on_stage()
        build = parse_kind(kind)
        self.window.editor.run(lambda: add_section(doc.project, new_section_at(doc.project, doc.catalog,
                                                                                panel_id, at, build, doc.layout)))

    def _apply_snap(self) -> None:
        on = self.snap.isChecked()
        self.window.plan.snap_enabled = self.window.map.snap_enabled = on
        self.window.status.say("snapping on" if on else "snapping off (free placement)")

    def toggle_recording(self) -> None:
        self.window.live_panels.takes.toggle_recording()

    def frame_all(self) -> None:
        self.window.stage_view.frame_stage()
        self.window.plan.fit()
        self.window.map.fit()
