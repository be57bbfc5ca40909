"""Widget rectangles of the console's Live and Edit workspaces, measured on a real X display.

    python tools/workspace_geometry.py --out geometry.json [--sizes 1920x1080,2560x1440] [--shots DIR]

For each window size, a fresh console window on the demo stage (fresh settings, so each workspace
comes as it does on a first start) is shown in the Live workspace, then in the Edit workspace, and
what matters to an operator is written down: every dock's rectangle and whether it is locked;
Health's table (column widths against its viewport, horizontal scroll bar) and plots; the
tracking readout (the room its text needs against the room it has); the take list's columns.
The tracking panel shows a real TrackingHub fed FreeD on loopback by the tracker simulator, so
the readout holds what it holds on a shoot. ``--shots`` also saves a PNG of each workspace.

Runs on the display in ``$DISPLAY`` (``tests/ui/test_workspace_geometry.py`` starts an Xvfb for
it); with no display it starts its own Xvfb like ``tools/screenshots.py``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Rect = list[int]


def _rect(widget: Any, window: Any) -> Rect:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def _settle(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _table(table: Any) -> dict[str, Any]:
    header = table.horizontalHeader()
    widths = [header.sectionSize(i) for i in range(header.count())]
    hints = [header.sectionSizeHint(i) for i in range(header.count())]
    return {"viewport_width": table.viewport().width(), "columns_width": sum(widths), "widths": widths,
            "header_hints": hints, "hscroll_visible": table.horizontalScrollBar().isVisible(),
            "rect": None}


def _scroll_area_of(widget: Any) -> Any:
    from PySide6.QtWidgets import QScrollArea

    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent


def _in_viewport(widget: Any) -> dict[str, Any]:
    """The widget's rectangle in its dock's scroll-area viewport, and that viewport's size."""
    area = _scroll_area_of(widget)
    viewport = area.viewport()
    top_left = widget.mapTo(viewport, widget.rect().topLeft())
    return {"rect": [top_left.x(), top_left.y(), widget.width(), widget.height()],
            "viewport": [viewport.width(), viewport.height()]}


def measure(window: Any) -> dict[str, Any]:
    panels = window.live_panels
    docks = {key: {"visible": dock.isVisible(), "hidden": dock.isHidden(), "floating": dock.isFloating(),
                   "rect": _rect(dock, window),
                   "locked": bool(getattr(dock.titleBarWidget(), "locked", False))}
             for key, dock in window.docks.items()}
    health, tracking, takes = panels.health, panels.tracking, panels.takes
    readout = tracking.readout
    return {
        "window": [window.width(), window.height()],
        "workspace": window.workspaces.current,
        "docks": docks,
        "stage_view": _rect(window.stage_view, window),
        "health": {"nodes": {**_table(health.nodes), **_in_viewport(health.nodes)},
                   "plots": {"visible": health.plots.isVisible(), **_in_viewport(health.plots)},
                   "panel": _in_viewport(health)},
        "tracking": {"readout_text": readout.text(), "readout_hint": [readout.sizeHint().width(),
                                                                      readout.sizeHint().height()],
                     "readout": _in_viewport(readout), "tab": tracking.tabs.currentIndex(),
                     "streams": _table(tracking.streams)},
        "takes": {**_table(takes.table), **_in_viewport(takes.table)},
        "preview": _in_viewport(panels.preview),
        "plan": _rect(window.plan, window),
        "map": _rect(window.map, window),
    }


class LoopbackTracking:
    """A real TrackingHub on an ephemeral loopback port, fed FreeD by the tracker simulator."""

    def __init__(self, project: Any, base_dir: Path) -> None:
        from devices.tracking import paths
        from devices.tracking.hub import TrackingHub
        from devices.tracking.simulator import FreeDEncoder, TrackerSimulator, UdpLink

        project = copy.deepcopy(project)
        for source in project.tracking:
            source.address = "udp://127.0.0.1:0"
        self.hub = TrackingHub(project, base_dir)
        errors = self.hub.start()
        if errors:
            raise RuntimeError(f"tracking did not start: {errors}")
        port = int(self.hub.receiver_health()[0].address.rsplit(":", 1)[1])
        self.simulator = TrackerSimulator(FreeDEncoder(), UdpLink("127.0.0.1", port), paths.orbit(), 60.0)
        self.simulator.start()

    def close(self) -> None:
        self.simulator.stop()
        self.simulator.link.close()
        self.hub.stop()


def measure_sizes(sizes: list[tuple[int, int]], shots: Path | None) -> list[dict[str, Any]]:
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ.setdefault("VPSTAGE_STAGE_VIEW", "software")  # the layout, not GL, is measured here
    from PySide6.QtWidgets import QApplication

    from ui.app import REHEARSAL_STAGE
    from ui.live.models import LiveModels
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.stage.document import StageDocument

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        template = StageDocument.open(REHEARSAL_STAGE, untitled=True)
        tracking = LoopbackTracking(template.project, template.base_dir)
        try:
            deadline = time.monotonic() + 10
            camera = template.project.cameras[0].name
            while tracking.hub.latest_sample(camera) is None and time.monotonic() < deadline:
                _settle(app, 0.05)
            for width, height in sizes:
                doc = StageDocument.open(REHEARSAL_STAGE, untitled=True)
                window = ConsoleWindow(doc, rehearsal=True, settings=console_settings(Path(tmp) / f"{width}.ini"),
                                       confirm=lambda _what: "discard")
                window.resize(width, height)
                window.show()
                models = LiveModels(hub=tracking.hub)
                window.live_panels.tracking.bind(models)
                window.live_panels.health.bind(models)
                for name in ("live", "edit"):
                    window.workspaces.switch(name)  # type: ignore[arg-type]
                    _settle(app, 0.5)
                    results.append(measure(window))
                    if shots is not None:
                        window.grab().save(str(shots / f"workspace_{name}_{width}x{height}.png"))
                window.live_panels.tracking.bind(None)
                window.live_panels.health.bind(None)
                window.close()
                window.deleteLater()
                _settle(app, 0.1)
        finally:
            tracking.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--sizes", default="1920x1080,2560x1440")
    parser.add_argument("--shots", type=Path)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
    server = None
    if not os.environ.get("DISPLAY"):
        from tools.screenshots import start_xvfb

        server = start_xvfb((max(w for w, _ in sizes), max(h for _, h in sizes)))
    try:
        if args.shots is not None:
            args.shots.mkdir(parents=True, exist_ok=True)
        results = measure_sizes(sizes, args.shots)  # type: ignore[arg-type]
        args.out.write_text(json.dumps(results, indent=1))
    finally:
        if server is not None:
            server.terminate()


if __name__ == "__main__":
    main()
