"""The console's log file shares the CLI's library policy (``vpstage.logs``): chatty libraries held
back, python-osc's root-logged records dropped, Python warnings logged; ``close()`` undoes it. It lives
in the project's folder and rotates; Help names it."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ui.help_actions import HelpActions
from ui.live.console_log import BACKUPS, ConsoleLog


def test_libraries_are_throttled_and_warnings_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pythonosc.osc_message import OscMessage

    # python-osc as the library leaves it, whatever devices.tracking.osc_log.install() did earlier
    root, osc = logging.getLogger(), logging.getLogger("pythonosc")
    monkeypatch.setattr(root, "filters", [])
    osc_level = osc.level
    osc.setLevel(logging.NOTSET)

    terminal = io.StringIO()
    log = ConsoleLog(tmp_path / "logs" / "console.log", terminal).install()
    try:
        logging.getLogger("aiortc.rtcdtlstransport").info("dtls chatter")
        logging.getLogger("aioice").warning("ice trouble")
        OscMessage(b"/cam\x00\x00\x00\x00,Q\x00\x00")  # python-osc logs "Unhandled parameter type" on root
        logging.getLogger("ui.test").info("ours")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn_explicit("old api", DeprecationWarning, "numba/core.py", 3)
    finally:
        log.close()
        osc.setLevel(osc_level)
    logged = log.path.read_text()
    assert "INFO [MainThread] ui.test: ours" in logged and "WARNING [MainThread] aioice: ice trouble" in logged
    assert "dtls chatter" not in logged and "Unhandled parameter type" not in logged
    assert "py.warnings: numba/core.py:3: DeprecationWarning: old api" in logged
    assert terminal.getvalue() == ""  # warnings are not the terminal's
    assert logging.getLogger("aiortc").level == logging.NOTSET  # close() gave the levels back


def test_the_log_file_rotates_in_the_project_folder_and_help_names_it(qtbot: QtBot, tmp_path: Path) -> None:
    """What ``run_console`` installs for a project: ``<project folder>/logs/console.log``, created with the
    first record, rotated at its size with ``BACKUPS`` older files kept; Help names it and opens its folder."""
    host = QWidget()
    qtbot.addWidget(host)
    log = ConsoleLog.for_document(tmp_path / "show" / "stage.yaml", io.StringIO(), max_bytes=4000)
    help_actions = HelpActions(host, lambda: log.path)
    assert log.path == tmp_path / "show" / "logs" / "console.log" and str(log.path) in help_actions.about_text()
    log.install()
    try:
        with qtbot.waitSignal(help_actions.message, timeout=1000) as said:
            assert not help_actions.show_log_folder()  # nothing logged yet: no folder written into the project
        assert said.args == [f"nothing logged yet: the log will be {log.path}"] and not log.path.parent.exists()
        for i in range(200):
            logging.getLogger("ui.test").info("record %03d %s", i, "x" * 80)
    finally:
        log.close()
    files = sorted(log.path.parent.iterdir())
    assert [f.name for f in files] == ["console.log"] + [f"console.log.{n}" for n in range(1, BACKUPS + 1)]
    assert all(0 < f.stat().st_size <= 4000 for f in files)
    assert log.path.read_text().rstrip().endswith("INFO [MainThread] ui.test: record 199 " + "x" * 80)
    assert not any("record 000" in f.read_text() for f in files)  # the oldest rotated away
