"""The real window under Xvfb (the xcb platform, the theme, real fonts): a failed engine start
keeps the top bar one line high and the stage view its room, with ENGINE FAILED on the alarm
strip; once a running engine stops, the previews keep their last pictures, greyed, each labelled
``stopped at HH:MM:SS``. Screenshots of both states are written beside the test's files (and to
``$VPSTAGE_SHOTS`` when set).

The window runs in a child process (this file run as a script): pytest's own Qt application is
offscreen, and a process has one Qt platform. The engine is a LiveRig (tests/ui/live_rig.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP_BAR_MAX_PX = 90
"""Menu bar and alarm strip together, with a failed start's 18 problems behind them."""
STOPPED_AT = re.compile(r"^stopped at \d\d:\d\d:\d\d$")


@pytest.fixture
def xvfb() -> Iterator[str]:
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    number = next(n for n in range(120, 160) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    server = subprocess.Popen([binary, f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)  # the server's socket appearing: nothing to wait on but the file system
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_failed_start_and_stopped_engine_on_a_real_display(xvfb: str, tmp_path: Path) -> None:
    env = dict(os.environ, DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
               VPSTAGE_CONFIG_DIR=str(tmp_path / "config"))
    result = subprocess.run([sys.executable, __file__, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    if "could not load the Qt platform plugin" in result.stderr:
        pytest.skip("Qt's xcb platform plugin cannot load here (missing system libraries: ./dev.sh check-qt)")
    assert result.returncode == 0, result.stderr
    shots = json.loads(result.stdout.strip().splitlines()[-1])
    assert shots["qt_warnings"] == []
    before, failed, stopped = shots["before"], shots["failed"], shots["stopped"]
    assert failed["state"] == "failed" and failed["banner"].endswith("ENGINE FAILED")
    assert failed["engine_field"] == "ENGINE FAILED" and str(failed["engine_label"]).startswith("engine: failed")
    assert failed["alarm_bar_visible"] and failed["menu_bar"] + failed["alarm_bar"] < TOP_BAR_MAX_PX
    assert failed["menu_bar"] <= before["menu_bar"] + 2
    assert failed["central_height"] >= before["central_height"] - failed["alarm_bar"] - 8
    assert failed["status_bar"] <= before["status_bar"] + 2
    assert stopped["state"] == "stopped" and len(stopped["labels"]) == 4  # three canvases and the camera view
    assert all(STOPPED_AT.match(label) for label in stopped["labels"]), stopped["labels"]
    assert stopped["tile_spread"] <= 6  # the stale thumbnails are drawn grey (red = green = blue)
    for name in ("failed_start.png", "stopped.png", "stopped_preview.png"):
        assert (tmp_path / name).stat().st_size > 10_000


# ---------------------------------------------------------------------------------------- child


def main(out: Path) -> int:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    warnings: list[str] = []

    def on_message(mode: QtMsgType, _context: object, message: str) -> None:
        print(f"qt: {message}", file=sys.stderr, flush=True)  # a fatal one (no xcb plugin) ends the process
        if mode != QtMsgType.QtDebugMsg and "propagateSizeHints" not in message:
            warnings.append(message)

    qInstallMessageHandler(on_message)
    app = QApplication(sys.argv[:1])  # Qt aborts here, saying so, when the xcb plugin cannot load
    return run_window(app, out, warnings)


def run_window(app: object, out: Path, warnings: list[str]) -> int:
    from tests.ui.live_rig import LIVE_STAGE, rig_factory
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.stage.document import StageDocument
    from vpstage.stage.map_edits import unmap_cabinets

    apply_theme(app)  # type: ignore[arg-type]
    doc = StageDocument.open(LIVE_STAGE)
    window = ConsoleWindow(doc, rehearsal=False, settings=console_settings(out / "console.ini"),
                           confirm=lambda _what: "discard", stage_backend="software",
                           engine_factory=rig_factory(out / "takes.sqlite"))
    window.resize(1400, 900)
    window.show()
    wait(app, lambda: window.isVisible(), 5)
    settle(app, 0.5)
    shots = {"before": geometry(window)}
    cabinets = list(doc.layout.cabinets.ids)
    window.editor.run(lambda: unmap_cabinets(doc.project, doc.layout, cabinets))
    window.live.start_engine()  # as rehearsal's start does: no Problems check in front of it
    wait(app, lambda: window.live.state == "failed", 15)
    settle(app, 0.6)
    window.grab().save(str(out / "failed_start.png"))
    shots["failed"] = geometry(window)
    window.stack.undo()
    window.live.start_engine()
    preview = window.live_panels.preview
    views = [*(tile.view for tile in preview.tiles.values()), preview.camera_view]
    wait(app, lambda: window.live.state == "running" and all(v.image is not None for v in views), 20)
    window.live.stop_engine()
    wait(app, lambda: window.live.state == "stopped", 15)
    settle(app, 0.6)
    window.grab().save(str(out / "stopped.png"))
    window.docks["preview"].grab().save(str(out / "stopped_preview.png"))
    tile = next(iter(preview.tiles.values())).view
    shots["stopped"] = {"state": window.live.state, "labels": [v.stale_label for v in views],
                        "tile_spread": grey_spread(tile)}
    shots["qt_warnings"] = warnings
    window.stack.setClean()
    window.close()
    copy_shots(out)
    print(json.dumps(shots))
    return 0


def geometry(window: object) -> dict[str, object]:
    w = window  # a ConsoleWindow
    return {"state": w.live.state, "menu_bar": w.menuBar().height(),  # type: ignore[attr-defined]
            "alarm_bar_visible": w.alarm_bar.isVisible(), "alarm_bar": w.alarm_bar.height(),  # type: ignore[attr-defined]
            "banner": w.banner.title.text(), "engine_label": w.engine_state.text().strip(),  # type: ignore[attr-defined]
            "engine_field": w.status.live["engine"].full_text,  # type: ignore[attr-defined]
            "central_height": w.centralWidget().height(), "status_bar": w.statusBar().height()}  # type: ignore[attr-defined]


def grey_spread(view: object) -> int:
    """The largest difference between a pixel's colour channels inside the drawn picture."""
    image = view.grab().toImage()  # type: ignore[attr-defined]
    rect = view.image_rect().toRect()  # type: ignore[attr-defined]
    spread = 0
    for y in range(rect.top() + 2, rect.bottom() - 2, 3):
        for x in range(rect.left() + 2, rect.right() - 2, 3):
            c = image.pixelColor(x, y)
            if abs(y - rect.center().y()) > 12:  # not the label in the middle
                spread = max(spread, max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()))
    return spread


def settle(app: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def wait(app: object, condition: Callable[[], bool], timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        settle(app, 0.05)


def copy_shots(out: Path) -> None:
    target = os.environ.get("VPSTAGE_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for png in out.glob("*.png"):
            shutil.copy(png, Path(target) / png.name)


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="vpstage-screens-"))
    sys.exit(main(folder))
