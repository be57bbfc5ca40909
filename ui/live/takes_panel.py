"""Takes: record and stop (a big button; F9 from anywhere in the window), slate, scene, camera
roll and notes, and the take list of the project's takes database (search, circle).

Starting and stopping a take go through the engine's ``TakeControl`` on the control thread
(stopping waits until every frame is durable, tens of milliseconds); the button shows the
request at once and the take's state when the recorder answers. The list reads a ``TakeLibrary``
opened beside the recorder (SQLite WAL readers never block the writer) and refreshes when a take
stops, when the search changes, when the database file changes (another program renamed or
deleted a take; checked every ``POLL_MS``), and on demand.

The list and the next take's name read the takes database whether or not the engine runs: the one
the engine records into (``ui.live.engine_factory.takes_db_path``: the project's, or the
rehearsal's), and after a stop the one it recorded into.

Export… writes the selected take for post (``ui.live.take_export``) on a thread of its own; the
panel hands the job to whoever shows long jobs (``job_started``: the window's status bar).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.background_job import BackgroundJob
from ui.live.control_thread import ControlThread
from ui.live.engine_factory import takes_db_path
from ui.live.models import LiveModels, TakeControl
from ui.live.take_export import export_filters, take_export_job, with_suffix
from vpstage.stage.document import StageDocument
from vpstage.takes import TakeInfo, TakeLibrary
from vpstage.takes.database import TakeDatabaseError

T = TypeVar("T")

TAKE_COLUMNS = ("take", "scene", "roll", "TC in", "TC out", "frames", "status", "circled")
START, STOP = "start take", "stop take"
POLL_MS = 1500
FileStamp = tuple[tuple[int, int], ...]


def database_stamp(path: Path | None) -> FileStamp:
    """(modification time, size) of a SQLite database and its write-ahead log: changes when a
    transaction commits, whoever wrote it."""
    if path is None:
        return ()
    stamps = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            info = file.stat()
        except OSError:
            stamps.append((0, 0))
        else:
            stamps.append((info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def _restyle(widget: QWidget, name: str, value: str) -> None:
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class TakesPanel(QWidget):
    job_started = Signal(object)
    """A BackgroundJob the panel started (a take export), for the status bar to show (GUI thread)."""

    def __init__(self, document: StageDocument, control: ControlThread, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._control = document, control
        self._takes: TakeControl | None = None
        self._library: TakeLibrary | None = None
        self._library_path: Path | None = None
        self.recording: TakeInfo | None = None
        self._started_at = 0.0
        self._pending = False
        self.record_button = QPushButton()
        self.record_button.setObjectName("recordButton")
        self.record_button.setMinimumHeight(52)
        self.record_button.clicked.connect(self.toggle_recording)
        self.state = QLabel()
        self.state.setObjectName("takeState")
        self.slate, self.scene, self.roll, self.notes = QLineEdit("A001"), QLineEdit(), QLineEdit(), QLineEdit()
        self.next_take = QLabel()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search slate, scene, roll, notes")
        self.circled_only = QCheckBox("circled only")
        self.table = QTableWidget(0, len(TAKE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TAKE_COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the selected take for post (CSV, JSON, OpenTrackIO, USD)")
        self.export_button.clicked.connect(self.export_selected)
        self.export_job: BackgroundJob | None = None
        """The last export started (running or ended)."""
        self._build()
        control.finished.connect(self._on_finished)
        control.failed.connect(self._on_failed)
        self._clock = QTimer(self)
        self._clock.setInterval(500)
        self._clock.timeout.connect(self._show_state)
        self._stamp: FileStamp = ()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_database)
        self._poll.start()
        self.bind(None)

    def _build(self) -> None:
        form = QFormLayout()
        form.addRow("Slate", self.slate)
        form.addRow("Scene", self.scene)
        form.addRow("Camera roll", self.roll)
        form.addRow("Notes", self.notes)
        form.addRow("Next", self.next_take)
        search = QHBoxLayout()
        search.addWidget(self.search, 1)
        search.addWidget(self.circled_only)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_list)
        search.addWidget(refresh)
        search.addWidget(self.export_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.record_button)
        box.addWidget(self.state)
        box.addLayout(form)
        box.addLayout(search)
        box.addWidget(self.table, 1)
        self.search.textChanged.connect(lambda _t: self.refresh_list())
        self.circled_only.toggled.connect(lambda _c: self.refresh_list())
        self.slate.textChanged.connect(lambda _t: self._show_next())
        self.table.itemChanged.connect(self._on_item_changed)

    def detach(self) -> None:
        self._clock.stop()
        self._poll.stop()
        self._control.finished.disconnect(self._on_finished)
        self._control.failed.disconnect(self._on_failed)
        self._close_library()

    # ------------------------------------------------------------------ binding

    def bind(self, models: LiveModels | None) -> None:
        """Record through ``models.takes`` (None: recording unavailable; the list still shows the
        takes of the database the engine records into, or last recorded into)."""
        self._takes = models.takes if models is not None else None
        self.recording = self._takes.current_take if self._takes is not None else None
        path = self._takes.library_path if self._takes is not None else (
            self._library_path or takes_db_path(self._doc.path, rehearsal=self._doc.path is None))
        if path != self._library_path:
            self._close_library()
            self._library_path = path
        self._show_state()
        self.refresh_list()

    @property
    def library_path(self) -> Path | None:
        """The takes database the list reads."""
        return self._library_path

    def _poll_database(self) -> None:
        if database_stamp(self._library_path) != self._stamp:
            self.refresh_list()

    def _close_library(self) -> None:
        if self._library is not None:
            self._library.close()
            self._library = None

    def library(self) -> TakeLibrary | None:
        """The take library (opened on first use, once its database exists)."""
        if self._library is None and self._library_path is not None and self._library_path.is_file():
            try:
                self._library = TakeLibrary(self._library_path)
            except TakeDatabaseError as exc:
                self.state.setText(f"takes database: {exc}")
        return self._library

    # ------------------------------------------------------------------ record / stop

    def toggle_recording(self) -> None:
        """Start a take, or stop the one recording (the button and F9)."""
        takes = self._takes
        if takes is None or self._pending:
            return
        self._pending = True
        if self.recording is None:
            slate, scene, roll, notes = (w.text().strip() for w in (self.slate, self.scene, self.roll, self.notes))
            self._control.submit(START, lambda: takes.start_take(slate, scene=scene, camera_roll=roll, notes=notes))
            self.state.setText(f"starting {slate}…")
        else:
            self._control.submit(STOP, takes.stop_take)
            self.state.setText(f"stopping {self.recording.name}…")
        self.record_button.setEnabled(False)

    def _on_finished(self, label: str, result: Any) -> None:
        if label not in (START, STOP):
            return
        self._pending = False
        if label == START:
            self.recording, self._started_at = result, time.monotonic()
        else:
            self.recording = None
            self.refresh_list()
        self._show_state()

    def _on_failed(self, label: str, message: str) -> None:
        if label in (START, STOP):
            self._pending = False
            self._show_state()
            self.state.setText(f"{label} failed: {message}")

    def _show_state(self) -> None:
        available = self._takes is not None
        recording = self.recording is not None
        self.record_button.setEnabled(available and not self._pending)
        self.record_button.setText("■  STOP  (F9)" if recording else "●  RECORD  (F9)")
        _restyle(self.record_button, "recording", "true" if recording else "false")
        for field in (self.slate, self.scene, self.roll, self.notes):
            field.setEnabled(not recording)
        if recording:
            assert self.recording is not None
            elapsed = int(time.monotonic() - self._started_at) if self._started_at else 0
            self.state.setText(f"● REC  {self.recording.name}   {elapsed // 60:02d}:{elapsed % 60:02d}")
            self._clock.start()
        else:
            self._clock.stop()
            self.state.setText("standby" if available else "engine stopped: recording unavailable")
        self._show_next()

    def _show_next(self) -> None:
        slate = self.slate.text().strip()
        library = self.library()
        none: list[TakeInfo] = []
        found = self._read(lambda: library.search(slate=slate, include_deleted=True), none) \
            if library is not None and slate else none
        taken = [t.take_number for t in found if t.slate == slate]
        self.next_take.setText(f"{slate}_T{max(taken, default=0) + 1:02d}" if slate else "give a slate")

    def _read(self, read: Callable[[], T], default: T) -> T:
        """A read of the takes database; a damaged one is said in the panel, never raised into Qt."""
        try:
            return read()
        except (TakeDatabaseError, sqlite3.DatabaseError) as exc:
            self.state.setText(f"takes database problem: {exc}")
            return default

    # ------------------------------------------------------------------ list

    def refresh_list(self) -> None:
        self._stamp = database_stamp(self._library_path)
        library = self.library()
        text, circled = self.search.text().strip() or None, True if self.circled_only.isChecked() else None
        none: list[TakeInfo] = []
        takes = none if library is None else self._read(lambda: library.search(text, circled=circled), none)
        self.table.blockSignals(True)
        self.table.setRowCount(len(takes))
        for row, take in enumerate(reversed(takes)):  # newest first
            cells = (take.name, take.scene, take.camera_roll, take.start_timecode or "–", take.end_timecode or "–",
                     str(take.frame_count), take.status)
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            circle = QTableWidgetItem("circled" if take.circled else "")
            circle.setFlags(circle.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            circle.setCheckState(Qt.CheckState.Checked if take.circled else Qt.CheckState.Unchecked)
            circle.setData(Qt.ItemDataRole.UserRole, take.id)
            self.table.setItem(row, len(TAKE_COLUMNS) - 1, circle)
        self.table.blockSignals(False)
        self._show_next()

    def selected_take(self) -> tuple[int, str] | None:
        """(id, name) of the take selected in the list."""
        row = self.table.currentRow()
        name, circle = self.table.item(row, 0), self.table.item(row, len(TAKE_COLUMNS) - 1)
        if row < 0 or name is None or circle is None:
            return None
        return int(circle.data(Qt.ItemDataRole.UserRole)), name.text()

    def export_selected(self) -> BackgroundJob | None:
        """Ask for a file (its filter picks the format) and export the selected take to it."""
        take = self.selected_take()
        if take is None or self._library_path is None:
            self.state.setText("select a take to export")
            return None
        filters = export_filters()
        start = str(self._library_path.parent.parent / take[1])
        chosen, selected = QFileDialog.getSaveFileName(self, f"Export {take[1]}", start, ";;".join(filters))
        if not chosen or selected not in filters:
            return None
        fmt = filters[selected]
        return self.export_take(fmt, with_suffix(Path(chosen), fmt))

    def export_take(self, fmt: str, path: Path) -> BackgroundJob | None:
        """Export the selected take in format ``fmt`` to ``path`` on a thread of its own (started,
        announced through ``job_started`` and returned)."""
        take = self.selected_take()
        if take is None or self._library_path is None:
            return None
        job = take_export_job(self._library_path, take[0], take[1], fmt, path)
        self.export_job = job
        self.job_started.emit(job)
        job.start()
        return job

    def take_names(self) -> list[str]:
        items = (self.table.item(row, 0) for row in range(self.table.rowCount()))
        return [item.text() for item in items if item is not None]

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        library = self.library()
        if library is None or item.column() != len(TAKE_COLUMNS) - 1:
            return
        circled = item.checkState() == Qt.CheckState.Checked
        self._read(lambda: library.update(int(item.data(Qt.ItemDataRole.UserRole)), circled=circled), None)
        QTimer.singleShot(0, self.refresh_list)  # not while Qt is still delivering this item's change
