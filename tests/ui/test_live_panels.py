"""Live panels on real models: tracking (delay, lens, sources, alignment), health (no-GPU state,
node figures), the source form, and the live-views worker's camera view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QUndoStack
from pytestqt.qtbot import QtBot

from devices.tracking import paths
from devices.tracking.hub import TrackingHub
from tests.ui.live_rig import LIVE_STAGE, LiveRig
from ui.commands import DocumentEditor
from ui.live.control_thread import ControlThread
from ui.live.edit_forwarder import EditForwarder
from ui.live.event_relay import EventRelay
from ui.live.health_panel import COL, HealthPanel
from ui.live.live_views import CameraView, LiveViewsWorker
from ui.live.models import LiveModels
from ui.live.source_form import SourceForm
from ui.live.tracking_panel import TrackingPanel
from vpstage.geometry.rotations import body_rotation
from vpstage.stage.change import EditError
from vpstage.stage.document import StageDocument
from vpstage.stage.model import TrackingSource
from vpstage.tracking.sample import CameraSample

MS = 1_000_000


class TrackingRig:
    """A document, its undo stack and editor, a hub on it, the edit forwarder and the panel."""

    def __init__(self, qtbot: QtBot) -> None:
        self.doc = StageDocument.open(LIVE_STAGE)
        self.stack = QUndoStack()
        self.editor = DocumentEditor(self.doc, self.stack)
        self.control = ControlThread()
        self.hub = TrackingHub(self.doc.project, self.doc.base_dir)
        assert self.hub.start() == {}
        self.forwarder = EditForwarder(self.doc, self.control)
        self.forwarder.bind(self.hub)
        self.panel = TrackingPanel(self.doc, self.editor)
        qtbot.addWidget(self.panel)
        self.panel.bind(LiveModels(hub=self.hub))
        self.panel.show()

    def close(self) -> None:
        self.panel.detach()
        self.forwarder.detach()
        self.control.shutdown()
        self.hub.stop()


@pytest.fixture
def tracking(qtbot: QtBot) -> Iterator[TrackingRig]:
    rig = TrackingRig(qtbot)
    yield rig
    rig.close()


def _sample(t_ms: float, x: float, y: float = 0.0, z: float = 1.5) -> CameraSample:
    return CameraSample(protocol="freed", source="127.0.0.1", camera_id=1, arrival_ns=round(t_ms * MS), x_m=x, y_m=y,
                        z_m=z, pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0, zoom_raw=3500, focus_raw=20000)


def test_the_delay_takes_effect_at_once_and_is_saved_to_the_camera(tracking: TrackingRig) -> None:
    hub, panel, doc = tracking.hub, tracking.panel, tracking.doc
    for i in range(11):  # a camera moving 1 m/s along x
        hub.push("sim", _sample(i * 10, x=i * 0.01))
    before = hub.state_at("A", 100 * MS)
    assert before is not None and before.eye[0] == pytest.approx(0.1)
    panel.delay.setValue(40.0)  # turning the spin box: live, nothing saved yet
    assert hub.delay_ms("A") == pytest.approx(40.0)
    assert hub.state_at("A", 100 * MS).eye[0] == pytest.approx(0.06)  # type: ignore[union-attr]
    assert doc.project.cameras[0].delay_ms == 0.0 and tracking.stack.count() == 0
    assert panel.save_delay()
    assert doc.project.cameras[0].delay_ms == 40.0 and tracking.stack.count() == 1
    assert "1.20 frames" in panel.delay_frames.text()
    tracking.stack.undo()  # the document and the hub go back together
    assert doc.project.cameras[0].delay_ms == 0.0 and hub.delay_ms("A") == 0.0 and panel.delay.value() == 0.0
    tracking.stack.redo()
    assert hub.delay_ms("A") == pytest.approx(40.0)


def test_lens_profile_selection_goes_to_the_camera_and_the_hub(tracking: TrackingRig) -> None:
    hub, panel = tracking.hub, tracking.panel
    hub.push("sim", _sample(0, x=0.0))
    assert hub.state_at("A", 0).focal_length_mm == pytest.approx(35.0)  # type: ignore[union-attr]  # zcam: mm x 100
    assert {"physical", "zcam-freed", "syncrolink-freed"} <= {panel.lens.itemText(i) for i in range(panel.lens.count())}
    assert panel.set_lens("syncrolink-freed")
    assert tracking.doc.project.cameras[0].lens == "syncrolink-freed"
    assert hub.state_at("A", 0).focal_length_mm == pytest.approx(3500 / 64)  # type: ignore[union-attr]


def test_sources_are_added_edited_and_removed_with_undo_and_the_hub_follows(tracking: TrackingRig,
                                                                            qtbot: QtBot) -> None:
    doc, hub, panel = tracking.doc, tracking.hub, tracking.panel
    assert panel.sources.rowCount() == 1 and panel.sources.item(0, 1).text() == "FreeD D1"
    osc = TrackingSource(name="phone", protocol="osc", address="udp://127.0.0.1:0", osc_map="zigsim")
    assert panel.add_source(osc)
    assert [s.name for s in doc.project.tracking] == ["sim", "phone"] and panel.sources.rowCount() == 2
    assert tracking.control.wait_idle(5)
    assert {r.name: r.running for r in hub.receiver_health()} == {"sim": True, "phone": True}  # started live
    assert not panel.remove_source("sim")  # camera A uses it: refused
    assert not panel.add_source(osc)  # the name is taken
    renamed = osc.model_copy(update={"name": "tablet"})
    assert panel.replace_source("phone", renamed)
    assert doc.project.tracking[1].name == "tablet"
    assert panel.remove_source("tablet") and len(doc.project.tracking) == 1
    tracking.stack.undo()
    tracking.stack.undo()
    assert doc.project.tracking[1].name == "phone" and panel.sources.item(1, 0).text() == "phone"
    tracking.stack.undo()
    assert len(doc.project.tracking) == 1
    assert tracking.control.wait_idle(5)


def test_the_source_form_builds_valid_sources_and_names_bad_fields(qtbot: QtBot) -> None:
    form = SourceForm()
    qtbot.addWidget(form)
    form.name.setText("crane")
    form.transport.setCurrentIndex(form.transport.findData("serial"))
    form.device.setText("/dev/ttyUSB3")
    form.parity.setCurrentText("even")
    form.camera_id.setText("2")
    source = form.source()
    assert (source.protocol, source.address, source.serial_parity, source.camera_id) == (
        "freed", "serial:///dev/ttyUSB3", "even", 2)
    form.protocol.setCurrentIndex(form.protocol.findData("opentrackio"))
    assert form.port.value() == 55555 and form.transport.currentData() == "udp"
    form.multicast.setText("239.135.1.1")
    assert form.source().multicast_group == "239.135.1.1"
    form.set_source(source)
    assert form.device.text() == "/dev/ttyUSB3" and form.camera_id.text() == "2"
    form.name.setText("")
    with pytest.raises(EditError, match="name"):
        form.source()


def test_alignment_capture_solve_show_residuals_and_apply(tracking: TrackingRig) -> None:
    hub, panel, doc = tracking.hub, tracking.panel, tracking.doc
    tool = panel.alignment
    rotation, translation = body_rotation(30.0, 0.0, 0.0), np.array([0.5, -0.2, 0.1])
    stage_points = [(0.0, 0.0, 0.0), (2.0, 0.0, 0.0), (0.0, 3.0, 0.0), (1.0, 1.0, 2.0)]
    assert not tool.capture()  # no reading yet
    for i, stage in enumerate(stage_points):
        tracker = rotation.T @ (np.array(stage) - translation)  # what the tracker reads on that spot
        hub.push("sim", _sample(i, *tracker))
        tool.set_stage_point(stage)
        assert tool.capture()
    assert tool.table.rowCount() == 4 and tool.solve_button.isEnabled()
    solution = tool.solve()
    assert solution is not None and solution.rms_m < 1e-3  # spin boxes hold millimetres
    assert "RMS" in tool.result.text() and tool.table.item(0, 6).text() != "–"
    model = tool.apply()
    assert model is not None and doc.project.cameras[0].alignment == model
    assert model.yaw_deg == pytest.approx(30.0, abs=0.05)
    hub.push("sim", _sample(10, *(rotation.T @ (np.array([1.0, 2.0, 1.5]) - translation))))
    state = hub.state_at("A", 10 * MS)
    assert state is not None and state.eye == pytest.approx([1.0, 2.0, 1.5], abs=2e-3)  # pupil offset ~0 here
    tracking.stack.undo()
    assert hub.state_at("A", 10 * MS).eye[0] != pytest.approx(1.0, abs=0.01)  # type: ignore[union-attr]


def test_health_panel_shows_nodes_the_no_gpu_state_and_plots(qtbot: QtBot, tmp_path: Path) -> None:
    doc = StageDocument.open(LIVE_STAGE)
    rig = LiveRig(doc.project, doc.base_dir, tmp_path / "takes.sqlite",
                  path=paths.static(eye=(0.0, 0.9, 1.48), target=(0.0, 2.0, 1.48)))
    relay = EventRelay()
    panel = HealthPanel(doc, relay)
    qtbot.addWidget(panel)
    panel.show()
    relay.attach(hub=rig.tracking, loop=rig.loop, gpu=rig.gpu)
    rig.start()
    try:
        panel.bind(LiveModels(hub=rig.tracking, loop=rig.loop, gpu=rig.gpu))
        qtbot.waitUntil(lambda: rig.loop.history.frames > 10 and relay.latest_stats is not None, timeout=8000)
        panel.refresh()
        assert [panel.nodes.item(r, 0).text() for r in range(2)] == ["n1", "n2"]
        assert panel.nodes.item(0, COL["state"]).text().startswith("up")
        assert panel.nodes.item(0, COL["render ms"]).text() != "–"
        frames = int(panel.nodes.item(0, COL["frames"]).text())
        dropped = panel.nodes.item(0, COL["dropped run"]).text()
        assert frames > 10 and int(dropped.split("/")[0]) <= frames == int(dropped.split("/")[1].split()[0])
        if not rig.gpu.telemetry.available:  # this machine has no NVIDIA driver: say so clearly
            assert panel.plots.no_gpu.isVisible() and panel.plots.no_gpu.textItem.toPlainText().startswith("no GPU")
            assert panel.nodes.item(0, COL["GPU"]).text() == "no GPU"
        x, y = panel.plots.curves["render:n1"].getData()
        assert x is not None and len(x) > 5 and np.nanmax(y) > 0
        assert "fps of 30" in panel.summary.text()
        assert panel.tracking.text().startswith("tracking  ·  camera A: ") and " Hz, jitter " in panel.tracking.text()
    finally:
        relay.detach()
        rig.close()


def test_camera_view_and_overlays_are_computed_off_the_gui_thread(qtbot: QtBot, tmp_path: Path) -> None:
    doc = StageDocument.open(LIVE_STAGE)
    rig = LiveRig(doc.project, doc.base_dir, tmp_path / "takes.sqlite",
                  path=paths.static(eye=(0.0, 0.9, 1.48), target=(0.0, 2.0, 1.48)))
    worker = LiveViewsWorker(rate_hz=30, view_every=1)
    worker.configure(rig.stage, rig.tracking, rig.loop, "A", view_width=320)
    views: list[CameraView] = []
    worker.camera_view_ready.connect(views.append)

    def colours(view: CameraView) -> set[int]:
        return {view.image.pixelColor(x, view.image.height() // 2).rgb() for x in range(0, 320, 8)}

    rig.start()
    try:
        qtbot.waitUntil(lambda: rig.tracking.latest_sample("A") is not None and rig.loop.history.frames > 2,
                        timeout=8000)
        assert rig.loop.previews.wanted() == {}  # nothing asks the nodes for pictures yet
        worker.start()
        # the worker asks the loop for thumbnails of the canvases the camera sees; once they have
        # come, the view shows the cabinet pattern, not a flat fill
        qtbot.waitUntil(lambda: any(len(colours(v)) > 3 for v in views), timeout=8000)
        view = next(v for v in views if len(colours(v)) > 3)
        assert view.camera_name == "A" and view.image.width() == 320 and view.render_ms > 0
        assert set(rig.loop.previews.wanted()) == {c.name for c in rig.stage.project.canvases}
        qtbot.waitUntil(lambda: len(worker.timings()["overlays_ms"]) >= 2
                        and len(worker.timings()["camera_view_ms"]) >= 2, timeout=8000)
    finally:
        worker.stop()
        rig.close()
    assert not worker.running


def test_back_to_the_scene_on_one_canvas_keeps_the_others_patterns() -> None:
    """PatternTargetAdapter over a real Planner (what LiveEngine.set_pattern forwards to)."""
    from live import LiveOptions
    from ui.live.model_adapters import PatternTargetAdapter
    from vpstage.frame_master import Planner
    from vpstage.patterns import PatternSpec
    from vpstage.stage import Stage

    stage = Stage.open(LIVE_STAGE)

    class PlannerEngine:
        options = LiveOptions()

        def __init__(self) -> None:
            self.stage = stage
            self.planner = Planner(stage, TrackingHub(stage.project, stage.layout.base_dir))

        def set_pattern(self, canvas: str | None, spec: PatternSpec | None) -> None:
            self.planner.set_pattern(canvas, spec)

    engine = PlannerEngine()
    patterns = PatternTargetAdapter(engine)
    assert patterns.supports_scene  # LiveOptions' default scene renderer
    patterns.set_pattern(PatternSpec(name="grid"))  # every canvas
    patterns.set_pattern(PatternSpec(name="bars"), "side")
    patterns.set_pattern(None, "front-a")  # the scene there; the others keep what they showed
    assert patterns.pattern_for("front-a") is None
    assert patterns.pattern_for("front-b") == PatternSpec(name="grid")
    assert patterns.pattern_for("side") == PatternSpec(name="bars")
    patterns.set_pattern(None)
    assert {patterns.pattern_for(c) for c in ("front-a", "front-b", "side")} == {None}


def test_a_start_that_fails_on_a_bug_logs_its_traceback_and_says_one_line(qtbot: QtBot, tmp_path: Path) -> None:
    """Not the operator's to fix (a bug): the terminal gets one line naming the log, the log the traceback."""
    import io

    from ui.live.console_log import ConsoleLog
    from ui.live.controller import LiveController

    def factory(_project: object, _base: Path, _path: Path | None) -> object:
        return {}["engine"]  # a KeyError: a bug, not a project problem

    terminal = io.StringIO()
    log = ConsoleLog.for_document(tmp_path / "show" / "stage.yaml", terminal).install()
    live = LiveController(StageDocument.open(LIVE_STAGE), factory)
    live.console_log = log
    try:
        assert live.start_engine()
        qtbot.waitUntil(lambda: live.state == "failed", timeout=8000)
        failure = live.failure
        assert failure is not None and not failure.expected and failure.summary == "KeyError: 'engine'"
        assert live.state_line == "failed: KeyError: 'engine'" and [a.title for a in live.alarms] == ["ENGINE FAILED"]
        assert log.path == tmp_path / "show" / "logs" / "console.log"  # beside the project
        logged = log.path.read_text()
        assert "Traceback" in logged and "KeyError: 'engine'" in logged
        said = terminal.getvalue().splitlines()
        assert said == [f"vpstage: start engine failed: KeyError: 'engine' (details in {log.path})"]
    finally:
        live.shutdown()
        log.close()


