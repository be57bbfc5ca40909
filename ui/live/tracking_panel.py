"""Tracking: the project's sources (add, edit, remove), each camera's delay and lens, live values
per stream, and the alignment tool.

Edits go to the document through the undo stack (``vpstage.stage.tracking_edits``); the running
hub follows the document (``EditForwarder``). The delay is the exception that makes it feel live:
while the operator turns it, every value goes straight to ``TrackingHub.set_delay`` (effective
at the next frame), and the finished value is saved to the camera as one undoable edit.
Live values are read from the hub on a GUI timer (``REFRESH_HZ``).
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from devices.tracking.hub import load_project_lenses
from ui.commands import DocumentEditor
from ui.live.alignment_tool import AlignmentTool, Point
from ui.live.models import LiveModels
from ui.live.readouts import fmt
from ui.live.source_form import PROTOCOL_LABELS, SourceDialog
from ui.live.stream_table import StreamTable
from vpstage.config import ConfigError
from vpstage.stage.document import StageDocument
from vpstage.stage.model import Alignment, Camera, TrackingSource
from vpstage.stage.tracking_edits import (
    add_tracking_source,
    remove_tracking_source,
    replace_tracking_source,
    update_camera,
)

REFRESH_HZ = 10
SOURCE_COLUMNS = ("name", "protocol", "address", "camera id", "lost after")


def delay_frames_ms(frames: float, rate: Fraction) -> float:
    return float(frames / rate * 1000)


class TrackingPanel(QWidget):
    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._editor = document, editor
        self._models: LiveModels | None = None
        self.sources = QTableWidget(0, len(SOURCE_COLUMNS))
        self.sources.setHorizontalHeaderLabels(SOURCE_COLUMNS)
        self.sources.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.sources.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.sources.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.sources.horizontalHeader().setStretchLastSection(True)
        self.sources.doubleClicked.connect(lambda _index: self.edit_selected())
        self.camera = QComboBox()
        self.active = QComboBox()
        self.active.setToolTip("The camera on the wall: its inner frustum is drawn over every other "
                               "camera's from the next frame (multi-camera shoots)")
        self.delay = QDoubleSpinBox()
        self.delay.setRange(0.0, 1000.0)
        self.delay.setDecimals(1)
        self.delay.setSuffix(" ms")
        self.delay.setToolTip("Tracking delay: the pose is sampled this long before each frame (applied at once)")
        self.delay_frames = QLabel()
        self.lens = QComboBox()
        self.readout = QLabel()
        self.readout.setObjectName("trackingReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.streams = StreamTable()
        self.streams.setMinimumHeight(90)
        self.alignment = AlignmentTool(self._tracker_reading)
        self.alignment.alignment_applied.connect(self._apply_alignment)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._live_tab(), "Live")
        self.tabs.addTab(self._sources_tab(), "Sources")
        self.tabs.addTab(self.alignment, "Alignment")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.tabs)
        self.camera.currentTextChanged.connect(self._on_camera_chosen)
        self.active.activated.connect(lambda _i: self.set_active_camera(self.active.currentText()))
        self.delay.valueChanged.connect(self._on_delay_turned)
        self.delay.editingFinished.connect(self.save_delay)
        self.lens.activated.connect(lambda _i: self.set_lens(self.lens.currentText()))
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // REFRESH_HZ)
        self._timer.timeout.connect(self.refresh)
        document.project_changed.connect(self._on_project_changed)
        self._fill_from_document()
        self.bind(None)

    def _live_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout()
        form.addRow("Active camera", self.active)
        form.addRow("Camera", self.camera)
        delay_row = QHBoxLayout()
        delay_row.addWidget(self.delay)
        delay_row.addWidget(self.delay_frames)
        form.addRow("Delay", delay_row)
        form.addRow("Lens profile", self.lens)
        box = QVBoxLayout(page)
        box.addLayout(form)
        box.addWidget(self.readout)
        box.addWidget(self.streams, 1)
        return page

    def _sources_tab(self) -> QWidget:
        page = QWidget()
        buttons = QHBoxLayout()
        for text, slot in (("Add…", self.add_dialog), ("Edit…", self.edit_selected), ("Remove", self.remove_selected)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        box = QVBoxLayout(page)
        box.addWidget(self.sources, 1)
        box.addLayout(buttons)
        return page

    def detach(self) -> None:
        self._timer.stop()
        self._doc.project_changed.disconnect(self._on_project_changed)

    def bind(self, models: LiveModels | None) -> None:
        self._models = models
        self._fill_lenses()
        self._fill_active_cameras()
        if models is not None and models.hub is not None:
            self._timer.start()
            self.refresh()
        else:
            self._timer.stop()
            self.readout.setText("engine stopped: no live tracking")
            self.streams.show_streams([], [])

    @property
    def hub(self) -> Any:
        return self._models.hub if self._models is not None else None

    # ------------------------------------------------------------------ document -> form

    def _on_project_changed(self, change: Any) -> None:
        if change is None or "tracking" in change.after or "cameras" in change.after:
            self._fill_from_document()

    def _fill_from_document(self) -> None:
        project = self._doc.project
        self.sources.setRowCount(len(project.tracking))
        for row, source in enumerate(project.tracking):
            cells = (source.name, PROTOCOL_LABELS[source.protocol], source.address,
                     "any" if source.camera_id is None else str(source.camera_id), f"{source.lost_after_ms:g} ms")
            for col, text in enumerate(cells):
                self.sources.setItem(row, col, QTableWidgetItem(text))
        names = [c.name for c in project.cameras]
        if [self.camera.itemText(i) for i in range(self.camera.count())] != names:
            current = self.camera.currentText()
            self.camera.blockSignals(True)
            self.camera.clear()
            self.camera.addItems(names)
            self.camera.setCurrentText(current if current in names else (names[0] if names else ""))
            self.camera.blockSignals(False)
        self._on_camera_chosen(self.camera.currentText())

    def current_camera(self) -> Camera | None:
        return next((c for c in self._doc.project.cameras if c.name == self.camera.currentText()), None)

    def _on_camera_chosen(self, _name: str) -> None:
        camera = self.current_camera()
        self.alignment.set_camera(camera.name if camera else None)
        for widget in (self.delay, self.lens):
            widget.setEnabled(camera is not None)
        if camera is None:
            return
        if not self.delay.hasFocus():
            ms = (delay_frames_ms(camera.delay_frames, self._doc.project.frame_rate)
                  if camera.delay_frames is not None else camera.delay_ms)
            self.delay.blockSignals(True)
            self.delay.setValue(ms)
            self.delay.blockSignals(False)
        self._show_delay_frames()
        self.lens.setCurrentText(camera.lens)

    def _fill_lenses(self) -> None:
        hub = self.hub
        try:
            names = sorted(hub.lenses) if hub is not None else sorted(load_project_lenses(self._doc.project,
                                                                                          self._doc.base_dir))
        except ConfigError as exc:
            names = []
            self.readout.setText(f"lens library: {exc}")
        self.lens.clear()
        self.lens.addItems(names)
        camera = self.current_camera()
        if camera is not None:
            self.lens.setCurrentText(camera.lens)

    def _show_delay_frames(self) -> None:
        rate = self._doc.project.frame_rate
        self.delay_frames.setText(f"= {self.delay.value() * float(rate) / 1000:.2f} frames at {float(rate):g} fps")

    def _fill_active_cameras(self) -> None:
        switch = self._models.cameras if self._models is not None else None
        self.active.blockSignals(True)
        self.active.clear()
        if switch is not None:
            self.active.addItems(switch.names)
            self.active.setCurrentText(switch.active_camera or "")
        self.active.blockSignals(False)
        self.active.setEnabled(switch is not None and len(switch.names) > 1)

    def set_active_camera(self, name: str) -> None:
        """Put camera ``name`` on top of the wall from the next frame."""
        switch = self._models.cameras if self._models is not None else None
        if switch is not None and name in switch.names:
            switch.set_active_camera(name)

    # ------------------------------------------------------------------ edits

    def _on_delay_turned(self, ms: float) -> None:
        """Every value while turning goes to the hub at once (no undo step per value)."""
        camera = self.current_camera()
        self._show_delay_frames()
        if camera is not None and self.hub is not None and camera.name in self.hub.camera_names:
            self.hub.set_delay(camera.name, ms)

    def save_delay(self) -> bool:
        """Save the delay in the field to the camera (one undoable edit)."""
        camera = self.current_camera()
        if camera is None:
            return False
        value = round(self.delay.value(), 3)
        if camera.delay_frames is None and camera.delay_ms == value:
            return False
        return self._editor.run(lambda: update_camera(self._doc.project, camera.name, {"delay_ms": value}))

    def set_delay(self, ms: float) -> bool:
        """Turn the delay to ``ms`` and save it (what the spin box does; keyboard and tests)."""
        self.delay.setValue(ms)
        return self.save_delay()

    def set_lens(self, name: str) -> bool:
        camera = self.current_camera()
        if camera is None or camera.lens == name:
            return False
        return self._editor.run(lambda: update_camera(self._doc.project, camera.name, {"lens": name}))

    def _apply_alignment(self, camera: str, alignment: Alignment) -> None:
        self._editor.run(lambda: update_camera(self._doc.project, camera, {"alignment": alignment}))

    def add_source(self, source: TrackingSource) -> bool:
        return self._editor.run(lambda: add_tracking_source(self._doc.project, source))

    def replace_source(self, name: str, source: TrackingSource) -> bool:
        return self._editor.run(lambda: replace_tracking_source(self._doc.project, name, source))

    def remove_source(self, name: str) -> bool:
        return self._editor.run(lambda: remove_tracking_source(self._doc.project, name))

    def _selected_source(self) -> TrackingSource | None:
        rows = {i.row() for i in self.sources.selectedIndexes()}
        tracking = self._doc.project.tracking
        return tracking[min(rows)] if rows and min(rows) < len(tracking) else None

    def add_dialog(self) -> None:
        dialog = SourceDialog("Add tracking source", parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_source is not None:
            self.add_source(dialog.result_source)

    def edit_selected(self) -> None:
        source = self._selected_source()
        if source is None:
            return
        dialog = SourceDialog(f"Edit {source.name}", source, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_source is not None:
            self.replace_source(source.name, dialog.result_source)

    def remove_selected(self) -> None:
        source = self._selected_source()
        if source is not None:
            self.remove_source(source.name)

    # ------------------------------------------------------------------ live values

    def _tracker_reading(self, camera: str) -> Point | None:
        hub = self.hub
        if hub is None or camera not in hub.camera_names:
            return None
        sample = hub.latest_sample(camera)
        return None if sample is None else (sample.x_m, sample.y_m, sample.z_m)

    def refresh(self) -> None:
        hub = self.hub
        if hub is None or not self.isVisible():
            return
        self.streams.show_streams(hub.stream_health(), hub.receiver_health())
        switch = self._models.cameras if self._models is not None else None
        if switch is not None and not self.active.view().isVisible():
            self.active.setCurrentText(switch.active_camera or "")
        camera = self.current_camera()
        if camera is None or camera.name not in hub.camera_names:
            self.readout.setText("this camera starts with the next engine start")
            return
        self.readout.setText(camera_readout(hub, camera.name))


def camera_readout(hub: Any, camera: str) -> str:
    """The raw sample (tracker frame, as sent) and the calibrated camera (stage frame), two lines each."""
    sample = hub.latest_sample(camera)
    if sample is None:
        return f"camera {camera}: no sample yet"
    now = time.monotonic_ns()
    state = hub.state_at(camera, now)
    fiz = " ".join(f"{k} {v}" for k, v in (("zoom", sample.zoom_raw), ("focus", sample.focus_raw),
                                           ("iris", sample.iris_raw)) if v is not None)
    raw = (f"tracker  X {sample.x_m:+.3f}  Y {sample.y_m:+.3f}  Z {sample.z_m:+.3f} m\n"
           f"         pan {sample.pan_deg:+.2f}  tilt {sample.tilt_deg:+.2f}  roll {sample.roll_deg:+.2f}°  {fiz}")
    if state is None:
        return raw
    eye = state.eye
    cal = (f"stage    eye {eye[0]:+.3f} {eye[1]:+.3f} {eye[2]:+.3f} m  focal {fmt(state.focal_length_mm, 1)} mm\n"
           f"         focus {fmt(state.focus_distance_m, 2)} m  f/{fmt(state.f_stop, 1)}  "
           f"delay {hub.delay_ms(camera):.1f} ms  age {fmt(hub.tracking_age_ms(camera, now), 0)} ms")
    return f"{raw}\n{cal}"
