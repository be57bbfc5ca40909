"""RegionForm: spin boxes for one colour region's grade, rectangle and feather.

It keeps no domain state: ``show_region`` fills it (signals blocked), and each finished edit of a
field is announced as ``field_edited(field, value)`` with the field's whole value (an RGB triple
for lift / gamma / gain, the four corners for ``rect``); the panel turns it into an undoable edit.
Spin boxes do not track the keyboard: a typed value counts once, when it is committed.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QSpinBox, QWidget

from vpstage.colour.settings import ColourRegion

TRIPLES = {"lift": (-1.0, 1.0, 0.005), "gamma": (0.05, 10.0, 0.01), "gain": (0.0, 8.0, 0.01)}
"""Field -> (minimum, maximum, step) of its three spin boxes (the model's ranges)."""
CHANNELS = ("R", "G", "B")
CORNERS = ("x0", "y0", "x1", "y1")


def _double(lo: float, hi: float, step: float, decimals: int = 3) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    return box


class RegionForm(QWidget):
    field_edited = Signal(str, object)
    """(field, value): the operator changed one field of the region shown (GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.triples: dict[str, tuple[QDoubleSpinBox, ...]] = {}
        for field, (lo, hi, step) in TRIPLES.items():
            boxes = tuple(_double(lo, hi, step) for _ in CHANNELS)
            for channel, box in zip(CHANNELS, boxes, strict=True):
                box.setPrefix(f"{channel} ")
                box.valueChanged.connect(lambda _v, f=field: self._emit_triple(f))
            self.triples[field] = boxes
            form.addRow(field.capitalize(), self._row(boxes))
        self.saturation = _double(0.0, 4.0, 0.01)
        self.saturation.valueChanged.connect(lambda v: self.field_edited.emit("saturation", float(v)))
        form.addRow("Saturation", self.saturation)
        self.feather = _double(0.0, 4096.0, 1.0, decimals=1)
        self.feather.setSuffix(" px")
        self.feather.valueChanged.connect(lambda v: self.field_edited.emit("feather_px", float(v)))
        form.addRow("Feather", self.feather)
        self.corners = tuple(self._corner(name) for name in CORNERS)
        form.addRow("Rectangle", self._row(self.corners))

    def _corner(self, name: str) -> QSpinBox:
        box = QSpinBox()
        box.setRange(0, 1 << 16)
        box.setPrefix(f"{name} ")
        box.setKeyboardTracking(False)
        box.valueChanged.connect(lambda _v: self.field_edited.emit("rect", tuple(b.value() for b in self.corners)))
        return box

    @staticmethod
    def _row(boxes: Sequence[QAbstractSpinBox]) -> QHBoxLayout:
        row = QHBoxLayout()
        for box in boxes:
            row.addWidget(box)
        return row

    def _emit_triple(self, field: str) -> None:
        self.field_edited.emit(field, tuple(float(b.value()) for b in self.triples[field]))

    def _boxes(self) -> list[QAbstractSpinBox]:
        return [b for boxes in self.triples.values() for b in boxes] + [self.saturation, self.feather, *self.corners]

    def show_region(self, region: ColourRegion | None) -> None:
        """Fill the form from ``region`` (None: empty and disabled); emits nothing."""
        self.setEnabled(region is not None)
        if region is None:
            return
        for box in self._boxes():
            box.blockSignals(True)
        try:
            for field, boxes in self.triples.items():
                for box, value in zip(boxes, getattr(region, field), strict=True):
                    box.setValue(value)
            self.saturation.setValue(region.saturation)
            self.feather.setValue(region.feather_px)
            for box, value in zip(self.corners, region.rect, strict=True):
                box.setValue(value)
        finally:
            for box in self._boxes():
                box.blockSignals(False)
