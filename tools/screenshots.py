"""Screenshots of the real console window, taken under Xvfb with OpenGL (Mesa llvmpipe).

    python tools/screenshots.py [--out docs/screenshots] [--size 1920x1080]

Needs Xvfb and the X libraries Qt's xcb plugin loads (Debian/Ubuntu):
``apt-get install xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0``. When DISPLAY is unset the
script starts its own Xvfb server and stops it at the end. The window uses a temporary settings
file, so the shots never depend on (or change) your saved panel layout.

Shots: the whole console on the demo stage (a section selected), the 3D stage view, the wall
plan, and the pixel map with a live validation marker (one cabinet dragged onto a neighbour).
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
        settle(app)
        window.act.frame_all()
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
        window.stack.setClean()
        window.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:  # the Qt side, on the display the parent prepared
        for path in take(args.out, (w, h)):
            print(f"saved {path}")
        return
    server = start_xvfb((w, h))
    try:  # Qt runs in a child so it is gone before the X server stops
        cmd = [sys.executable, __file__, "--child", "--out", str(args.out), "--size", args.size]
        sys.exit(subprocess.call(cmd))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
