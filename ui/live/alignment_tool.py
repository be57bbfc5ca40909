"""The alignment tool: capture point pairs (the tracker's reading now + the surveyed stage point the
tracked camera or probe sits on), solve the tracker -> stage transform, show each point's
residual and the RMS, and apply it to the camera.

``AlignmentSession`` (Qt-free) holds the pairs and the last solution; the widget shows it. Apply
emits ``alignment_applied(camera, Alignment)``: the tracking panel turns that into an undoable
edit of the camera, and the engine takes it from the document at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vpstage.stage.model import Alignment
from vpstage.tracking.alignment import AlignmentSolution, solve_alignment

Point = tuple[float, float, float]
COLUMNS = ("tracker X", "tracker Y", "tracker Z", "stage X", "stage Y", "stage Z", "residual mm")


@dataclass
class AlignmentSession:
    """Point pairs for one camera (metres), and the solution of the last solve."""

    tracker: list[Point] = field(default_factory=list)
    stage: list[Point] = field(default_factory=list)
    solution: AlignmentSolution | None = None

    def add(self, tracker: Point, stage: Point) -> None:
        self.tracker.append(tracker)
        self.stage.append(stage)
        self.solution = None

    def remove(self, index: int) -> None:
        del self.tracker[index], self.stage[index]
        self.solution = None

    def clear(self) -> None:
        self.tracker.clear()
        self.stage.clear()
        self.solution = None

    def solve(self, with_scale: bool = False) -> AlignmentSolution:
        """Least squares over the pairs (ValueError: fewer than 3, collinear, non-finite)."""
        self.solution = solve_alignment(np.asarray(self.tracker), np.asarray(self.stage), with_scale=with_scale)
        return self.solution

    def __len__(self) -> int:
        return len(self.tracker)


def _spin(value: float = 0.0) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(-1000.0, 1000.0)
    spin.setDecimals(3)
    spin.setSingleStep(0.01)
    spin.setSuffix(" m")
    spin.setValue(value)
    return spin


class AlignmentTool(QWidget):
    alignment_applied = Signal(str, object)
    """(camera name, vpstage.stage.model.Alignment) (GUI thread)."""

    def __init__(self, reading: Callable[[str], Point | None], parent: QWidget | None = None) -> None:
        """``reading(camera)`` is the tracker-frame position the tracker reports now (or None)."""
        super().__init__(parent)
        self._reading = reading
        self.camera: str | None = None
        self.session = AlignmentSession()
        self.stage_point = [_spin(), _spin(), _spin()]
        self.capture_button = QPushButton("Capture")
        self.capture_button.setToolTip("Pair the tracker's reading now with the stage point above")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.with_scale = QCheckBox("solve scale")
        self.remove_button, self.clear_button = QPushButton("Remove"), QPushButton("Clear")
        self.solve_button, self.apply_button = QPushButton("Solve"), QPushButton("Apply to camera")
        self.result = QLabel("capture 3 or more points")
        self.result.setWordWrap(True)
        self._build()

    def _build(self) -> None:
        point = QHBoxLayout()
        point.addWidget(QLabel("Stage point"))
        for spin in self.stage_point:
            point.addWidget(spin)
        point.addWidget(self.capture_button)
        actions = QHBoxLayout()
        for widget in (self.remove_button, self.clear_button, self.with_scale, self.solve_button, self.apply_button):
            actions.addWidget(widget)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(point)
        box.addWidget(self.table, 1)
        box.addLayout(actions)
        box.addWidget(self.result)
        self.capture_button.clicked.connect(self.capture)
        self.remove_button.clicked.connect(self._remove_selected)
        self.clear_button.clicked.connect(self._clear)
        self.solve_button.clicked.connect(self.solve)
        self.apply_button.clicked.connect(self.apply)
        self._refresh()

    def set_camera(self, camera: str | None) -> None:
        if camera != self.camera:
            self.camera = camera
            self.session = AlignmentSession()
            self._refresh()

    def set_stage_point(self, point: Point) -> None:
        for spin, value in zip(self.stage_point, point, strict=True):
            spin.setValue(value)

    def capture(self) -> bool:
        """Pair the tracker's current reading with the stage point in the fields."""
        reading = self._reading(self.camera) if self.camera else None
        if reading is None:
            self.result.setText("no tracker reading for this camera: is the tracker sending?")
            return False
        stage: Point = (self.stage_point[0].value(), self.stage_point[1].value(), self.stage_point[2].value())
        self.session.add(reading, stage)
        self._refresh()
        return True

    def _remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.session.remove(row)
        self._refresh()

    def _clear(self) -> None:
        self.session.clear()
        self._refresh()

    def solve(self) -> AlignmentSolution | None:
        try:
            solution = self.session.solve(self.with_scale.isChecked())
        except ValueError as exc:
            self.result.setText(f"cannot solve: {exc}")
            self._refresh(keep_result=True)
            return None
        self._refresh()
        return solution

    def apply(self) -> Alignment | None:
        solution = self.session.solution
        if solution is None or self.camera is None:
            self.result.setText("solve first")
            return None
        model = solution.transform.to_model()
        self.alignment_applied.emit(self.camera, model)
        self.result.setText(self._summary(solution) + " — applied")
        return model

    @staticmethod
    def _summary(solution: AlignmentSolution) -> str:
        return (f"RMS {solution.rms_m * 1000:.1f} mm, worst {solution.max_m * 1000:.1f} mm, "
                f"scale {solution.transform.scale:.5f}")

    def _refresh(self, keep_result: bool = False) -> None:
        s = self.session
        self.table.setRowCount(len(s))
        for row, (tracker, stage) in enumerate(zip(s.tracker, s.stage, strict=True)):
            values: list[Any] = [*tracker, *stage]
            residual = s.solution.residuals_m[row] * 1000 if s.solution is not None else None
            cells = [f"{v:.3f}" for v in values] + ["–" if residual is None else f"{residual:.1f}"]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        enabled = self.camera is not None
        self.capture_button.setEnabled(enabled)
        self.solve_button.setEnabled(enabled and len(s) >= 3)
        self.apply_button.setEnabled(enabled and s.solution is not None)
        if keep_result:
            return
        if s.solution is not None:
            self.result.setText(self._summary(s.solution))
        else:
            self.result.setText(f"{len(s)} point(s) captured; 3 or more to solve")
