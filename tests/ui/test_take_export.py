"""A take export started from the Takes panel runs on a thread of its own: its progress advances in
the status bar as the writer reports frames, the file equals ``main.py takes export``'s, and Cancel
leaves nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.takes.synthetic import record_take
from ui.live.control_thread import ControlThread
from ui.live.take_export import take_export_job
from ui.live.takes_panel import TakesPanel
from ui.status_bar import ConsoleStatusBar
from vpstage.stage.document import StageDocument
from vpstage.takes import TakeLibrary, TakeRecorder, default_db_path
from vpstage.takes.exports import export_take

FRAMES = 600


@dataclass
class ExportRig:
    panel: TakesPanel
    status: ConsoleStatusBar
    db: Path


@pytest.fixture
def rig(qtbot: QtBot, demo_doc: StageDocument) -> Iterator[ExportRig]:
    assert demo_doc.path is not None
    db = default_db_path(demo_doc.path)  # where the panel reads a project's takes
    db.parent.mkdir(parents=True)
    with TakeRecorder(db) as recorder:
        record_take(recorder, "A001", FRAMES)
    control = ControlThread()
    panel, status = TakesPanel(demo_doc, control), ConsoleStatusBar()
    qtbot.addWidget(panel)
    qtbot.addWidget(status)
    panel.job_started.connect(status.show_job)
    yield ExportRig(panel, status, db)
    panel.detach()
    control.shutdown()


def test_an_export_shows_its_progress_advancing_and_writes_what_the_cli_writes(qtbot: QtBot, rig: ExportRig,
                                                                              tmp_path: Path) -> None:
    assert rig.panel.take_names() == ["A001_T01"]
    rig.panel.table.setCurrentCell(0, 0)
    job = rig.panel.export_take("csv", tmp_path / "A001_T01.csv")
    assert job is not None and [p.job for p in rig.status.jobs] == [job]
    progress = rig.status.jobs[0]
    shown: list[int] = []
    progress.bar.valueChanged.connect(shown.append)  # the job's reports are queued: none is shown yet
    qtbot.waitUntil(lambda: not rig.status.jobs, timeout=20_000)
    assert shown == sorted(set(shown)) and len(shown) > 10 and shown[-1] == FRAMES  # advancing, to the end
    assert rig.status.currentMessage() == f"wrote csv export of A001_T01 to {tmp_path / 'A001_T01.csv'}"
    library = TakeLibrary(rig.db)
    try:
        expected = export_take(library, "A001_T01", "csv", tmp_path / "cli.csv")
    finally:
        library.close()
    assert (tmp_path / "A001_T01.csv").read_bytes() == expected.read_bytes()


def test_cancel_stops_an_export_with_nothing_written(qtbot: QtBot, rig: ExportRig, tmp_path: Path) -> None:
    target = tmp_path / "cancelled.json"
    job = take_export_job(rig.db, 1, "A001_T01", "json", target)
    progress = rig.status.show_job(job)
    progress.cancel_button.click()  # before its first report: it stops there
    job.start()
    qtbot.waitUntil(lambda: not rig.status.jobs, timeout=20_000)
    assert rig.status.currentMessage() == "export A001_T01 (json) cancelled"
    assert not target.exists() and list(tmp_path.glob("*.tmp")) == [] and not job.running
