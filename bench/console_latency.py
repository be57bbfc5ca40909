"""Qt event-loop latency with the console window open (the console must never stall).

    python -m bench.console_latency [--seconds 4] [--interval-ms 5] [--stage demo large_volume]

A precise single-shot QTimer is armed for ``interval`` again and again; each time it fires, how
late it fired is one sample of event-loop latency: the time any other work kept the GUI thread
busy. Scenarios, each on a freshly opened window:

* ``idle``: the window open, nothing happening;
* ``selection 30 Hz``: the shared selection changes 30 times a second (every view repaints its
  marks: 3D view, wall plan, pixel map, section panel, status bar);
* ``orbit 60 Hz``: the 3D view's camera turns 60 times a second (a full 3D redraw each time).

The 3D view uses OpenGL when the platform offers it (run under Xvfb or a desktop), else the
software backend (offscreen).

With the live engine running (``--live patterns rehearsal``, see ``bench/console_live.py``): the
same probe while the engine runs in the console's process (240 Hz tracking and four canvases
previewing; then the CPU rehearsal ``python main.py`` runs), plus the live-views worker's step
times and the GUI-thread cost of the preview and health refreshes. ``--stage`` with no names
skips the editor scenarios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import machine, print_table

STAGES = Path(__file__).resolve().parents[1] / "configs" / "stages"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(app: object, seconds: float, interval_ms: int, load: Callable[[], None] | None,
            load_period_ms: int) -> tuple[list[float], list[float]]:
    """Timer lateness samples (ms) and durations of the load callback (ms) over ``seconds``."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    lateness: list[float] = []
    load_ms: list[float] = []
    armed = [time.perf_counter()]
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setSingleShot(True)

    def tick() -> None:
        now = time.perf_counter()
        lateness.append((now - armed[0]) * 1000.0 - interval_ms)
        armed[0] = now
        probe.start(interval_ms)

    def run_load() -> None:
        start = time.perf_counter()
        assert load is not None
        load()
        load_ms.append((time.perf_counter() - start) * 1000.0)

    probe.timeout.connect(tick)
    worker = QTimer()
    worker.setTimerType(Qt.TimerType.PreciseTimer)
    if load is not None:
        worker.timeout.connect(run_load)
        worker.start(load_period_ms)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    armed[0] = time.perf_counter()
    probe.start(interval_ms)
    loop.exec()
    probe.stop()
    worker.stop()
    return lateness, load_ms


def run_stage(name: str, seconds: float, interval_ms: int) -> list[list[object]]:
    from PySide6.QtWidgets import QApplication

    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.stage.document import StageDocument

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)  # type: ignore[arg-type]
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        doc = StageDocument.open(STAGES / f"{name}.yaml", untitled=True)
        window = ConsoleWindow(doc, rehearsal=True, settings=console_settings(Path(tmp) / "c.ini"),
                               confirm=lambda _what: "discard")
        window.resize(1600, 960)
        window.show()
        measure(app, 1.0, interval_ms, None, 0)  # settle: first paints, validation
        sections = [doc.section_cabinets([s.name]) for s in doc.project.sections]
        step = [0]

        def select_next() -> None:
            step[0] += 1
            doc.select(sections[step[0] % len(sections)][: 1 + step[0] % 7])

        def orbit() -> None:
            window.stage_view.set_camera(window.stage_view.camera.orbited(1.5, 0.0))

        scenarios: list[tuple[str, Callable[[], None] | None, int]] = [
            ("idle", None, 0), ("selection 30 Hz", select_next, 33), ("orbit 60 Hz", orbit, 16)]
        for label, load, period in scenarios:
            late, work = measure(app, seconds, interval_ms, load, period)
            rows.append([name, len(doc.layout.cabinets), window.stage_view.backend_name.split()[0], label, len(late),
                         statistics.median(late), _percentile(late, 0.99), max(late),
                         statistics.median(work) if work else "-"])
        window.stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()  # type: ignore[attr-defined]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per scenario")
    parser.add_argument("--interval-ms", type=int, default=5, help="probe timer interval")
    parser.add_argument("--stage", nargs="*", default=["demo", "large_volume"])
    parser.add_argument("--live", nargs="*", default=["patterns", "rehearsal"], choices=["patterns", "rehearsal"],
                        help="live-engine scenarios on the demo stage (none: skip)")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = []
    for name in args.stage:
        rows += run_stage(name, args.seconds, args.interval_ms)
    platform = os.environ.get("QT_QPA_PLATFORM", "default")
    if rows:
        print_table(f"Console event-loop latency, {args.interval_ms} ms probe, Qt platform {platform}, {machine()}",
                    ["stage", "cabinets", "3D view", "scenario", "ticks", "late p50 ms", "late p99 ms", "late max ms",
                     "load p50 ms"], rows)
    if args.live:
        from PySide6.QtWidgets import QApplication

        from bench.console_live import HEADERS, run_live
        from ui.theme import apply_theme

        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_theme(app)  # type: ignore[arg-type]
        names = {"patterns": "patterns 240 Hz", "rehearsal": "rehearsal"}
        live = [run_live(app, STAGES / "demo.yaml", names[n], args.seconds, args.interval_ms, measure)
                for n in args.live]
        print_table(f"Console event-loop latency with the live engine running (demo stage, preview shown), "
                    f"{args.interval_ms} ms probe, Qt platform {platform}, {machine()}", HEADERS, live)


if __name__ == "__main__":
    main()
