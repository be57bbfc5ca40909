"""JobProgress: a running ``BackgroundJob`` in the status bar: its title, a progress bar and Cancel.

The bar follows the job's ``progressed`` signal (GUI thread, queued from the job's thread); when
the job ends the widget hides and says how (``ended``: the line for the status bar, which then
removes it).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.background_job import BackgroundJob

BAR_WIDTH_PX = 140


class JobProgress(QWidget):
    ended = Signal(str)
    """What became of the job, one line: its own summary, why it failed, or that it was cancelled."""

    def __init__(self, job: BackgroundJob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobProgress")
        self.job = job
        self.label = QLabel(job.title)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(BAR_WIDTH_PX)
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self.bar.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(f"Stop {job.title}: nothing is written")
        self.cancel_button.clicked.connect(self._cancel)
        box = QHBoxLayout(self)
        box.setContentsMargins(0, 0, 6, 0)
        box.addWidget(self.label)
        box.addWidget(self.bar)
        box.addWidget(self.cancel_button)
        job.progressed.connect(self._on_progress)
        job.finished.connect(self._on_end)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))

    def _cancel(self) -> None:
        self.job.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText(f"{self.job.title}: cancelling…")

    def _on_failed(self, why: str) -> None:
        self._on_end(f"{self.job.title} failed: {why}")

    def _on_cancelled(self) -> None:
        self._on_end(f"{self.job.title} cancelled")

    def _on_end(self, line: str) -> None:
        self.hide()
        self.ended.emit(line)
