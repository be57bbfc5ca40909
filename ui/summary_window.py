"""A minimal window showing a stage summary (until the full console lands)."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QMainWindow, QPlainTextEdit

from vpstage.stage import Stage
from vpstage.stage.report import format_summary


class SummaryWindow(QMainWindow):
    def __init__(self, stage: Stage, rehearsal: bool) -> None:
        super().__init__()
        mode = "REHEARSAL" if rehearsal else "PROJECT"
        self.setWindowTitle(f"vpstage [{mode}] {stage.project.name}")
        text = QPlainTextEdit(format_summary(stage.summary()))
        text.setReadOnly(True)
        text.setFont(QFont("monospace", 10))
        self.setCentralWidget(text)
        self.resize(1100, 700)
