"""EditorView: what the wall plan and the pixel-map editor share.

Both observe one StageDocument (rebuilding their items when the project changes, updating marks
in place when the selection or the problems change) and edit it through a DocumentEditor. Wheel
zooms about the cursor; the middle button drags the view; the left button on empty space draws a
rubber band that selects; a left drag on an item is handled by the subclass (``dragging``,
``drag_to``, ``finish_drag``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent, QPainter, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from ui import palette
from ui.commands import DocumentEditor
from ui.stage_view.painter_canvas import qcolor
from vpstage.stage.document import StageDocument

ZOOM_PER_WHEEL_UNIT = 1.0015


class EditorView(QGraphicsView):
    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._editor = document, editor
        self._syncing = False  # True while items are updated from the document
        self._drag: object | None = None  # the subclass's drag state while an item drag runs
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(qcolor(palette.BACKGROUND))
        # Middle-drag pans and the wheel zooms: scroll bars would only take room.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.snap_enabled = True
        self._pan_from: QPoint | None = None
        self._auto_fit = True  # follow resizes with fit() until the operator zooms or pans
        self.scene().selectionChanged.connect(self._on_scene_selection)
        document.project_changed.connect(self._on_project_changed)
        document.selection_changed.connect(self._on_marks_changed)
        document.validation_changed.connect(self._on_marks_changed)

    def detach(self) -> None:
        """Stop observing the document (before the widget is dropped)."""
        self._doc.project_changed.disconnect(self._on_project_changed)
        self._doc.selection_changed.disconnect(self._on_marks_changed)
        self._doc.validation_changed.disconnect(self._on_marks_changed)

    def _on_project_changed(self, _change: object) -> None:
        self._drag = None  # a drag in progress refers to items about to be replaced
        self.rebuild()

    # Each editor (plan, pixel map) defines these: recreate its items, refresh marks in place, push
    # the scene's selection to the document.
    rebuild: Callable[[], None]
    _on_marks_changed: Callable[[object], None]
    _on_scene_selection: Callable[[], None]

    def fit(self) -> None:
        """Show everything (subclasses say what that is)."""

    def fit_rect(self, rect: QRectF, margin_px: float = 28.0) -> None:
        """Fit ``rect`` with a margin in view pixels (labels drawn at screen size need room)."""
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        pad = margin_px / self.pixels_per_unit()
        self.fitInView(rect.adjusted(-pad, -pad, pad, pad), Qt.AspectRatioMode.KeepAspectRatio)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._auto_fit and not self.dragging():  # never rescale under the operator's mouse
            self.fit()

    def pixels_per_unit(self) -> float:
        """View pixels per scene unit at the current zoom."""
        return float(self.transform().m11()) or 1.0

    def _pan_press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.MiddleButton:
            return False
        self._pan_from = event.position().toPoint()
        self._auto_fit = False
        return True

    def _pan_move(self, event: QMouseEvent) -> bool:
        if self._pan_from is None:
            return False
        delta = event.position().toPoint() - self._pan_from
        self._pan_from = event.position().toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        return True

    def _pan_release(self, event: QMouseEvent) -> bool:
        if self._pan_from is None or event.button() != Qt.MouseButton.MiddleButton:
            return False
        self._pan_from = None
        return True

    def dragging(self) -> bool:
        return self._drag is not None

    # Editors with draggable items define these two.
    drag_to: Callable[[QPointF, bool], object]
    finish_drag: Callable[[], None]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_move(event):
            return
        if self.dragging():
            free = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)  # Alt: no snapping
            self.drag_to(self.mapToScene(event.position().toPoint()), free)
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_release(event):
            return
        if self.dragging():
            self.finish_drag()
        else:
            super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self._auto_fit = False
        factor = ZOOM_PER_WHEEL_UNIT ** (event.angleDelta().y() or event.angleDelta().x())
        self.scale(factor, factor)
