"""SectionItem: one LED section on the wall plan (top-down), drawn from its cabinets' footprints.

Plan scene coordinates are centimetres with y pointing down the screen: a stage point (X, Y)
sits at scene (100 X, -100 Y), so the main wall (+Y) is at the top of the view.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSimpleTextItem, QStyleOptionGraphicsItem, QWidget

from ui import palette
from ui.stage_view.painter_canvas import qcolor

CM_PER_M = 100.0


def to_scene(x_m: float, y_m: float) -> QPointF:
    return QPointF(x_m * CM_PER_M, -y_m * CM_PER_M)


def to_stage(point: QPointF) -> tuple[float, float]:
    return point.x() / CM_PER_M, -point.y() / CM_PER_M


class SectionItem(QGraphicsItem):
    """A section's plan footprint. Selection and dragging are driven by the WallPlanView; the
    item only paints what it is given and reports its shape."""

    def __init__(self, name: str, kind: str, polygons: NDArray[np.float64], colors: NDArray[np.float64],
                 marks: NDArray[np.int8]) -> None:
        """``polygons`` (N, 4, 2): each cabinet's corners in plan metres; ``colors`` (N, 4) RGBA;
        ``marks`` (N,): 0 plain, 1 selected, 2 has a problem."""
        super().__init__()
        self.name, self.kind = name, kind
        # The rows of a wall stand on the same plan footprint: draw each footprint once.
        keys = np.round(np.asarray(polygons, dtype=np.float64).reshape(len(polygons), -1), 3)
        unique, first, self._owner = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        self._owner = self._owner.reshape(-1)
        self._polys = [QPolygonF([to_scene(float(x), float(y)) for x, y in p.reshape(-1, 2)]) for p in unique]
        self._colors = [qcolor(colors[i]) for i in first]
        self._marks = np.full(len(polygons), -1, dtype=np.int8)
        self._shown = np.zeros(len(self._polys), dtype=np.int8)  # mark shown per footprint
        self._outline = QPainterPath()
        for poly in self._polys:
            self._outline.addPolygon(poly)
        stroker = QPainterPathStroker()
        stroker.setWidth(25.0)  # walls are thin lines in plan: a 25 cm wide clickable band
        self._shape = stroker.createStroke(self._outline).united(self._outline)
        self._bounds = self._outline.boundingRect().adjusted(-12, -12, 12, 12)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setToolTip(f"{name} ({kind})")
        label = QGraphicsSimpleTextItem(name, self)
        label.setBrush(QBrush(qcolor(palette.TEXT)))
        label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        label.setPos(self._outline.boundingRect().center())
        self.set_marks(marks)

    def set_marks(self, marks: NDArray[np.int8]) -> None:
        """New per-cabinet marks (0 plain, 1 selected, 2 problem), same order as the polygons.

        A footprint shared by several cabinets (a wall column) shows selected if any of them is,
        else a problem if any has one."""
        if np.array_equal(marks, self._marks):
            return
        self._marks = np.asarray(marks, dtype=np.int8)
        priority = np.array([0, 2, 1], dtype=np.int8)  # plain < problem < selected
        shown = np.zeros(len(self._polys), dtype=np.int8)
        np.maximum.at(shown, self._owner, priority[self._marks])
        self._shown = priority[shown]  # the priority table is its own inverse
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        walls = self.kind in ("flat", "arc")
        for poly, colour, mark in zip(self._polys, self._colors, self._shown, strict=True):
            pen_colour = colour if mark == 0 else qcolor(palette.SELECTED if mark == 1 else palette.PROBLEM)
            pen = QPen(pen_colour, 4.0 if walls else (2.0 if mark else 1.0))
            pen.setCosmetic(True)
            painter.setPen(pen)
            fill = QColor(colour)
            fill.setAlphaF(0.0 if walls else (0.45 if mark == 1 else 0.18))
            painter.setBrush(fill)
            painter.drawPolygon(poly)
        if self.isSelected():
            pen = QPen(qcolor(palette.SELECTED), 1.0, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._outline.boundingRect().adjusted(-8, -8, 8, 8))