def test_the_active_camera_switch_puts_the_chosen_camera_on_top_at_the_next_frame(tracking: TrackingRig) -> None:
    """The tracking panel's switch over CameraSwitchAdapter and a real two-camera Planner."""
    from ui.live.model_adapters import CameraSwitchAdapter
    from vpstage.frame_master import Planner
    from vpstage.stage import Stage
    from vpstage.timing import FrameClock

    project = tracking.doc.project.model_copy(deep=True)
    project.cameras = [project.cameras[0], project.cameras[0].model_copy(update={"name": "B", "camera_id": 2})]
    stage = Stage.from_project(project, tracking.doc.base_dir)
    hub = TrackingHub(project, tracking.doc.base_dir)
    hub.push("sim", _sample(0.0, -0.3))
    hub.push("sim", _sample(0.0, 0.3)._replace(camera_id=2))

    class TwoCameraEngine:
        def __init__(self) -> None:
            self.planner = Planner(stage, hub)

        def set_active_camera(self, camera: str | None) -> None:
            self.planner.set_active_camera(camera)

    engine = TwoCameraEngine()
    tracking.panel.bind(LiveModels(hub=tracking.hub, cameras=CameraSwitchAdapter(engine)))
    panel = tracking.panel
    assert [panel.active.itemText(i) for i in range(panel.active.count())] == ["A", "B"]
    assert panel.active.currentText() == "A" and panel.active.isEnabled()
    clock = FrameClock(project.frame_rate)
    assert [c.active for c in engine.planner.plan(clock.tick(0)).cameras] == [True, False]
    panel.active.setCurrentIndex(1)
    panel.active.activated.emit(1)  # what a pick from the list sends
    assert [c.active for c in engine.planner.plan(clock.tick(1)).cameras] == [False, True]
    engine.planner.set_active_camera("A")  # switched elsewhere (a control surface): the panel follows
    panel.refresh()
    assert panel.active.currentText() == "A"
