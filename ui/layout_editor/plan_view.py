"""WallPlanView: the stage seen from above, for placing LED sections.

Drag a section to move it (all selected sections move together; they snap to the ends of other
sections within 15 cm, else to a 10 cm grid; hold Alt, or turn snapping off, to place freely).
Rubber-band or Ctrl+click to select several. Drop a panel type from the catalog onto empty floor
to build a new section there, or onto a section of the same type to add a column to it.

While dragging, items move on screen only (``section_drag_changed``); the document changes once,
when the drag finishes, through one undoable command (``section_drag_finished``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QWidget

from ui import palette
from ui.commands import DocumentEditor
from ui.layout_editor.editor_view import EditorView
from ui.layout_editor.panel_drop import PANEL_MIME, decode_panel_drop
from ui.layout_editor.plan_items import CM_PER_M, SectionItem, to_stage
from ui.stage_view.geometry import cabinet_colors
from ui.stage_view.painter_canvas import qcolor
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import NewKind, add_column, add_section, move_sections, new_section_at
from vpstage.stage.snapping import plan_snap_points, snap_plan_offset

SNAP_RADIUS_M = 0.15
GRID_M = 0.1


@dataclass(kw_only=True)
class _Drag:
    names: list[str]
    start: QPointF
    moving: NDArray[np.float64]
    fixed: NDArray[np.float64]
    offset: tuple[float, float] = (0.0, 0.0)


class WallPlanView(EditorView):
    section_drag_changed = Signal(list, float, float)
    """(names, dx_m, dy_m) while sections are dragged (nothing is written yet)."""
    section_drag_finished = Signal(list, float, float)
    """(names, dx_m, dy_m) when a drag ends; the move has been pushed as one command."""

    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(document, editor, parent)
        self.setObjectName("wallPlan")
        self.setAcceptDrops(True)
        self._items: dict[str, SectionItem] = {}
        self._drag: _Drag | None = None
        self.rebuild()
        self.fit()

    @property
    def items_by_name(self) -> dict[str, SectionItem]:
        return dict(self._items)

    # ------------------------------------------------------------------ model -> items

    def _section_cabinets(self) -> list[NDArray[np.intp]]:
        sections = np.asarray(self._doc.layout.cabinets.section, dtype=np.int64)
        return [np.flatnonzero(sections == i) for i in range(len(self._doc.project.sections))]

    def rebuild(self) -> None:
        """Recreate the section items from the document (after the project changed)."""
        layout = self._doc.layout
        colors, cab = cabinet_colors(layout), layout.cabinets
        self._syncing = True
        try:
            self.scene().clear()
            self._items = {}
            for section, mine in zip(self._doc.project.sections, self._section_cabinets(), strict=True):
                item = SectionItem(section.name, section.kind, cab.corners[mine][:, :, :2], colors[mine],
                                   np.zeros(len(mine), dtype=np.int8))
                self.scene().addItem(item)
                self._items[section.name] = item
        finally:
            self._syncing = False
        self._on_marks_changed(None)

    def _on_marks_changed(self, _value: object) -> None:
        """Selection and problem marks, updated in place (items are never replaced here: this
        runs inside the scene's own selection handling)."""
        ids = self._doc.layout.cabinets.ids
        selected, problems = self._doc.selection, set(self._doc.problem_cabinets())
        self._syncing = True
        try:
            for item, mine in zip(self._items.values(), self._section_cabinets(), strict=True):
                marks = np.array([1 if ids[k] in selected else (2 if ids[k] in problems else 0) for k in mine],
                                 dtype=np.int8)
                item.set_marks(marks)
                item.setSelected(bool(len(mine)) and bool(np.all(marks == 1)))
        finally:
            self._syncing = False

    def _on_scene_selection(self) -> None:
        if self._syncing:
            return
        names = [item.name for item in self._selected_items()]
        self._doc.select(self._doc.section_cabinets(names))

    def _selected_items(self) -> list[SectionItem]:
        return [i for i in self.scene().selectedItems() if isinstance(i, SectionItem)]

    def fit(self) -> None:
        """Show every section and the stage origin."""
        self.fit_rect(self.scene().itemsBoundingRect().united(QRectF(-100, -100, 200, 200)))

    # ------------------------------------------------------------------ dragging sections

    def _section_at(self, pos: QPoint) -> SectionItem | None:
        for item in self.items(pos):
            while item is not None and not isinstance(item, SectionItem):
                item = item.parentItem()
            if isinstance(item, SectionItem):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._pan_press(event):
            return
        item = self._section_at(event.position().toPoint()) if event.button() == Qt.MouseButton.LeftButton else None
        if item is None:
            super().mousePressEvent(event)
            return
        ctrl = bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        if ctrl:
            item.setSelected(not item.isSelected())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        self._start_drag(self.mapToScene(event.position().toPoint()))

    def _start_drag(self, start: QPointF) -> None:
        names = [i.name for i in self._selected_items()]
        index = {s.name: k for k, s in enumerate(self._doc.project.sections)}
        moving = plan_snap_points(self._doc.layout, [index[n] for n in names])
        fixed = plan_snap_points(self._doc.layout, [k for n, k in index.items() if n not in names])
        self._drag = _Drag(names=names, start=start, moving=moving, fixed=fixed)

    def drag_to(self, scene_pos: QPointF, free: bool = False) -> tuple[float, float]:
        """Move the dragged items to follow ``scene_pos`` (snapped); returns the offset in metres."""
        assert self._drag is not None
        drag = self._drag
        raw = ((scene_pos.x() - drag.start.x()) / CM_PER_M, -(scene_pos.y() - drag.start.y()) / CM_PER_M)
        offset = raw
        if self.snap_enabled and not free:
            offset = snap_plan_offset(drag.moving, drag.fixed, raw, radius=SNAP_RADIUS_M, grid=GRID_M)
        drag.offset = offset
        for name in drag.names:
            self._items[name].setPos(offset[0] * CM_PER_M, -offset[1] * CM_PER_M)
        self.section_drag_changed.emit(list(drag.names), offset[0], offset[1])
        return offset

    def finish_drag(self) -> None:
        """Write the drag back as one undoable move (nothing when it did not move)."""
        drag, self._drag = self._drag, None
        if drag is None:
            return
        dx, dy = drag.offset
        if math.hypot(dx, dy) < 1e-6:
            self.rebuild()
            return
        moved = self._editor.run(lambda: move_sections(self._doc.project, drag.names, (dx, dy, 0.0)))
        if not moved:
            self.rebuild()
        self.section_drag_finished.emit(list(drag.names), dx, dy)

    # ------------------------------------------------------------------ catalog drops

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(PANEL_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(PANEL_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(PANEL_MIME):
            return
        panel_id, kind = decode_panel_drop(bytes(event.mimeData().data(PANEL_MIME).data()))
        self.drop_panel(panel_id, event.position().toPoint(), kind)
        event.acceptProposedAction()

    def drop_panel(self, panel_id: str, view_pos: QPoint, kind: NewKind = "auto") -> bool:
        """Build with ``panel_id`` where it was dropped (see the module docstring)."""
        target = self._section_at(view_pos)
        doc = self._doc
        if target is not None:
            section = next(s for s in doc.project.sections if s.name == target.name)
            if section.panel != panel_id:
                self._editor.refused.emit(f"{target.name} is built from {section.panel}; "
                                          f"drop {panel_id} on empty floor to start a new section")
                return False
            return self._editor.run(lambda: add_column(doc.project, doc.catalog, target.name))
        at = to_stage(self.mapToScene(view_pos))
        return self._editor.run(lambda: add_section(doc.project, new_section_at(
            doc.project, doc.catalog, panel_id, at, kind, doc.layout)))

    def centre_on_stage(self) -> tuple[float, float]:
        """Plan point (metres) at the centre of the visible area."""
        return to_stage(self.mapToScene(self.viewport().rect().center()))

    # ------------------------------------------------------------------ background

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        rect = QRectF(rect)
        painter.fillRect(rect, qcolor(palette.BACKGROUND))
        for step, colour in ((50.0, palette.GRID), (100.0, palette.GRID_MAJOR)):
            if step * self.transform().m11() < 6:  # too dense to read at this zoom
                continue
            pen = QPen(qcolor(colour), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x = math.floor(rect.left() / step) * step
            while x <= rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = math.floor(rect.top() / step) * step
            while y <= rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step
        for end, colour in ((QPointF(100, 0), palette.AXIS_X), (QPointF(0, -100), palette.AXIS_Y)):
            pen = QPen(QColor(qcolor(colour)), 2.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLine(QPointF(0, 0), end)
