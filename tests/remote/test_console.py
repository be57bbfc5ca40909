"""The console serves the same API: actions reach the engine through the console's own command
path on the GUI thread (the panels show them; the delay is one undoable edit)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from live import LiveEngine, LiveOptions
from remote.console import serve_console
from remote.server import WebServer, WebSettings
from remote.tokens import TOKENS_FILE, TokenStore
from ui.main_window import ConsoleWindow
from ui.settings import console_settings
from vpstage.stage import Stage
from vpstage.stage.document import StageDocument

ROOT = Path(__file__).resolve().parents[2]
LIVE_STAGE = ROOT / "tests" / "ui" / "fixtures" / "live_stage.yaml"
CATALOG = ROOT / "tests" / "engine" / "fixtures" / "tiny_panels.yaml"
WAIT_MS = 30_000
pytestmark = [pytest.mark.qt, pytest.mark.network]


@pytest.fixture
def console(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[ConsoleWindow, WebServer, str]]:
    stage = tmp_path / "live_stage.yaml"
    stage.write_text(LIVE_STAGE.read_text().replace("../../engine/fixtures/tiny_panels.yaml", str(CATALOG)))

    def factory(project: object, base_dir: Path, _path: Path | None) -> LiveEngine:
        return LiveEngine(Stage.from_project(project, base_dir),  # type: ignore[arg-type]
                          LiveOptions(rehearsal=True, simulate="static", scene_renderer=None, outputs="none",
                                      takes_db=tmp_path / "takes.sqlite", gpu_telemetry=False, cluster="threads"))

    window = ConsoleWindow(StageDocument.open(stage), rehearsal=False, settings=console_settings(tmp_path / "c.ini"),
                           confirm=lambda _what: "discard", stage_backend="software", engine_factory=factory)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    token = TokenStore(tmp_path / TOKENS_FILE).create("operator")
    server = serve_console(window, WebSettings())
    try:
        yield window, server, token
    finally:
        server.stop()
        window.live.shutdown()
        window.stack.setClean()


def call(qtbot: QtBot, server: WebServer, token: str, path: str, body: Any = None) -> tuple[int, Any]:
    """An HTTP request from another thread while this (the GUI) thread runs Qt's events."""

    def request() -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(server.url + path.lstrip("/"), data=data,
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    with ThreadPoolExecutor(1) as pool:
        future: Future[tuple[int, Any]] = pool.submit(request)
        qtbot.waitUntil(future.done, timeout=WAIT_MS)
        return future.result()


def test_the_console_does_the_apis_actions_through_its_own_widgets(
        qtbot: QtBot, console: tuple[ConsoleWindow, WebServer, str]) -> None:
    window, server, token = console
    assert call(qtbot, server, token, "/api/status")[1]["engine"] == "stopped"
    assert call(qtbot, server, token, "/api/pattern", {"pattern": "grid"})[0] == 409  # no engine yet
    assert call(qtbot, server, token, "/api/engine/start", {})[0] == 200
    qtbot.waitUntil(lambda: window.live.state == "running", timeout=WAIT_MS)
    engine = window.live.engine
    status, body = call(qtbot, server, token, "/api/pattern", {"canvas": "side", "pattern": "bars"})
    assert status == 200, body
    assert engine.planner.pattern_for("side").name == "bars"
    assert window.live_panels.preview.tiles["side"].pattern.currentText() == "Bars"  # the console shows it
    # the delay: live on the hub, and one undoable edit of the document
    assert call(qtbot, server, token, "/api/tracking/delay", {"camera": "A", "ms": 33.0})[0] == 200
    assert engine.tracking.delay_ms("A") == pytest.approx(33.0)
    assert window.document.project.cameras[0].delay_ms == 33.0
    before = window.stack.index()
    window.stack.undo()  # Edit > Undo: the document and the running hub go back
    assert window.stack.index() == before - 1
    previous = window.document.project.cameras[0].delay_ms
    assert previous != 33.0
    qtbot.waitUntil(lambda: engine.tracking.delay_ms("A") == pytest.approx(previous), timeout=WAIT_MS)
    status, body = call(qtbot, server, token, "/api/take/start", {"slate": "B007"})
    assert status == 200 and body["result"]["take"]["name"] == "B007_T01"
    qtbot.waitUntil(lambda: window.live_panels.takes.recording is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: engine.recorder.stats().frames_accepted > 3, timeout=WAIT_MS)
    status, body = call(qtbot, server, token, "/api/take/stop", {})
    assert status == 200 and body["result"]["take"]["status"] == "complete"
    qtbot.waitUntil(lambda: window.live_panels.takes.take_names() == ["B007_T01"], timeout=WAIT_MS)
    assert call(qtbot, server, token, "/api/tracking/delay", {"camera": "A", "ms": -3})[0] == 422
    assert call(qtbot, server, token, "/api/engine/stop", {})[0] == 200
    qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
