"""Screenshots of the real console window, taken under Xvfb with OpenGL (Mesa llvmpipe).

    python tools/screenshots.py [--out docs/screenshots] [--size 1920x1080]

Needs Xvfb and the X libraries Qt's xcb plugin loads (Debian/Ubuntu):
``apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0``. When DISPLAY is unset the
script starts its own Xvfb server and stops it at the end. The window uses a temporary settings
file, so the shots never depend on (or change) your saved panel layout.

Shots, both workspaces at the window size asked for (default 1920x1080), every panel where the
workspace puts it (nothing enlarged or floated for the shot):

- Edit workspace on the demo stage: the whole console (a section selected), the 3D stage view,
  the wall plan, the pixel map with a live validation marker (one cabinet dragged onto a
  neighbour); then a section that does not fit the canvases: the Problems panel's grouped row with
  its fixes, the auto-layout advice box, and the Canvases panel once the canvas is added.
- Live workspace, rehearsal with the engine running (simulated tracker on loopback, demo scene,
  NDI senders on this machine): the whole window, the stage view with the tracked camera's
  frustum, its footprint on the wall and the nodes' DoD crops, the live preview with the camera
  view, the health, tracking and takes panels, and the alarm banner once the simulated tracker is
  stopped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_xvfb(size: tuple[int, int]) -> subprocess.Popen[bytes] | None:
    """Start Xvfb on a free display number and export DISPLAY; None when a display exists."""
    if os.environ.get("DISPLAY"):
        return None
    binary = shutil.which("Xvfb")
    if binary is None:
        sys.exit("Xvfb not found: apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0")
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    server = subprocess.Popen([binary, f":{number}", "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            sys.exit("Xvfb did not start")
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{number}"
    return server


def settle(app: object, seconds: float = 0.6) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def take(out: Path, size: tuple[int, int]) -> list[Path]:
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    # Xvfb only offers Mesa's software GL, where the console would pick its QPainter backend;
    # the shots show the OpenGL view a GPU workstation gets.
    os.environ.setdefault("VPSTAGE_STAGE_VIEW", "gl")
    from PySide6.QtCore import QRectF
    from PySide6.QtWidgets import QApplication

    from ui.app import REHEARSAL_STAGE
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.stage.document import StageDocument
    from vpstage.stage.map_edits import MapPlacement, move_map_rects

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # type: ignore[arg-type]
    doc = StageDocument.open(REHEARSAL_STAGE, untitled=True)
    with tempfile.TemporaryDirectory() as tmp:
        window = ConsoleWindow(doc, rehearsal=True, settings=console_settings(Path(tmp) / "console.ini"),
                               confirm=lambda _what: "discard")
        window.resize(*size)
        window.show()
        window.workspaces.switch("edit")
        settle(app)
        window.act.view.frame_all()
        doc.select(doc.section_cabinets(["wall-centre"]))
        settle(app)
        saved = []
        print(f"stage view backend: {window.stage_view.backend_name} ({window.stage_view.backend_reason})")

        def shot(widget: object, name: str) -> None:
            path = out / name
            widget.grab().save(str(path))  # type: ignore[attr-defined]
            saved.append(path)

        shot(window, "console.png")
        shot(window.stage_view, "stage_view.png")
        shot(window.docks["plan"], "wall_plan.png")
        cabinet = "wall-left/c13r05"
        window.editor.run(lambda: move_map_rects(doc.project, doc.layout,
                                                 {cabinet: MapPlacement("wall-left", 1700, 600)}))
        doc.select([cabinet])
        settle(app, 0.8)
        window.docks["map"].raise_()
        settle(app)
        shot(window.docks["map"], "pixel_map.png")
        spot = window.map.items_by_id[cabinet].pos()
        window.map.fit_rect(QRectF(spot.x() - 700, spot.y() - 330, 1100, 560))  # zoom onto the problem
        settle(app)
        shot(window.docks["map"], "pixel_map_problem.png")
        shot(window, "console_problem.png")
        saved += shoot_fixes(app, window, out)
        window.stack.setClean()
        window.close()
    return saved


def shoot_fixes(app: Any, window: Any, out: Path) -> list[Path]:
    """A section that does not fit the canvases: the grouped problem, the advice, the new canvas."""
    from vpstage.stage.edits import add_section, new_section_at

    doc = window.document
    window.stack.undo()  # the overlap goes; a fifth wall nobody mapped comes
    window.editor.run(lambda: add_section(doc.project, new_section_at(doc.project, doc.catalog, "absen-pl3.9-pro",
                                                                      (0.0, -3.5), layout=doc.layout)))
    window.docks["problems"].raise_()
    settle(app, 0.8)
    saved = [out / "problems_grouped.png"]
    window.docks["problems"].grab().save(str(saved[-1]))
    box = window.act.fixes.run_auto_layout()
    if box is not None:
        settle(app, 0.5)
        saved.append(out / "auto_layout_advice.png")
        box.grab().save(str(saved[-1]))
        box.close()
    window.act.fixes.add_canvas()
    settle(app, 0.8)
    saved.append(out / "canvases.png")
    window.docks["canvases"].grab().save(str(saved[-1]))
    return saved


def wait_for(app: object, condition: object, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return True
        settle(app, 0.1)
    return False


def take_live(out: Path, size: tuple[int, int]) -> list[Path]:
    """Rehearsal with the engine running (see the module docstring). Its own process: pyqtgraph's
    GL items keep shader programs that a second GL window in the same process cannot use."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("VPSTAGE_STAGE_VIEW", "gl")
    tmp = Path(tempfile.mkdtemp(prefix="vpstage-shots-"))
    os.environ["VPSTAGE_CONFIG_DIR"] = str(tmp / "config")  # rehearsal takes and CPU stage go here
    from PySide6.QtWidgets import QApplication

    from ui.app import REHEARSAL_STAGE
    from ui.live.engine_factory import live_engine_factory
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.stage.document import StageDocument

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # type: ignore[arg-type]
    doc = StageDocument.open(REHEARSAL_STAGE, untitled=True)
    window = ConsoleWindow(doc, rehearsal=True, settings=console_settings(tmp / "live.ini"),
                           confirm=lambda _what: "discard", engine_factory=live_engine_factory(True))
    window.resize(*size)
    window.show()
    window.workspaces.switch("live")
    settle(app)
    window.live.start_engine()
    if not wait_for(app, lambda: window.live.state == "running", 120):
        sys.exit(f"the engine did not start: {window.live.state}")
    preview = window.live_panels.preview
    wait_for(app, lambda: preview.camera_view.image is not None and "footprint" in window.stage_view.layers, 60)
    settle(app, 8.0)  # a few scene frames on the CPU
    saved = []

    def shot(widget: object, name: str) -> None:
        path = out / name
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        saved.append(path)

    shot(window, "console_live.png")
    shot(window.stage_view, "stage_live.png")
    shot(window.docks["preview"], "preview_live.png")
    shot(window.docks["health"], "health_live.png")  # in place: the Live workspace gives it room
    shot(window.docks["tracking"], "tracking_live.png")
    takes = window.live_panels.takes
    takes.slate.setText("A001")
    takes.scene.setText("12A")
    takes.toggle_recording()
    wait_for(app, lambda: takes.recording is not None, 10)
    settle(app, 2.0)
    takes.toggle_recording()
    wait_for(app, lambda: takes.recording is None and takes.table.rowCount() > 0, 10)
    takes.toggle_recording()  # a second take, still recording in the shot
    wait_for(app, lambda: takes.recording is not None, 10)
    settle(app, 1.5)
    shot(window.docks["takes"], "takes_live.png")
    simulator = getattr(window.live.engine, "simulator", None)
    if simulator is not None:  # the tracker goes silent: the alarm banner
        simulator.stop()
        wait_for(app, lambda: window.banner.isVisible() and bool(window.banner.alarms), 10)
        settle(app, 1.0)
        shot(window, "console_alarm.png")
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--child", choices=["editors", "live"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:  # the Qt side, on the display the parent prepared
        for path in (take if args.child == "editors" else take_live)(args.out, (w, h)):
            print(f"saved {path}")
        return
    server = start_xvfb((w, h))
    try:  # Qt runs in children so it is gone before the X server stops
        for child in ("editors", "live"):
            cmd = [sys.executable, __file__, "--child", child, "--out", str(args.out), "--size", args.size]
            code = subprocess.call(cmd)
            if code:
                sys.exit(code)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
