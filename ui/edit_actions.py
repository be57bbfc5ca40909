"""EditActions: the Edit menu (undo, redo, section and cabinet edits, selection, snapping) and the
wall plan's and pixel map's tool bars.

Edit commands act on the shared selection: a section counts as selected when all its cabinets
are (click it in the wall plan); single cabinets come from the 3D view or the pixel map. Every
edit goes through the bound ``DocumentEditor`` as one undoable step; a refused one says why in
``message``. The pixel-map commands that may need advice (auto-layout, adding a canvas) are the
``ProblemFixes`` given (``ui.fix_actions``).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QUndoGroup
from PySide6.QtWidgets import QToolBar, QWidget

from ui.action_group import ActionGroup
from ui.commands import DocumentEditor
from ui.fix_actions import ProblemFixes
from ui.layout_editor.map_view import PixelMapView
from ui.layout_editor.panel_drop import parse_kind
from ui.layout_editor.plan_view import WallPlanView
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

ROTATE_STEP_DEG = 15.0
Keys = QKeySequence.StandardKey
SHORT_TEXT = {"rotate_ccw": "⟲ 15°", "rotate_cw": "⟳ 15°", "duplicate": "Duplicate", "delete": "Delete",
              "snap": "Snap", "auto_layout": "Auto-layout", "turn_image": "Turn 90°", "add_canvas": "+ Canvas",
              "canvases": "Canvases…"}
"""Tool-bar text of the actions that have one (attribute name -> text)."""


class EditActions(ActionGroup):
    def __init__(self, host: QWidget, undo_group: QUndoGroup, fixes: ProblemFixes) -> None:
        super().__init__(host)
        self.fixes = fixes
        self._editor: DocumentEditor | None = None
        self._plan: WallPlanView | None = None
        self._map: PixelMapView | None = None
        self.undo = undo_group.createUndoAction(host, "&Undo")
        self.undo.setShortcuts([QKeySequence(Keys.Undo)])
        self.redo = undo_group.createRedoAction(host, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.duplicate = self.action("&Duplicate sections", "Ctrl+D", self.duplicate_sections)
        self.delete = self.action("&Delete", "Del", self.delete_selection, extra=["Backspace"])
        self.rotate_cw = self.action(f"Rotate sections {ROTATE_STEP_DEG:g}° clockwise", "R",
                                     lambda: self.rotate(ROTATE_STEP_DEG))
        self.rotate_ccw = self.action(f"Rotate sections {ROTATE_STEP_DEG:g}° counter-clockwise", "Shift+R",
                                      lambda: self.rotate(-ROTATE_STEP_DEG))
        self.turn_image = self.action("&Turn cabinet images 90° on the canvas", "T", self.turn_images)
        self.select_all = self.action("Select &all cabinets", Keys.SelectAll, self.select_every_cabinet)
        self.clear_selection = self.action("Clear selection", "Esc", lambda: self._doc().select([]))
        self.auto_layout = self.action("Auto-&layout pixel map", "Ctrl+L", fixes.run_auto_layout)
        self.add_canvas = self.action("Add &canvas", "Ctrl+Shift+N", fixes.add_canvas)
        self.canvases = self.action("Can&vases and processors…", "Ctrl+0", lambda: self.dock_wanted.emit("canvases"))
        self.snap = self.action("Snap to &neighbours and grid", "G", self._say_snap)
        self.snap.setCheckable(True)
        self.snap.setChecked(True)
        self.snap.toggled.connect(self._apply_snap)  # also when the settings restore it

    def menu_items(self) -> list[QAction | None]:
        """The Edit menu, top to bottom (None: a separator)."""
        return [self.undo, self.redo, None, self.duplicate, self.delete, self.rotate_cw, self.rotate_ccw, None,
                self.turn_image, self.auto_layout, self.add_canvas, self.canvases, None, self.select_all,
                self.clear_selection, None, self.snap]

    def bind(self, editor: DocumentEditor, plan: WallPlanView, pixel_map: PixelMapView) -> None:
        """Edit ``editor``'s document; snapping applies to ``plan`` and ``pixel_map``."""
        self._editor, self._plan, self._map = editor, plan, pixel_map
        self._apply_snap(self.snap.isChecked())

    def _bound(self) -> DocumentEditor:
        assert self._editor is not None, "EditActions.bind() first"
        return self._editor

    def _doc(self) -> StageDocument:
        return self._bound().document

    # ------------------------------------------------------------------ tool bars

    def plan_tools(self) -> QToolBar:
        return self._toolbar("plan tools", [self.rotate_ccw, self.rotate_cw, self.duplicate, self.delete, self.snap])

    def map_tools(self) -> QToolBar:
        return self._toolbar("pixel map tools", [self.auto_layout, self.turn_image, self.snap, self.add_canvas,
                                                 self.canvases])

    def _toolbar(self, name: str, actions: list[QAction]) -> QToolBar:
        bar = QToolBar(name)
        short = {getattr(self, key): text for key, text in SHORT_TEXT.items()}
        for action in actions:
            action.setIconText(short.get(action, action.iconText()))
            action.setToolTip(f"{action.text().replace('&', '')} ({action.shortcut().toString()})")
            bar.addAction(action)
        return bar

    # ------------------------------------------------------------------ commands

    def _whole_sections(self) -> list[str]:
        """Sections all of whose cabinets are selected."""
        doc = self._doc()
        return [n for n in doc.selected_sections() if set(doc.section_cabinets([n])) <= doc.selection]

    def duplicate_sections(self) -> None:
        editor, doc = self._bound(), self._doc()
        names = doc.selected_sections()
        if not names:
            self.message.emit("select a section to duplicate")
            return
        if editor.run(lambda: duplicate_sections(doc.project, doc.layout, names)):
            new = [s.name for s in doc.project.sections[-len(names):]]
            doc.select(doc.section_cabinets(new))

    def delete_selection(self) -> None:
        """Whole sections go; single cabinets are omitted from theirs (a door in the wall): one undo step."""
        editor, doc = self._bound(), self._doc()
        if not doc.selection:
            self.message.emit("nothing selected to delete")
            return
        whole = self._whole_sections()
        loose = set(doc.selection) - set(doc.section_cabinets(whole))
        both = bool(loose and whole)
        if both:  # one undo step for the whole deletion
            editor.stack.beginMacro(f"delete {len(doc.selection)} cabinets")
        if loose:
            editor.run(lambda: omit_cabinets(doc.project, sorted(loose)))
        if whole:
            editor.run(lambda: remove_sections(doc.project, doc.catalog, whole))
        if both:
            editor.stack.endMacro()

    def rotate(self, degrees: float) -> None:
        editor, doc = self._bound(), self._doc()
        names = doc.selected_sections()
        if not names:
            self.message.emit("select sections to rotate")
            return
        editor.run(lambda: rotate_sections(doc.project, doc.layout, names, degrees))

    def turn_images(self) -> None:
        editor, doc = self._bound(), self._doc()
        if doc.selection:
            editor.run(lambda: rotate_map_rects(doc.project, doc.layout, sorted(doc.selection)))

    def select_every_cabinet(self) -> None:
        self._doc().select(self._doc().layout.cabinets.ids)

    def add_panel_section(self, panel_id: str, kind: str = "auto") -> None:
        """A new section of ``panel_id`` in the middle of the wall plan's visible area."""
        editor, doc = self._bound(), self._doc()
        assert self._plan is not None
        at = self._plan.centre_on_stage()
        build = parse_kind(kind)
        editor.run(lambda: add_section(doc.project, new_section_at(doc.project, doc.catalog, panel_id, at, build,
                                                                   doc.layout)))

    def _apply_snap(self, on: bool) -> None:
        if self._plan is not None and self._map is not None:
            self._plan.snap_enabled = self._map.snap_enabled = on

    def _say_snap(self) -> None:
        self.message.emit("snapping on" if self.snap.isChecked() else "snapping off (free placement)")
