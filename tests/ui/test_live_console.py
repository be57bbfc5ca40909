"""The console with a live engine: start and stop it, see the canvases and the camera view, the
tracked camera in the 3D view, alarms when the tracker goes silent, test patterns, takes; a start
that fails (one line, an alarm, the details in a pane and the log), what a start is doing, and
what the panels show once the engine has stopped.

The engine is a LiveRig (tests/ui/live_rig.py): real TrackingHub, TrackerSimulator (FreeD on
127.0.0.1), FrameLoop with render nodes on threads, TakeRecorder. Canvas pictures are the nodes'
preview thumbnails, which come once the console asks for them (``loop.previews``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from devices.tracking import paths
from tests.conftest import STAGES
from tests.ui.conftest import make_window
from tests.ui.live_rig import LIVE_STAGE, LiveRig, rig_factory
from ui.live.console_log import ConsoleLog
from ui.live.live_views import PreviewFrame
from ui.main_window import ConsoleWindow
from vpstage.stage.document import StageDocument
from vpstage.stage.map_edits import unmap_cabinets
from vpstage.takes import TakeRecorder

WAIT_MS = 8000
STOPPED_AT = re.compile(r"^stopped at \d\d:\d\d:\d\d$")
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
    assert window.act.engine.start_engine.isEnabled() and not window.act.engine.stop_engine.isEnabled()
    window.act.engine.start_engine.trigger()
    qtbot.waitUntil(lambda: window.live.state == "running", timeout=WAIT_MS)
    rig: LiveRig = window.factory_built[-1]  # type: ignore[attr-defined]
    return rig


def test_engine_start_shows_the_wall_the_camera_and_its_frustum_then_stop(qtbot: QtBot,
                                                                          live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    assert window.act.engine.stop_engine.isEnabled() and window.act.engine.record.isEnabled()
    preview = window.live_panels.preview
    qtbot.waitUntil(lambda: all(t.view.image is not None for t in preview.tiles.values()), timeout=WAIT_MS)
    assert set(preview.tiles) == {"front-a", "front-b", "side"}
    assert not rig.loop.previews.scene_referred  # the preview shows what the wall gets ...
    preview.scene_referred.setChecked(True)  # ... or, on request, the scene before its colour transform
    assert rig.loop.previews.scene_referred
    preview.scene_referred.setChecked(False)
    assert not rig.loop.previews.scene_referred
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
    # once the first pictures are in: CPU nodes dropping frames is said, not alarmed
    qtbot.waitUntil(lambda: window.status.live["lock"].full_text in ("LOCKED", "CPU REHEARSAL"), timeout=WAIT_MS)
    # frame statistics close after the nodes report (a few frames after each frame's tick)
    qtbot.waitUntil(lambda: window.status.live["timecode"].text().startswith("00:00:"), timeout=WAIT_MS)
    window.act.engine.stop_engine.trigger()
    qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
    assert rig.stopped and rig.loop.join(0)
    assert "camera" not in window.stage_view.layers and "footprint" not in window.stage_view.layers
    assert window.status.live["engine"].full_text == "ENGINE STOPPED"
    # the last pictures stay, greyed and labelled with the time of their last frame
    for picture in (*(t.view for t in preview.tiles.values()), preview.camera_view):
        assert picture.image is not None and STOPPED_AT.match(picture.stale_label or ""), picture.stale_label
    old = preview.tiles["side"].view.image
    preview.show_previews([PreviewFrame(key="side", image=view, pixels=np.zeros(1), source=object(),
                                        made_at=0.0)])  # late: dropped
    assert preview.tiles["side"].view.image is old and preview.tiles["side"].view.stale_label
    assert window.act.engine.start_engine.isEnabled() and not window.act.engine.record.isEnabled()


def test_opening_another_project_stops_the_engine(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    rig = _start(qtbot, window)
    assert window.act.file.open_project(STAGES / "flat_wall.yaml")
    qtbot.waitUntil(lambda: window.live.state == "stopped" and rig.stopped, timeout=WAIT_MS)
    assert window.live.document is window.document and window.live_panels.preview.tiles.keys() == {"main"}
    assert window.status.live["engine"].full_text == "ENGINE STOPPED"


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
    """live.LiveEngine itself (test patterns only, no outputs, render nodes on threads): the
    adapter's view of its API (set_pattern(canvas, spec), the planner's patterns, takes through its
    recorder, preview thumbnails through its loop)."""
    from live import LiveEngine, LiveOptions
    from vpstage.stage import Stage

    def factory(project: object, base_dir: Path, _path: Path | None) -> LiveEngine:
        return LiveEngine(Stage.from_project(project, base_dir),  # type: ignore[arg-type]
                          LiveOptions(rehearsal=True, simulate="static", scene_renderer=None, outputs="none",
                                      takes_db=tmp_path / "takes.sqlite", gpu_telemetry=False, cluster="threads"))

    window = make_window(qtbot, StageDocument.open(LIVE_STAGE), tmp_path / "console.ini", engine_factory=factory)
    try:
        window.act.engine.start_engine.trigger()
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
        window.act.engine.stop_engine.trigger()
        qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
    finally:
        window.live.shutdown()


@pytest.fixture
def console_log(live_window: ConsoleWindow, tmp_path: Path) -> Iterator[tuple[ConsoleLog, io.StringIO]]:
    """The console's log file, as the application installs it, writing into the test's folder."""
    terminal = io.StringIO()
    log = ConsoleLog(tmp_path / "logs" / "console.log", terminal).install()
    live_window.live.console_log = log
    yield log, terminal
    log.close()


def test_a_failed_start_is_one_line_an_alarm_and_a_logged_list(qtbot: QtBot, live_window: ConsoleWindow,
                                                               console_log: tuple[ConsoleLog, io.StringIO]) -> None:
    window, (log, terminal) = live_window, console_log
    doc = window.document
    assert doc is not None
    QApplication.processEvents()
    central, menu = window.centralWidget().height(), window.menuBar().height()
    cabinets = list(doc.layout.cabinets.ids)
    window.editor.run(lambda: unmap_cabinets(doc.project, doc.layout, cabinets))  # every cabinet off the map
    assert window.live.start_engine()  # as rehearsal's start does (the Start action checks the Problems first)
    qtbot.waitUntil(lambda: window.live.state == "failed", timeout=WAIT_MS)
    failure = window.live.failure
    assert failure is not None and failure.expected and failure.kind == "ConfigError"
    problems = failure.details.splitlines()
    assert len(problems) == len(cabinets) == 18 and all("has no pixel-map entry" in p for p in problems)
    assert failure.summary == f"18 problems in the project: {problems[0]} (+17 more)"
    # one line wherever the state shows: the toolbar label, the alarm strip, the status bar
    qtbot.waitUntil(lambda: window.alarm_bar.isVisible(), timeout=WAIT_MS)
    QApplication.processEvents()
    label = window.engine_state.text().strip()  # "engine: failed", or the state line (at most 64 characters)
    assert label.startswith("engine: failed") and "\n" not in label and len(label) <= len("engine: ") + 64
    assert window.live.state_line.startswith("failed: 18 problems in the project") and len(window.live.state_line) <= 64
    top = window.banner.alarms[0]
    assert (top.key, top.severity, top.title) == ("engine", "critical", "ENGINE FAILED")
    assert "\n" not in window.banner.detail.text() and all(p in window.banner.toolTip() for p in problems[:5])
    assert window.menuBar().height() <= menu + 2 and window.alarm_bar.height() < 60
    assert window.centralWidget().height() >= central - window.alarm_bar.height() - 8  # the stage view keeps its room
    engine = window.status.live["engine"]
    assert engine.full_text == "ENGINE FAILED" and engine.property("state") == "error"
    engine.clicked.emit()  # the details pane: every problem, and where the log is
    pane = window.status.details_pane
    assert pane is not None and pane.isVisible()
    assert all(p in pane.text.toPlainText() for p in problems) and str(log.path) in pane.text.toPlainText()
    health = window.live_panels.health
    assert health.alarms.item(0).text().startswith("ENGINE FAILED  —  18 problems in the project")
    assert not health.alarm_details.isHidden() and problems[-1] in health.alarm_details.toPlainText()
    logged = log.path.read_text()
    assert "Traceback" in logged and "ConfigError" in logged and problems[-1] in logged
    assert terminal.getvalue() == ""  # an expected failure never reaches the terminal
    pane.close()
    window.stack.undo()  # the cabinets are mapped again: the next start works and the alarm goes
    window.act.engine.start_engine.trigger()
    qtbot.waitUntil(lambda: window.live.state == "running" and not window.banner.alarms, timeout=WAIT_MS)
    assert window.live.failure is None and "failed" not in window.engine_state.text()


def test_a_node_that_cannot_build_fails_the_start(qtbot: QtBot, tmp_path: Path) -> None:
    """A render node asked for a GPU on a machine without one: it says why, the start fails."""
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the node would build")
    doc = StageDocument.open(LIVE_STAGE)
    nodes = [n.model_copy(update={"gpu": 0}) if n.name == "n2" else n for n in doc.project.nodes]
    doc = StageDocument(doc.project.model_copy(update={"nodes": nodes}), doc.base_dir, LIVE_STAGE)
    factory = rig_factory(tmp_path / "takes.sqlite", path=CLOSE_UP)
    window = make_window(qtbot, doc, tmp_path / "console.ini", engine_factory=factory)
    try:
        window.act.engine.start_engine.trigger()
        qtbot.waitUntil(lambda: window.live.state == "failed", timeout=WAIT_MS)
        failure = window.live.failure
        assert failure is not None and failure.kind == "WorkerStartError" and failure.expected
        assert failure.summary.startswith("WorkerStartError: node n2: RuntimeError:") and "CUDA" in failure.summary
        assert [a.title for a in window.live.alarms][:1] == ["ENGINE FAILED"]
        assert factory.built[0].stopped and window.live.models is None
    finally:
        window.live.shutdown()


def test_the_start_says_what_it_waits_for(qtbot: QtBot, live_window: ConsoleWindow) -> None:
    window = live_window
    seen: list[str] = []
    window.live.status_changed.connect(lambda status: seen.append(status.engine.text))
    placeholders: set[str] = set()
    tiles = window.live_panels.preview.tiles.values()
    window.live.models_changed.connect(lambda _m: placeholders.update(t.view.placeholder for t in tiles))
    rig = _start(qtbot, window)
    qtbot.waitUntil(lambda: (placeholders.update(t.view.placeholder for t in tiles) or True)
                    and window.live.startup is None, timeout=WAIT_MS)
    assert any(text.startswith("ENGINE STARTING") for text in seen) and seen[-1] == "ENGINE RUNNING"
    starting = [t for t in seen if t.startswith("ENGINE STARTING · ")]
    assert starting and all(re.fullmatch(r"ENGINE STARTING · (\d/2 NODES READY|BUILDING|FIRST FRAMES)", t)
                            for t in starting), starting
    steps = {p for p in placeholders if p.startswith(("n1: ", "n2: ")) or p == "waiting for the first frames"}
    assert steps, placeholders  # each view said what its node was doing
    assert all(rig.loop.latest_image(t.canvas) is not None for t in tiles) and rig.loop.history.frames > 0


def test_the_take_list_and_the_next_name_hold_with_the_engine_stopped(qtbot: QtBot, tmp_path: Path) -> None:
    project_file = tmp_path / "stage" / "live.yaml"
    project_file.parent.mkdir()
    catalog = (LIVE_STAGE.parent / "../../engine/fixtures/tiny_panels.yaml").resolve()
    project_file.write_text(LIVE_STAGE.read_text().replace("../../engine/fixtures/tiny_panels.yaml", str(catalog)))
    doc = StageDocument.open(project_file)
    db = project_file.parent / "takes" / "takes.sqlite"
    with TakeRecorder(db) as recorder:  # takes recorded earlier, by another session
        recorder.start_take("A001", project=doc.project)
        recorder.stop_take()
    factory = rig_factory(db, path=CLOSE_UP)
    window = make_window(qtbot, doc, tmp_path / "console.ini", engine_factory=factory)
    window.factory_built = factory.built  # type: ignore[attr-defined]
    takes = window.live_panels.takes
    try:
        assert takes.take_names() == ["A001_T01"] and takes.next_take.text() == "A001_T02"  # never started
        _start(qtbot, window)
        takes.toggle_recording()
        qtbot.waitUntil(lambda: takes.recording is not None, timeout=WAIT_MS)
        takes.toggle_recording()
        qtbot.waitUntil(lambda: takes.take_names() == ["A001_T02", "A001_T01"], timeout=WAIT_MS)
        window.act.engine.stop_engine.trigger()
        qtbot.waitUntil(lambda: window.live.state == "stopped", timeout=WAIT_MS)
        assert takes.take_names() == ["A001_T02", "A001_T01"] and takes.next_take.text() == "A001_T03"
        with TakeRecorder(db) as recorder:  # another program records meanwhile: the list follows
            recorder.start_take("A001", project=doc.project)
            recorder.stop_take()
        qtbot.waitUntil(lambda: takes.take_names()[0] == "A001_T03", timeout=WAIT_MS)
        assert takes.next_take.text() == "A001_T04"
    finally:
        window.live.shutdown()
