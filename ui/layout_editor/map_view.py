"""PixelMapView: every canvas with the cabinet rectangles it carries; drag them to remap.

Drag cabinets within a canvas or onto another one (selected cabinets move together; edges snap to
neighbouring rectangles and the canvas border within 12 screen pixels; Alt places freely). Drop
them in the "unmapped" tray to take them off the canvases. Cabinets nobody maps wait in that tray.

While dragging, rectangles move on screen only (``cabinet_drag_changed``); the document changes
once, on release, through one undoable command (``cabinet_drag_finished``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QWidget

from ui import palette
from ui.commands import DocumentEditor
from ui.layout_editor.editor_view import EditorView
from ui.layout_editor.map_items import CANVAS_GAP, TRAY, CabinetRectItem, CanvasItem, CanvasSlot
from ui.stage_view.geometry import cabinet_colors
from vpstage.stage.document import StageDocument
from vpstage.stage.layout import StageLayout
from vpstage.stage.map_edits import MapPlacement, move_map_rects, unmap_cabinets
from vpstage.stage.snapping import snap_rect

SNAP_SCREEN_PX = 12.0


def canvas_slots(layout: StageLayout, columns: int = 2) -> tuple[dict[str, CanvasSlot], list[QPointF]]:
    """Scene slots for every canvas (a grid, ``columns`` wide) and the unmapped tray below them,
    plus tray positions for the unmapped cabinets (shelf-packed, in layout order)."""
    canvases = layout.project.canvases
    cols = max(1, min(columns, len(canvases)))
    col_w = [max((c.width for c in canvases[k::cols]), default=0) for k in range(cols)]
    rows = [canvases[r:r + cols] for r in range(0, len(canvases), cols)]
    slots: dict[str, CanvasSlot] = {}
    y = 0.0
    for row in rows:
        x = 0.0
        for k, canvas in enumerate(row):
            slots[canvas.name] = CanvasSlot(canvas.name, QPointF(x, y), canvas.width, canvas.height)
            x += col_w[k] + CANVAS_GAP
        y += max(c.height for c in row) + CANVAS_GAP
    tray_w = max(int(sum(col_w) + CANVAS_GAP * (cols - 1)), 1920)
    unmapped = np.flatnonzero(layout.pixel_map.canvas < 0)
    spots, cx, cy, shelf = [], 0, 0, 0
    for i in unmapped:
        w, h = layout.footprint(int(i))
        if cx + w > tray_w and cx > 0:
            cx, cy, shelf = 0, cy + shelf, 0
        spots.append(QPointF(cx, y + cy))
        cx, shelf = cx + w, max(shelf, h)
    if len(unmapped):
        slots[TRAY] = CanvasSlot(TRAY, QPointF(0, y), tray_w, max(cy + shelf, 128))
    return slots, spots


@dataclass
class _Drag:
    lead: CabinetRectItem
    items: list[CabinetRectItem]
    start: QPointF
    delta: QPointF


class PixelMapView(EditorView):
    cabinet_drag_changed = Signal(list, str)
    """(cabinet ids, slot name under the lead cabinet) while dragging."""
    cabinet_drag_finished = Signal(list)
    """(cabinet ids) after a drag was written back (or refused)."""

    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(document, editor, parent)
        self.setObjectName("pixelMap")
        self._items: dict[str, CabinetRectItem] = {}
        self._slots: dict[str, CanvasSlot] = {}
        self._drag: _Drag | None = None
        self._columns = 2
        self.rebuild()


    @property
    def items_by_id(self) -> dict[str, CabinetRectItem]:
        return dict(self._items)

    @property
    def slots(self) -> dict[str, CanvasSlot]:
        return dict(self._slots)

    # ------------------------------------------------------------------ model -> items

    def rebuild(self) -> None:
        layout = self._doc.layout
        self._syncing = True
        try:
            self.scene().clear()
            self._columns = self._best_columns()
            self._slots, tray_spots = canvas_slots(layout, self._columns)
            self._add_canvases(layout)
            self._add_cabinets(layout, tray_spots)
        finally:
            self._syncing = False
        self._on_marks_changed(None)

    def _add_canvases(self, layout: StageLayout) -> None:
        nodes = {n.name: i for i, n in enumerate(layout.project.nodes)}
        for canvas in layout.project.canvases:
            where = f" → {canvas.processor} in {canvas.input + 1}" if canvas.processor else ""
            title = f"{canvas.name}  {canvas.width}×{canvas.height}  {canvas.node}{where}"
            colour = palette.node_colour(nodes.get(canvas.node, -1))
            self.scene().addItem(CanvasItem(self._slots[canvas.name], title, colour))
        if TRAY in self._slots:
            count = int((layout.pixel_map.canvas < 0).sum())
            self.scene().addItem(CanvasItem(self._slots[TRAY], f"unmapped ({count})", palette.PROBLEM, tray=True))

    def _add_cabinets(self, layout: StageLayout, tray_spots: list[QPointF]) -> None:
        colors, pm = cabinet_colors(layout), layout.pixel_map
        names = [c.name for c in layout.project.canvases]
        spots = iter(tray_spots)
        self._items = {}
        for i, cid in enumerate(layout.cabinets.ids):
            item = CabinetRectItem(cid, layout.footprint(i), tuple(colors[i]), int(pm.rotation[i]))
            if pm.canvas[i] >= 0:
                origin = self._slots[names[pm.canvas[i]]].origin
                item.home = QPointF(origin.x() + float(pm.x[i]), origin.y() + float(pm.y[i]))
            else:
                item.home = next(spots)
            item.setPos(item.home)
            self.scene().addItem(item)
            self._items[cid] = item

    def _on_marks_changed(self, _value: object) -> None:
        selected, problems = self._doc.selection, self._doc.problem_cabinets()
        self._syncing = True
        try:
            for cid, item in self._items.items():
                item.setSelected(cid in selected)
                item.set_problem(cid in problems)
        finally:
            self._syncing = False

    def _on_scene_selection(self) -> None:
        if not self._syncing:
            self._doc.select([i.cabinet_id for i in self.scene().selectedItems() if isinstance(i, CabinetRectItem)])

    def _best_columns(self) -> int:
        """Canvas grid width that shows the canvases largest in the current view shape."""
        layout, view = self._doc.layout, self.viewport().size()
        best, best_scale = 1, 0.0
        for columns in range(1, max(1, len(layout.project.canvases)) + 1):
            slots, _ = canvas_slots(layout, columns)
            extent = QRectF()
            for slot in slots.values():
                extent = extent.united(slot.rect())
            if extent.isEmpty():
                return 1
            scale = min(view.width() / extent.width(), view.height() / extent.height())
            if scale > best_scale * 1.001:
                best, best_scale = columns, scale
        return best

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._auto_fit and not self.dragging() and self._best_columns() != self._columns:
            self.rebuild()
        super().resizeEvent(event)

    def fit(self) -> None:
        """Show every canvas and the unmapped tray."""
        rect = QRectF()
        for slot in self._slots.values():
            rect = rect.united(slot.rect())
        self.fit_rect(rect, margin_px=36.0)

    def slot_at(self, point: QPointF) -> CanvasSlot | None:
        for slot in self._slots.values():
            if slot.rect().contains(point):
                return slot
        return None

    # ------------------------------------------------------------------ dragging

    def _cabinet_at(self, event: QMouseEvent) -> CabinetRectItem | None:
        for item in self.items(event.position().toPoint()):
            if isinstance(item, CabinetRectItem):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._pan_press(event):
            return
        item = self._cabinet_at(event) if event.button() == Qt.MouseButton.LeftButton else None
        if item is None:
            super().mousePressEvent(event)
            return
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            item.setSelected(not item.isSelected())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        self.start_drag(item, self.mapToScene(event.position().toPoint()))

    def start_drag(self, lead: CabinetRectItem, scene_pos: QPointF) -> None:
        items = [i for i in self.scene().selectedItems() if isinstance(i, CabinetRectItem)]
        self._drag = _Drag(lead, items or [lead], scene_pos, QPointF())

    def drag_to(self, scene_pos: QPointF, free: bool = False) -> QPointF:
        """Move the dragged rectangles with the cursor; the lead rectangle snaps. Returns the delta."""
        assert self._drag is not None
        drag = self._drag
        target = drag.lead.home + (scene_pos - drag.start)
        w, h = drag.lead.size
        slot = self.slot_at(target + QPointF(w / 2, h / 2))
        if slot is not None and slot.name != TRAY and self.snap_enabled and not free:
            moving = {id(i) for i in drag.items}
            others = np.array([[r.home.x(), r.home.y(), r.home.x() + r.size[0], r.home.y() + r.size[1]]
                               for r in self._items.values() if id(r) not in moving
                               and slot.rect().contains(r.home + QPointF(r.size[0] / 2, r.size[1] / 2))],
                              dtype=np.float64).reshape(-1, 4)
            others -= [slot.origin.x(), slot.origin.y(), slot.origin.x(), slot.origin.y()]
            local = target - slot.origin
            sx, sy = snap_rect((local.x(), local.y()), (w, h), others, (slot.width, slot.height),
                               radius=SNAP_SCREEN_PX / self.pixels_per_unit())
            target = slot.origin + QPointF(sx, sy)
        drag.delta = target - drag.lead.home
        for item in drag.items:
            item.setPos(item.home + drag.delta)
        self.cabinet_drag_changed.emit([i.cabinet_id for i in drag.items], slot.name if slot else "")
        return drag.delta

    def finish_drag(self) -> None:
        """Write the drag back: moves onto canvases, and unmapping for cabinets left in the tray."""
        drag, self._drag = self._drag, None
        if drag is None:
            return
        ids = [i.cabinet_id for i in drag.items]
        if drag.delta.manhattanLength() < 0.5:
            self.cabinet_drag_finished.emit(ids)
            return
        moves, unmap, lost = self._targets(drag.items)
        if lost:
            self._editor.refused.emit(f"drop cabinets onto a canvas (or the unmapped tray): {', '.join(lost)}")
        elif moves or unmap:
            self._write_back(moves, unmap)
        if lost or not (moves or unmap):
            self.rebuild()
        self.cabinet_drag_finished.emit(ids)

    def _targets(self, items: list[CabinetRectItem]) -> tuple[dict[str, MapPlacement], list[str], list[str]]:
        moves: dict[str, MapPlacement] = {}
        unmap, lost = [], []
        mapped = self._doc.layout.pixel_map.canvas >= 0
        for item in items:
            centre = item.pos() + QPointF(item.size[0] / 2, item.size[1] / 2)
            slot = self.slot_at(centre)
            if slot is None:
                lost.append(item.cabinet_id)
            elif slot.name == TRAY:
                if mapped[self._doc.layout.id_to_index[item.cabinet_id]]:
                    unmap.append(item.cabinet_id)
            else:
                local = item.pos() - slot.origin
                moves[item.cabinet_id] = MapPlacement(slot.name, max(0, round(local.x())), max(0, round(local.y())))
        return moves, unmap, lost

    def _write_back(self, moves: dict[str, MapPlacement], unmap: list[str]) -> None:
        doc, stack = self._doc, self._editor.stack
        if moves and unmap:
            stack.beginMacro(f"remap {len(moves) + len(unmap)} cabinets")
        if moves:
            self._editor.run(lambda: move_map_rects(doc.project, doc.layout, moves))
        if unmap:
            self._editor.run(lambda: unmap_cabinets(doc.project, doc.layout, unmap))
        if moves and unmap:
            stack.endMacro()
