"""Items of the pixel-map editor: canvases and the cabinet rectangles placed on them.

Scene coordinates are canvas pixels; each canvas sits at its own offset in the scene (see
``MapSceneLayout``), and unmapped cabinets wait in a tray below the canvases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from ui import palette
from ui.palette import RGBA
from ui.stage_view.painter_canvas import qcolor

CANVAS_GAP = 200.0
TRAY = "__unmapped__"


@dataclass(frozen=True)
class CanvasSlot:
    """Where a canvas (or the unmapped tray) sits in the scene."""

    name: str
    origin: QPointF
    width: int
    height: int

    def rect(self) -> QRectF:
        return QRectF(self.origin.x(), self.origin.y(), self.width, self.height)


TITLE_PX = 12.0  # title height on screen


class CanvasItem(QGraphicsItem):
    """A canvas raster outline with its title (name, size, node, processor input) above it.

    The title is painted at a constant screen size and elided to the canvas width, so titles of
    neighbouring canvases never run into each other at any zoom.
    """

    def __init__(self, slot: CanvasSlot, title: str, colour: RGBA, tray: bool = False) -> None:
        super().__init__()
        self.slot, self.title, self._colour, self._tray = slot, title, colour, tray
        self.setPos(slot.origin)
        self.setZValue(-1)

    def boundingRect(self) -> QRectF:
        return QRectF(-4, -CANVAS_GAP / 2, self.slot.width + 8, self.slot.height + CANVAS_GAP / 2 + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        pen = QPen(qcolor(self._colour), 2.0, Qt.PenStyle.DashLine if self._tray else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QColor(22, 25, 31))
        painter.drawRect(QRectF(0, 0, self.slot.width, self.slot.height))
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        size = min(TITLE_PX / max(lod, 1e-6), CANVAS_GAP * 0.4)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(1, round(size)))
        painter.setFont(font)
        text = QFontMetricsF(font).elidedText(self.title, Qt.TextElideMode.ElideRight, self.slot.width)
        painter.setPen(qcolor(self._colour))
        painter.drawText(QRectF(0, -size * 1.5, self.slot.width, size * 1.4),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), text)


class CabinetRectItem(QGraphicsItem):
    """One cabinet's rectangle: node-coloured, white when selected, red when it has a problem.

    A small triangle marks the corner where the cabinet's pixel (0, 0) lands after its rotation.
    """

    def __init__(self, cabinet_id: str, size: tuple[int, int], colour: RGBA, rotation: int) -> None:
        super().__init__()
        self.cabinet_id = cabinet_id
        self._w, self._h = size
        self._colour, self._rotation = colour, rotation
        self._problem = False
        self.home = QPointF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setToolTip(cabinet_id)

    @property
    def size(self) -> tuple[int, int]:
        return self._w, self._h

    def set_problem(self, problem: bool) -> None:
        if problem != self._problem:
            self._problem = problem
            self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._w, self._h)

    def _corner_marker(self) -> QPolygonF:
        s = min(self._w, self._h) * 0.22
        corner = {0: (0, 0, 1, 1), 90: (self._w, 0, -1, 1), 180: (self._w, self._h, -1, -1),
                  270: (0, self._h, 1, -1)}[self._rotation]
        x, y, dx, dy = corner
        return QPolygonF([QPointF(x, y), QPointF(x + dx * s, y), QPointF(x, y + dy * s)])

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        selected = self.isSelected()
        fill = qcolor(self._colour)
        fill.setAlphaF(0.75 if selected else 0.32)
        edge = palette.SELECTED if selected else (palette.PROBLEM if self._problem else self._colour)
        pen = QPen(qcolor(edge), 2.5 if (selected or self._problem) else 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(fill)
        rect = QRectF(0, 0, self._w, self._h)
        painter.drawRect(rect)
        if self._problem:
            painter.setBrush(QBrush(qcolor(palette.PROBLEM), Qt.BrushStyle.BDiagPattern))
            painter.drawRect(rect)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(qcolor(palette.TEXT))
        painter.drawPolygon(self._corner_marker())
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if self._w * lod > 46:
            font = QFont()
            font.setPixelSize(max(1, math.floor(10.0 / lod)))
            painter.setFont(font)
            painter.setPen(qcolor(palette.TEXT))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.cabinet_id.split("/", 1)[-1])
