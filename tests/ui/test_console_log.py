"""The console's log file shares the CLI's library policy (``vpstage.logs``): chatty libraries held
back, python-osc's root-logged records dropped, Python warnings logged; ``close()`` undoes it."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

import pytest

from ui.live.console_log import ConsoleLog


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
