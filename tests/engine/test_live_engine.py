"""LiveEngine: a rehearsal records a take whose frames hold consistent raw and calibrated cameras;
a recorded take replayed as the tracker (real FreeD / OpenTrackIO packets on loopback) reproduces
the recorded poses at the recorded pace. Render nodes run on threads of the test process
(``cluster="threads"``) and without a scene engine here (fast); the scene path is covered by
test_scene_renderer.py and the `main.py run` test."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from live import LiveEngine, LiveOptions, ReplaySpec
from tests.engine.helpers import jobs_from_plan, node_assignment
from tests.takes.synthetic import make_frame
from tests.waiting import wait_for
from vpstage.geometry.rotations import camera_rotation
from vpstage.nodes.jobs import SceneContent
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage
from vpstage.takes import FrameRecord, TakeLibrary
from vpstage.tracking.sample import CameraSample

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"
FREED_M = 1 / 64_000      # FreeD position step (1/64 mm)
FREED_DEG = 1 / 32_768    # FreeD angle step


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


def quiet(**kwargs: object) -> LiveOptions:
    return LiveOptions(outputs="none", scene_renderer=None, gpu_telemetry=False, cluster="threads",
                       **kwargs)  # type: ignore[arg-type]




def test_rehearsal_records_a_take_of_consistent_cameras(small: Stage, tmp_path: Path) -> None:
    db = tmp_path / "takes.sqlite"
    engine = LiveEngine(small, quiet(rehearsal=True, simulate="dolly", takes_db=db))
    try:
        assert engine.simulator is None and engine.recorder is not None
        engine.loop.previews.want({"ceiling": 64})  # thumbnails come only when asked for
        engine.start()
        assert wait_for(lambda: engine.tracking.latest_sample("A") is not None)
        assert wait_for(lambda: engine.planner.last is not None and not engine.planner.last.cameras[0].tracking_lost)
        take = engine.start_take("A001", scene="12A", notes="dolly left")
        assert engine.recording == take
        engine.set_delay("A", 12.5)
        assert engine.tracking.delay_ms("A") == 12.5
        engine.set_pattern("ceiling", PatternSpec(name="grid"))
        assert wait_for(lambda: engine.loop.history.frames > 45)
        assert engine.planner.pattern_for("ceiling") == PatternSpec(name="grid")
        assert wait_for(lambda: engine.loop.latest_image("ceiling") is not None)
        done = engine.stop_take()
    finally:
        engine.close()
    assert done.status == "complete" and done.frame_count >= 30 and done.scene == "12A"
    with TakeLibrary(db) as library:
        frames = library.frames(done.name)
    assert len(frames) == done.frame_count
    assert [f.frame for f in frames] == sorted({f.frame for f in frames})
    for frame in frames:
        assert {n.node for n in frame.nodes} == {"node1", "node2"}
        assert [s.name for s in frame.scene] == ["demo"]
        camera = frame.camera("A")
        assert camera is not None and camera.raw is not None and camera.calibrated is not None
        raw, cal = camera.raw, camera.calibrated
        assert raw.protocol == "freed" and raw.source == "sim" and camera.tracking_age_ms >= 0
        # identity alignment, no entrance-pupil offset: the calibrated camera is the raw pose
        np.testing.assert_allclose(cal.eye_m, (raw.x_m, raw.y_m, raw.z_m), atol=1e-9)
        np.testing.assert_allclose(cal.rotation_matrix(), camera_rotation(raw.pan_deg, raw.tilt_deg, raw.roll_deg),
                                   atol=1e-9)
        assert cal.focal_length_mm == pytest.approx(raw.zoom_raw / 100)  # zcam-freed: zoom = mm x 100


def recorded_take(protocol: str, count: int = 45) -> list[FrameRecord]:
    """A 60 fps take of camera A (frame 20 without a sample), its raw poses in ``protocol``."""
    frames = []
    for i in range(count):
        frame = make_frame(i, missing=["A"] if i == 20 else [])
        cameras = tuple(dataclasses.replace(c, raw=dataclasses.replace(c.raw, protocol=protocol))
                        if c.raw is not None else c for c in frame.cameras)
        frames.append(dataclasses.replace(frame, cameras=cameras))
    return frames


@pytest.mark.parametrize("protocol", ["freed", "opentrackio"])
def test_a_replayed_take_reproduces_the_recorded_poses(small: Stage, protocol: str) -> None:
    frames = recorded_take(protocol)
    engine = LiveEngine(small, quiet(replay=ReplaySpec(frames, "A")))
    received: list[CameraSample] = []
    engine.tracking.sample_received.connect(lambda camera, sample: received.append(sample))
    try:
        engine.start()
        assert engine.simulator is not None
        assert wait_for(lambda: len(received) >= len(frames) - 1)
        time.sleep(0.1)  # nothing more comes: the replay ends with the take
    finally:
        engine.close()
    recorded = [f.camera("A").raw for f in frames if f.camera("A").raw is not None]  # type: ignore[union-attr]
    assert len(received) == len(recorded) == len(frames) - 1
    assert {s.protocol for s in received} == {protocol}
    for sample, raw in zip(received, recorded, strict=True):
        got = np.array([sample.x_m, sample.y_m, sample.z_m, sample.pan_deg, sample.tilt_deg, sample.roll_deg])
        want = np.array([raw.x_m, raw.y_m, raw.z_m, raw.pan_deg, raw.tilt_deg, raw.roll_deg])
        if protocol == "freed":
            np.testing.assert_allclose(got[:3], want[:3], atol=FREED_M)
            np.testing.assert_allclose(got[3:], want[3:], atol=FREED_DEG)
            assert (sample.zoom_raw, sample.focus_raw) == (raw.zoom_raw, raw.focus_raw)
        else:
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    # the recorded pace: one sample per 1/60 s (the frame without a sample leaves a double gap)
    steps = np.diff([s.arrival_ns for s in received]) / 1e6
    assert np.median(steps) == pytest.approx(1000 / 60, abs=2.0)
    span = (received[-1].arrival_ns - received[0].arrival_ns) / 1e9
    assert span == pytest.approx((len(frames) - 1) / 60, abs=0.08)
    # the planner followed the replayed camera
    last = engine.planner.last
    assert last is not None and last.cameras[0].pose is not None


def test_the_planner_plans_scene_content_for_a_rehearsal(small: Stage) -> None:
    engine = LiveEngine(small, quiet(rehearsal=True))
    try:
        tick = engine.loop.clock.tick(0)
        jobs = jobs_from_plan(engine.stage, engine.planner.plan(tick), node_assignment(engine.stage))
    finally:
        engine.close()
    assert all(isinstance(c.content, SceneContent) for job in jobs.values() for c in job.canvases)
    assert engine.stage.project.scene[0].path == "procedural:demo"


def test_a_missing_asset_shows_the_error_card_and_says_why(small: Stage, tmp_path: Path) -> None:
    missing = tmp_path / "garden.ply"
    engine = LiveEngine(small, LiveOptions(outputs="none", gpu_telemetry=False, rehearsal=True, scene=str(missing),
                                           cluster="threads"))
    said: list[tuple[str, str]] = []
    engine.loop.events.canvas_error.connect(lambda canvas, why: said.append((canvas, why)))
    canvases = {c.name for c in small.project.canvases}
    engine.loop.previews.want({"wall-centre": 120})
    try:
        engine.start()
        assert wait_for(lambda: set(engine.loop.canvas_errors) == canvases)
        assert wait_for(lambda: engine.loop.latest_image("wall-centre") is not None)
        engine.stop()
        report = engine.report()
    finally:
        engine.close()
    assert {canvas for canvas, _ in said} == canvases == set(report["canvas_errors"])
    assert all("garden.ply" in why for _, why in said)
    image = engine.loop.latest_image("wall-centre")  # the thumbnail of the red error card (BGRX)
    assert image is not None and image.shape[1] <= 120
    blue, green, red = (image[..., i].mean() for i in range(3))
    assert red > 60 and red > 1.5 * max(blue, green), (blue, green, red)


def test_a_run_option_sets_the_present_deadline(small: Stage) -> None:
    from live.setup import run_project

    assert run_project(small.project, quiet()).cluster.deadline_ms == small.project.cluster.deadline_ms
    assert run_project(small.project, quiet(deadline_ms=22.0)).cluster.deadline_ms == 22.0
    with pytest.raises(ValueError, match="positive"):
        run_project(small.project, quiet(deadline_ms=0.0))
    engine = LiveEngine(small, quiet(deadline_ms=22.0, rehearsal=True, simulate="static"))
    try:
        assert engine.loop.clock.deadline_ns == 22_000_000
    finally:
        engine.close()
