"""The console with a live engine: start and stop it, see the canvases and the camera view, the
tracked camera in the 3D view, alarms when the tracker goes silent, test patterns, takes.

The engine is a LiveRig (tests/ui/live_rig.py): real TrackingHub, TrackerSimulator (FreeD on
127.0.0.1), FrameLoop with render nodes on threads, TakeRecorder. Canvas pictures are the nodes'
preview thumbnails, which come once the console asks for them (``loop.previews``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from devices.tracking import paths
from tests.conftest import STAGES
from tests.ui.conftest import make_window
from tests.ui.live_rig import LIVE_STAGE, LiveRig, rig_factory
from ui import file_actions
from ui.main_window import ConsoleWindow
from vpstage.stage.document import StageDocument

WAIT_MS = 8000
CLOSE_UP = paths.static(eye=(0.0, 0.9, 1.48), target=(0.0, 2.0, 1.48))
"""1.1 m from the front wall: the 35 mm view and its overscan land wholly on it."""


@pytest.fixture
def live_window(qtbot: QtBot, tmp_path: Path) -> Iterator[ConsoleWindow]:
    factory = rig_factory(tmp_path / "takes" / "takes.sqlite", path=CLOSE_UP)
    window = make_window(qtbot, StageDocument.open(LIVE_STAGE), tmp_path / "console.ini", engine_factory=factory)
    window.factory_built = factory.built  # type: ignore[attr-defined]
    yield window
    window.live.shutdown()
    for rig in factory.built:
        assert rig.stopped


def _start(qtbot: QtBot, window: ConsoleWindow) -> LiveRig:
    assert window.act.start_engine.isEnabled() and not window.act.stop_engine.isEnabled()
    window.act.start_engine.trigger()
    qtbot.waitUntil(lambda: window.live.state == "running", timeout=WAIT_MS)
    rig: LiveRig = window.factory_built[-1]  # type: ignore[attr-defined]
    return rig


def test_engine_start_shows_the_wall_the_camera_and_its_frustum_then_stop(qtbot: QtBot,
                                                                          live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    assert window.act.stop_engine.isEnabled() and window.act.record.isEnabled()
    preview = window.live_panels.preview
    qtbot.waitUntil(lambda: all(t.view.image is not None for t in preview.tiles.values()), timeout=WAIT_MS)
    assert set(preview.tiles) == {"front-a", "front-b", "side"}
    qtbot.waitUntil(lambda: {"camera", "footprint", "crops"} <= set(window.stage_view.layers), timeout=WAIT_MS)
    footprint = window.stage_view.layers["footprint"]
    assert np.allclose(footprint.points[:, 1], 2.0, atol=1e-5)  # traced on the front wall's plane (y = 2 m)
    camera = window.stage_view.layers["camera"].points
    assert np.allclose(camera.min(axis=0)[1], 0.9, atol=0.01)  # the pyramid starts at the tracked eye
    qtbot.waitUntil(lambda: preview.camera_view.image is not None, timeout=WAIT_MS)
    view = preview.camera_view.image
    assert view is not None and view.width() == 480
    centre = view.pixelColor(view.width() // 2, view.height() // 2)
    assert (centre.red(), centre.green(), centre.blue()) != (7, 8, 11)  # the wall, not the off-wall colour
    qtbot.waitUntil(lambda: window.status.live["tracking"].text().startswith("TRK") and
                    window.status.live["tracking"].property("state") == "ok", timeout=WAIT_MS)
    assert window.status.live["lock"].text() in ("LOCKED", "LATE FRAMES", "DROPPED")
    # frame statistics close after the nodes report (a few frames after each frame's tick)
    qtbot.waitUntil(lambda: window.status.live["timecode"].text().startswith("00:00:"), timeout=WAIT_MS)
    window.act.stop_engine.trigger()
    qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
    assert rig.stopped and rig.loop.join(0)
    assert "camera" not in window.stage_view.layers and "footprint" not in window.stage_view.layers
    assert window.status.live["engine"].text() == "ENGINE STOPPED"
    assert all(t.view.image is None for t in preview.tiles.values())
    assert window.act.start_engine.isEnabled() and not window.act.record.isEnabled()


def test_opening_another_project_stops_the_engine(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    assert file_actions.open_project(window, STAGES / "flat_wall.yaml")
    qtbot.waitUntil(lambda: window.live.state == "stopped" and rig.stopped, timeout=WAIT_MS)
    assert window.live.document is window.document and window.live_panels.preview.tiles.keys() == {"main"}
    assert window.status.live["engine"].text() == "ENGINE STOPPED"


def test_an_alarm_appears_when_the_tracker_goes_silent(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    qtbot.waitUntil(lambda: not any(a.key == "tracking:A" for a in window.live.alarms)
                    and rig.tracking.latest_sample("A") is not None, timeout=WAIT_MS)
    assert rig.simulator is not None
    rig.simulator.stop()
    # other alarms may come and go meanwhile (late frames on a busy machine); tracking loss outranks them
    qtbot.waitUntil(lambda: window.banner.isVisible() and any(a.key == "tracking:A" for a in window.banner.alarms),
                    timeout=WAIT_MS)
    top = window.banner.alarms[0]
    assert (top.key, top.severity, top.title) == ("tracking:A", "critical", "TRACKING LOST")
    assert window.banner.title.text().endswith("TRACKING LOST") and window.alarm_bar.isVisible()
    health_alarms = window.live_panels.health.alarms
    assert health_alarms.item(0).text().startswith("TRACKING LOST")
    assert window.status.live["tracking"].property("state") == "error"
    window.live_panels.tracking.refresh()
    qtbot.waitUntil(lambda: window.live_panels.tracking.streams.state_of("sim") == "LOST", timeout=WAIT_MS)


def test_test_pattern_controls_change_what_the_canvases_show(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    tile = window.live_panels.preview.tiles["front-b"]
    assert tile.pattern.currentText() == "Cabinets" and not tile.pattern.model().item(0).isEnabled()  # no scene
    tile.pattern.setCurrentText("Bars")
    tile.pattern.activated.emit(tile.pattern.currentIndex())
    assert rig.patterns.pattern_for("front-b").name == "bars"
    assert rig.patterns.pattern_for("front-a").name == "cabinets"
    window.live_panels.preview.set_solid_colour((255, 0, 0))
    preview = window.live_panels.preview
    preview.all_patterns.setCurrentText("Solid colour")
    preview.all_patterns.activated.emit(preview.all_patterns.currentIndex())
    assert {rig.patterns.pattern_for(c).name for c in ("front-a", "front-b", "side")} == {"solid"}

    def all_red() -> bool:
        image = rig.loop.latest_image("side")
        return image is not None and bool(np.all(image[..., 2] == 255) and np.all(image[..., :2] == 0))

    qtbot.waitUntil(all_red, timeout=WAIT_MS)
    assert all(t.pattern.currentText() == "Solid colour" for t in preview.tiles.values())


def test_record_and_stop_a_take_and_it_appears_in_the_list(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    _start(qtbot, window)
    takes = window.live_panels.takes
    takes.slate.setText("B012")
    takes.scene.setText("42A")
    assert takes.next_take.text() == "B012_T01"
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F9)  # record from anywhere in the window
    qtbot.waitUntil(lambda: takes.recording is not None, timeout=WAIT_MS)
    assert takes.state.text().startswith("● REC  B012_T01")
    assert not takes.slate.isEnabled() and takes.record_button.text().startswith("■")
    qtbot.waitUntil(lambda: window.status.live["recording"].text() == "● REC B012_T01", timeout=WAIT_MS)
    takes.record_button.click()  # the big button stops it
    qtbot.waitUntil(lambda: takes.recording is None and takes.take_names() == ["B012_T01"], timeout=WAIT_MS)
    assert takes.table.item(0, 1).text() == "42A" and takes.table.item(0, 6).text() == "complete"
    assert takes.next_take.text() == "B012_T02"
    circle = takes.table.item(0, 7)
    circle.setCheckState(Qt.CheckState.Checked)
    takes.circled_only.setChecked(True)
    qtbot.waitUntil(lambda: takes.take_names() == ["B012_T01"], timeout=WAIT_MS)
    library = takes.library()
    assert library is not None and library.get("B012_T01").circled
    takes.search.setText("nothing like this")
    assert takes.take_names() == []


def test_the_real_live_engine_through_the_console(qtbot: QtBot, tmp_path: Path) -> None:
    """render.live.LiveEngine itself (test patterns only, no outputs, render nodes on threads): the
    adapter's view of its API (set_pattern(canvas, spec), the planner's patterns, takes through its
    recorder, preview thumbnails through its loop)."""
    from render.live import LiveEngine, LiveOptions
    from vpstage.stage import Stage

    def factory(project: object, base_dir: Path, _path: Path | None) -> LiveEngine:
        return LiveEngine(Stage.from_project(project, base_dir),  # type: ignore[arg-type]
                          LiveOptions(rehearsal=True, simulate="static", scene_renderer=None, outputs="none",
                                      takes_db=tmp_path / "takes.sqlite", gpu_telemetry=False, cluster="threads"))

    window = make_window(qtbot, StageDocument.open(LIVE_STAGE), tmp_path / "console.ini", engine_factory=factory)
    try:
        window.act.start_engine.trigger()
        qtbot.waitUntil(lambda: window.live.state == "running", timeout=WAIT_MS)
        engine = window.live.engine
        preview = window.live_panels.preview
        assert not preview.all_patterns.model().item(0).isEnabled()  # no scene renderer: no "Scene"
        preview.all_patterns.setCurrentText("Grid")
        preview.all_patterns.activated.emit(preview.all_patterns.currentIndex())
        assert engine.planner.pattern_for("side").name == "grid"
        tile = preview.tiles["side"]
        tile.pattern.setCurrentText("Bars")
        tile.pattern.activated.emit(tile.pattern.currentIndex())
        assert engine.planner.pattern_for("side").name == "bars"
        assert engine.planner.pattern_for("front-a").name == "grid"
        qtbot.waitUntil(lambda: all(t.view.image is not None for t in preview.tiles.values()), timeout=WAIT_MS)
        takes = window.live_panels.takes
        takes.toggle_recording()
        qtbot.waitUntil(lambda: takes.recording is not None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: engine.recorder.stats().frames_accepted > 5, timeout=WAIT_MS)
        takes.toggle_recording()
        qtbot.waitUntil(lambda: takes.take_names() == ["A001_T01"], timeout=WAIT_MS)
        assert int(takes.table.item(0, 5).text()) > 5  # frames recorded by the engine
        window.live_panels.tracking.set_delay(25.0)
        assert engine.tracking.delay_ms("A") == pytest.approx(25.0)
        window.act.stop_engine.trigger()
        qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
    finally:
        window.live.shutdown()
