"""ConsoleStatusBar: the live engine's state, and mode, file, validation state and selection of
the current document.

Permanent fields on the right; transient messages (refused edits, saves) on the left; long jobs
(``show_job``: a take export, ...) with their progress and Cancel between the two while they run. Live
fields (engine, timecode, rate, frame lock, tracking, recording) are set from the console's
live timer through :meth:`show_live`; each carries a state (ok, warning, error, off) that the
theme colours, and may carry details: the field stays one short line (elided, so the bar never
grows), the details are its tooltip, and clicking the engine field opens them in a details pane
(every problem of a failed start, every node's start-up step).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from ui.background_job import BackgroundJob
from ui.job_progress import JobProgress
from ui.live.details_pane import DetailsPane
from ui.live.elided_label import ElidedLabel
from ui.live.live_status import LiveField, LiveStatus
from vpstage.config import Problem
from vpstage.stage.document import StageDocument

MESSAGE_MS = 6000
LIVE_FIELDS = ("engine", "timecode", "rate", "lock", "tracking", "recording")


def _restyle(label: QLabel, name: str, value: str) -> None:
    label.setProperty(name, value)
    label.style().unpolish(label)
    label.style().polish(label)


class ConsoleStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = QLabel()
        self.mode.setObjectName("modeBadge")
        self.file = QLabel()
        # The path is the first thing to give way when the window is narrow (the live fields stay).
        self.file.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.file.setMinimumWidth(40)
        self.cabinets = QLabel()
        self.selection = QLabel()
        self.validation = QLabel()
        self.validation.setObjectName("validationBadge")
        self.live: dict[str, ElidedLabel] = {}
        for name in LIVE_FIELDS:
            label = ElidedLabel(max_hint=320 if name == "engine" else 200)
            label.setObjectName("liveField")
            label.setProperty("field", name)
            self.live[name] = label
            self.addPermanentWidget(label)
        self.engine_details = ""
        """What the engine field stands for in full (shown in the details pane)."""
        self.details_pane: DetailsPane | None = None
        self.live["engine"].clicked.connect(self.show_engine_details)
        for field in (self.file, self.cabinets, self.selection, self.validation, self.mode):
            self.addPermanentWidget(field)
        self._doc: StageDocument | None = None
        self.jobs: list[JobProgress] = []
        """The long jobs shown now (``show_job``), newest first on the bar."""
        self.show_live(LiveStatus.stopped())

    def bind(self, document: StageDocument, rehearsal: bool) -> None:
        """Show ``document`` (replacing the previous one)."""
        if self._doc is not None:
            self._doc.selection_changed.disconnect(self._on_selection)
            self._doc.validation_changed.disconnect(self._on_validation)
            self._doc.project_changed.disconnect(self._on_project)
            self._doc.file_changed.disconnect(self._on_file)
        self._doc = document
        self.mode.setText("REHEARSAL" if rehearsal else "PROJECT")
        _restyle(self.mode, "mode", "rehearsal" if rehearsal else "project")
        document.selection_changed.connect(self._on_selection)
        document.validation_changed.connect(self._on_validation)
        document.project_changed.connect(self._on_project)
        document.file_changed.connect(self._on_file)
        self._on_file(document.path)
        self._on_project(None)
        self._on_selection(document.selection)
        self._on_validation(document.problems)

    def _on_file(self, path: Path | None) -> None:
        self.file.setText(str(path) if path else "untitled (save as to keep it)")

    def _on_project(self, _change: object) -> None:
        assert self._doc is not None
        self.cabinets.setText(f"{len(self._doc.layout.cabinets)} cabinets")

    def _on_selection(self, ids: frozenset[str]) -> None:
        self.selection.setText(f"{len(ids)} selected" if ids else "")

    def _on_validation(self, problems: list[Problem]) -> None:
        errors = sum(1 for p in problems if p.severity == "error")
        if errors:
            self.validation.setText(f"{errors} ERROR{'S' if errors > 1 else ''}")
            _restyle(self.validation, "state", "error")
        elif problems:
            self.validation.setText(f"{len(problems)} warning(s)")
            _restyle(self.validation, "state", "warning")
        else:
            self.validation.setText("VALID")
            _restyle(self.validation, "state", "ok")

    def show_live(self, status: LiveStatus) -> None:
        """The live engine's fields (GUI thread)."""
        for name in LIVE_FIELDS:
            value: LiveField = getattr(status, name)
            label = self.live[name]
            tooltip = value.details + ("\n\n(click for the details pane)" if name == "engine" and value.details
                                       else "")
            if label.full_text != value.text or label.details != tooltip:
                label.set_full_text(value.text, tooltip)
            if label.property("state") != value.state:
                _restyle(label, "state", value.state)
        self.engine_details = status.engine.details
        if self.details_pane is not None and self.details_pane.isVisible() and status.engine.details:
            self.details_pane.set_text(status.engine.details)

    def show_engine_details(self) -> None:
        """The details pane with everything behind the engine field (nothing when it says it all)."""
        text = self.engine_details
        if not text:
            return
        if self.details_pane is None:
            self.details_pane = DetailsPane("Engine", self.window())
        self.details_pane.show_text(text)

    def say(self, message: str) -> None:
        self.showMessage(message, MESSAGE_MS)

    def show_job(self, job: BackgroundJob) -> JobProgress:
        """``job``'s progress and Cancel, left of the permanent fields, until it ends; then what
        became of it as a message. Returned for tests."""
        progress = JobProgress(job, self)
        progress.ended.connect(lambda line: self._end_job(progress, line))
        self.insertPermanentWidget(0, progress)
        self.jobs.append(progress)
        return progress

    def _end_job(self, progress: JobProgress, line: str) -> None:
        self.jobs.remove(progress)
        self.removeWidget(progress)
        progress.deleteLater()
        self.say(line)
