"""The console with the live engine running: event-loop latency and the GUI thread's own live work.

Used by ``python -m bench.console_latency --live ...``. Scenarios, each on a fresh window on the
demo stage (4 canvases, the live preview dock raised so every thumbnail, the large view and the
camera view are drawn), after the engine has run a few seconds:

* ``patterns 240 Hz``: LiveEngine with the FreeD simulator at 240 Hz on loopback, the moving
  ``sync`` test pattern on all four 1920 x 1080 canvases (every frame is new, so every preview
  thumbnail the console asks the nodes for is fresh), no outputs;
* ``rehearsal``: what ``python main.py`` runs here (CPU stage: the demo scaled 8x, the demo
  scene rendered by two CPU render-node processes, 60 Hz FreeD, NDI senders in the nodes).

Render nodes run as the project says (``cluster.backend``: one local process per node for the
demo stage) unless ``run_live(..., cluster=...)`` overrides it (``local``, ``ray``, ``threads``).
Canvas pictures reach the console only as preview thumbnails the live views ask for
(``loop.previews``), so the GUI's live work no longer grows with the canvases' size.

Besides the timer lateness it reports, from the same run, the live-views worker's step times
(off the GUI thread: stage overlays, camera view, preview pictures) and the GUI-thread cost of
one health refresh.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import time_call

SETTLE_S = 6.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def with_backend(factory: Callable[..., Any], cluster: str | None) -> Callable[..., Any]:
    """``factory`` building its engine on a project whose ``cluster.backend`` is ``cluster``
    (None: as the project says)."""
    if cluster is None:
        return factory

    def build(project: Any, base_dir: Path, path: Path | None) -> Any:
        backend = project.cluster.model_copy(update={"backend": cluster})
        return factory(project.model_copy(update={"cluster": backend}), base_dir, path)

    return build


def pattern_engine_factory(rate_hz: float) -> Callable[..., Any]:
    def build(project: Any, base_dir: Path, _path: Path | None) -> Any:
        from live import LiveEngine, LiveOptions
        from vpstage.patterns import PatternSpec
        from vpstage.stage import Stage

        engine = LiveEngine(Stage.from_project(project, base_dir),
                            LiveOptions(rehearsal=True, simulate_rate_hz=rate_hz, scene_renderer=None,
                                        outputs="none"))
        engine.set_pattern(None, PatternSpec(name="sync"))
        return engine

    return build


def _wait(app: Any, condition: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        app.processEvents()
        time.sleep(0.01)
    return False


def run_live(app: Any, stage_file: Path, scenario: str, seconds: float, interval_ms: int,
             measure: Callable[..., tuple[list[float], list[float]]], cluster: str | None = None) -> list[Any]:
    """One scenario; returns a table row. ``cluster``: the render nodes' backend (None: the project's)."""
    import os

    from ui.live.engine_factory import live_engine_factory
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from vpstage.stage.document import StageDocument

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VPSTAGE_CONFIG_DIR"] = tmp  # rehearsal takes and the CPU stage
        factory = with_backend(pattern_engine_factory(240.0) if scenario == "patterns 240 Hz"
                               else live_engine_factory(True), cluster)
        doc = StageDocument.open(stage_file, untitled=True)
        window = ConsoleWindow(doc, rehearsal=True, settings=console_settings(Path(tmp) / "c.ini"),
                               confirm=lambda _what: "discard", engine_factory=factory)
        window.resize(1600, 960)
        window.show()
        window.live.start_engine()
        if not _wait(app, lambda: window.live.state == "running", 120):
            raise RuntimeError(f"the engine did not start: {window.live.state}")
        window.docks["preview"].raise_()
        measure(app, SETTLE_S, interval_ms, None, 0)  # first frames, first renders, caches
        engine = window.live.engine
        frames0, t0 = engine.loop.history.frames, time.monotonic()
        late, _ = measure(app, seconds, interval_ms, None, 0)
        fps = (engine.loop.history.frames - frames0) / (time.monotonic() - t0)
        backend = engine.options.cluster or engine.stage.project.cluster.backend
        tracking = engine.tracking.stream_health()
        rate = tracking[0].rate_hz if tracking else float("nan")
        timings = window.live.views.timings()
        preview, health = window.live_panels.preview, window.live_panels.health
        if not preview.isVisible() or any(t.view.image is None for t in preview.tiles.values()):
            raise RuntimeError("the live preview is not showing every canvas; the figures would not mean much")
        health_ms = time_call(health.refresh, repeat=30)
        window.stack.setClean()
        window.close()
        window.deleteLater()
        app.processEvents()
    return [scenario, backend, len(late), statistics.median(late), _percentile(late, 0.99), max(late), f"{fps:.1f}",
            f"{rate:.0f}", statistics.median(timings["overlays_ms"]), statistics.median(timings["camera_view_ms"]),
            statistics.median(timings["previews_ms"]), statistics.median(health_ms)]


HEADERS = ["scenario", "cluster", "ticks", "late p50 ms", "late p99 ms", "late max ms", "loop fps", "tracking Hz",
           "overlays ms (worker)", "camera view ms (worker)", "previews ms (worker)", "health refresh ms (GUI)"]
