"""The planner: frame plans from tracked cameras (read into per-node jobs the way render nodes read
their orders), tracking loss, pattern overrides, cache keys."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from devices.tracking.hub import TrackingHub
from tests.engine.helpers import jobs_from_plan, node_assignment
from vpstage.frame_master import Planner
from vpstage.frame_master.tracked_cameras import camera_priorities
from vpstage.frustum import FrustumSettings, StageFrustum
from vpstage.nodes.jobs import FrameJob, RenderQuality, SceneContent
from vpstage.nodes.orders import blend_order
from vpstage.patterns import PatternSpec
from vpstage.stage import Stage
from vpstage.stage.model import CameraInterleave, Placement
from vpstage.timing import FrameClock, FrameTick, ManualTimeSource
from vpstage.tracking.calibration import CalibratedPose
from vpstage.tracking.sample import CameraSample

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"
MS = 1_000_000


@pytest.fixture(scope="module")
def stage() -> Stage:
    return Stage.open(DEMO)


def freed_sample(t_ns: int, eye: tuple[float, float, float] = (0.0, -2.0, 1.6), pan: float = 0.0,
                 tilt: float = 0.0, focal_mm: float = 35.0) -> CameraSample:
    x, y, z = eye
    return CameraSample(protocol="freed", source="127.0.0.1", camera_id=1, arrival_ns=t_ns, x_m=x, y_m=y, z_m=z,
                        pan_deg=pan, tilt_deg=tilt, roll_deg=0.0,
                        zoom_raw=round(focal_mm * 100), focus_raw=30_000, user_bits=280)


def ticks(stage: Stage, time: ManualTimeSource) -> FrameClock:
    return FrameClock(stage.project.frame_rate, time_source=time, start_ns=time.now_ns())


def plan_jobs(planner: Planner, stage: Stage, tick: FrameTick) -> dict[str, FrameJob]:
    """Plan ``tick`` and read every node's order for its own canvases, as the node would."""
    return jobs_from_plan(stage, planner.plan(tick), node_assignment(stage))


def scene_canvases(job: FrameJob) -> dict[str, SceneContent]:
    return {c.canvas: c.content for c in job.canvases if isinstance(c.content, SceneContent)}


def test_one_job_per_node_with_inner_views_where_the_camera_looks(stage: Stage) -> None:
    hub = TrackingHub(stage.project)
    time = ManualTimeSource(10**12)
    hub.push("sim", freed_sample(time.now_ns()))
    planner = Planner(stage, hub)
    tick = ticks(stage, time).tick(0)
    plan = planner.plan(tick)
    jobs = jobs_from_plan(stage, plan, node_assignment(stage))
    assert set(jobs) == {"node1", "node2"}
    # the plan carries each camera's launch rectangles on every canvas; an order only its node's
    assert planner.last is not None and plan.planned is planner.last and not plan.patterns
    assert plan.cameras[0].rects == dict(planner.last.visible["A"]) and plan.cameras[0].rects
    order = plan.order(("wall-left", "wall-centre"), 0)
    assert set(order.cameras[0].rects) <= {"wall-left", "wall-centre"} and order.frame == tick.index
    assert [c.canvas for c in jobs["node1"].canvases] == ["wall-left", "wall-centre"]
    contents = {**scene_canvases(jobs["node1"]), **scene_canvases(jobs["node2"])}
    assert set(contents) == {"wall-left", "wall-centre", "wall-right", "ceiling"}
    # looking straight at the centre wall from 2 m: only the centre wall holds inner pixels
    exact = StageFrustum(stage).node("node1", hub.state_at("A", tick.time_ns),
                                     FrustumSettings.for_camera(stage.project.cameras[0]))
    for canvas, content in contents.items():
        seen = canvas in exact.canvases and exact.canvases[canvas].inner_rect is not None
        assert bool(content.inner) == seen, canvas
        assert content.outer is not None and content.outer.viewpoint == stage.project.outer_viewpoint
        assert [p.asset for p in content.placements] == ["demo"]
    view = contents["wall-centre"].inner[0]
    assert view.camera == "A" and not view.tracking_lost and view.state is not None
    np.testing.assert_allclose(view.world_to_camera, view.state.world_to_camera())
    assert view.window == view.frustum().window
    assert view.settings is not None and view.settings.overscan_pct == (10.0,) * 4
    assert planner.last is not None and planner.last.cameras[0].state is view.state


@pytest.mark.parametrize("pose", [((0.0, -2.0, 1.6), 0.0, 0.0, 35.0), ((1.0, -1.0, 1.5), 40.0, 10.0, 18.0),
                                  ((-1.5, 0.5, 1.2), -80.0, 35.0, 24.0), ((0.0, 0.0, 1.6), 170.0, 5.0, 50.0),
                                  ((0.5, -2.5, 1.0), -30.0, 60.0, 14.0)])
def test_launch_rects_hold_every_exact_inner_pixel(stage: Stage, pose: tuple) -> None:
    eye, pan, tilt, focal = pose
    hub = TrackingHub(stage.project)
    hub.push("sim", freed_sample(10**12, eye, pan, tilt, focal))
    planner = Planner(stage, hub)
    tick = ticks(stage, ManualTimeSource(10**12)).tick(0)
    jobs = plan_jobs(planner, stage, tick)
    state = hub.state_at("A", tick.time_ns)
    settings = FrustumSettings.for_camera(stage.project.cameras[0])
    frusta = StageFrustum(stage)
    for node, job in jobs.items():
        exact = frusta.node(node, state, settings)
        for canvas, content in scene_canvases(job).items():
            inner = exact.canvases[canvas].inner_rect
            if inner is None:
                continue
            assert content.inner, f"{canvas} has inner pixels but no inner view"
            (x0, y0, x1, y1), = content.inner[0].launch_rects
            assert x0 <= inner[0] and y0 <= inner[1] and inner[2] <= x1 and inner[3] <= y1


def test_tracking_loss_holds_the_last_pose_and_flags_it(stage: Stage) -> None:
    hub = TrackingHub(stage.project)
    time = ManualTimeSource(10**12)
    clock = ticks(stage, time)
    planner = Planner(stage, hub)
    events: list[tuple[str, str]] = []
    planner.tracking_lost.connect(lambda cam: events.append(("lost", cam)))
    planner.tracking_recovered.connect(lambda cam: events.append(("back", cam)))

    jobs = plan_jobs(planner, stage, clock.tick(0))  # nothing received yet
    assert planner.last is not None and planner.last.cameras[0].tracking_lost
    assert all(not c.inner for job in jobs.values() for c in scene_canvases(job).values())

    for i in range(1, 40):  # 30 fps frames; samples for the first 10 frames only
        tick = clock.tick(i)
        if i <= 10:
            hub.push("sim", freed_sample(tick.time_ns, (0.01 * i, -2.0, 1.6)))
        time.advance(tick.time_ns - time.now_ns())
        jobs = plan_jobs(planner, stage, tick)
        camera = planner.last.cameras[0]
        view = scene_canvases(jobs["node1"])["wall-centre"].inner[0]
        if i <= 10:
            assert not camera.tracking_lost and not view.tracking_lost
        silent_ms = (i - 10) * 1000 / 30
        assert camera.tracking_lost == (silent_ms > 500.0), i  # the source's lost_after_ms
        assert view.tracking_lost == camera.tracking_lost
        np.testing.assert_allclose(camera.state.eye[0], 0.01 * min(i, 10), atol=1e-9)  # held, never stalled
    assert events == [("back", "A"), ("lost", "A")]
    tick = clock.tick(40)
    hub.push("sim", freed_sample(tick.time_ns, (0.5, -2.0, 1.6)))
    plan_jobs(planner, stage, tick)
    assert not planner.last.cameras[0].tracking_lost and events[-1] == ("back", "A")


class FailingSource:
    def __init__(self, hub: TrackingHub) -> None:
        self.hub, self.fail = hub, False

    def calibrated_at(self, camera_name: str, t_ns: int) -> CalibratedPose | None:
        if self.fail:
            raise RuntimeError("lens table corrupt")
        return self.hub.calibrated_at(camera_name, t_ns)


def test_a_failing_source_holds_the_previous_state(stage: Stage) -> None:
    hub = TrackingHub(stage.project)
    hub.push("sim", freed_sample(10**12))
    source = FailingSource(hub)
    planner = Planner(stage, source)
    clock = ticks(stage, ManualTimeSource(10**12))
    plan_jobs(planner, stage, clock.tick(0))
    good = planner.last.cameras[0].state
    source.fail = True
    jobs = plan_jobs(planner, stage, clock.tick(1))
    camera = planner.last.cameras[0]
    assert camera.held and camera.tracking_lost and camera.state is good
    assert "lens table corrupt" in planner.sampler.errors["A"]
    assert scene_canvases(jobs["node1"])["wall-centre"].inner


def test_pattern_overrides_from_another_thread(stage: Stage) -> None:
    hub = TrackingHub(stage.project)
    planner = Planner(stage, hub)
    clock = ticks(stage, ManualTimeSource(10**12))
    bars, grid = PatternSpec(name="bars"), PatternSpec(name="grid")

    def contents(i: int) -> dict[str, object]:
        jobs = plan_jobs(planner, stage, clock.tick(i))
        return {c.canvas: c.content for job in jobs.values() for c in job.canvases}

    setter = threading.Thread(target=planner.set_pattern, args=("ceiling", bars))
    setter.start()
    setter.join()
    shown = contents(0)
    assert shown["ceiling"] == bars and isinstance(shown["wall-left"], SceneContent)
    planner.set_pattern(None, grid)
    assert all(content == grid for content in contents(1).values())
    planner.set_pattern("wall-right", bars)
    planner.set_pattern("wall-right", None)
    assert contents(2)["wall-right"] == grid
    planner.set_pattern(None, None)
    assert all(isinstance(content, SceneContent) for content in contents(3).values())
    with pytest.raises(KeyError):
        planner.set_pattern("nowhere", bars)


def test_outer_cache_key_changes_only_with_scene_placement_viewpoint(stage: Stage) -> None:
    hub = TrackingHub(stage.project)
    time = ManualTimeSource(10**12)
    clock = ticks(stage, time)
    planner = Planner(stage, hub)

    def key(i: int) -> str:
        tick = clock.tick(i)
        hub.push("sim", freed_sample(tick.time_ns, (0.05 * i, -2.0, 1.6), pan=3.0 * i))  # a moving camera
        content = scene_canvases(plan_jobs(planner, stage, tick)["node1"])["wall-left"]
        assert content.outer is not None
        return content.outer.cache_key

    first = key(0)
    assert {key(i) for i in range(1, 5)} == {first}
    planner.set_placement("demo", Placement(translation=(0.0, 1.0, 0.0)))
    moved = key(5)
    assert moved != first
    planner.set_placement("demo", Placement())
    assert key(6) == first
    planner.set_asset_enabled("demo", False)
    assert key(7) not in (first, moved)
    planner.set_asset_enabled("demo", True)
    planner.set_outer_viewpoint((0.0, 0.5, 1.7))
    assert key(8) not in (first, moved)
    planner.set_outer_viewpoint(stage.project.outer_viewpoint)
    planner.set_quality(RenderQuality(outer_scale=0.5))
    assert key(9) != first
    planner.set_quality(RenderQuality())
    assert key(10) == first
    with pytest.raises(KeyError):
        planner.set_placement("nothing", Placement())



# ----------------------------------------------------------------------------- several cameras


def two_camera_stage(stage: Stage, **fields: dict[str, object]) -> Stage:
    """The demo stage with a second camera B (FreeD stream 2 of the same tracker)."""
    project = stage.project.model_copy(deep=True)
    a = project.cameras[0]
    project.cameras = [a.model_copy(update=fields.get("A", {})),
                       a.model_copy(update={"name": "B", "camera_id": 2, **fields.get("B", {})})]
    return Stage.from_project(project, stage.layout.base_dir)


def push_both(hub: TrackingHub, t_ns: int) -> None:
    hub.push("sim", freed_sample(t_ns, (-0.3, -2.0, 1.6), pan=5.0))
    hub.push("sim", freed_sample(t_ns, (0.3, -2.0, 1.6), pan=-5.0)._replace(camera_id=2))


def test_priorities_default_to_the_list_order_and_travel_in_the_orders(stage: Stage) -> None:
    assert camera_priorities(two_camera_stage(stage).project.cameras) == {"A": 2, "B": 1}
    assert camera_priorities(two_camera_stage(stage, B={"priority": 7}).project.cameras) == {"A": 2, "B": 7}
    two = two_camera_stage(stage, B={"priority": 7})
    hub = TrackingHub(two.project)
    push_both(hub, 10**12)
    planner = Planner(two, hub)
    assert planner.active_camera == "B"  # the highest priority until the operator picks one
    plan = planner.plan(ticks(two, ManualTimeSource(10**12)).tick(0))
    assert [(c.name, c.priority, c.active, c.on_wall) for c in plan.cameras] == [("A", 2, False, True),
                                                                                ("B", 7, True, True)]
    order = plan.order(("wall-centre",), 0)
    assert [(c.name, c.priority, c.active, c.on_wall) for c in order.cameras] == [
        (c.name, c.priority, c.active, c.on_wall) for c in plan.cameras]
    assert all(set(c.rects) == {"wall-centre"} for c in order.cameras)
    assert [c.camera for c in plan_jobs(planner, two, ticks(two, ManualTimeSource(10**12)).tick(1))["node1"]
            .canvases[1].content.inner] == ["A", "B"]  # type: ignore[union-attr]
    assert [v.name for v in blend_order(plan.cameras)] == ["A", "B"]


def test_the_active_camera_switches_from_another_thread_at_the_next_frame(stage: Stage) -> None:
    two = two_camera_stage(stage)
    hub = TrackingHub(two.project)
    push_both(hub, 10**12)
    planner = Planner(two, hub)
    clock = ticks(two, ManualTimeSource(10**12))
    assert [c.active for c in planner.plan(clock.tick(0)).cameras] == [True, False]
    setter = threading.Thread(target=planner.set_active_camera, args=("B",))
    setter.start()
    setter.join()
    plan = planner.plan(clock.tick(1))
    assert [c.active for c in plan.cameras] == [False, True] and planner.active_camera == "B"
    assert [v.name for v in blend_order(plan.cameras)] == ["A", "B"]  # B drawn last, over A
    assert planner.last is not None and [c.active for c in planner.last.cameras] == [False, True]
    planner.set_active_camera(None)
    assert [c.active for c in planner.plan(clock.tick(2)).cameras] == [True, False]
    with pytest.raises(KeyError):
        planner.set_active_camera("nobody")


def test_an_interleaved_camera_is_off_the_wall_on_the_other_frames(stage: Stage) -> None:
    two = two_camera_stage(stage, A={"interleave": CameraInterleave(every=2, phase=0)},
                           B={"interleave": CameraInterleave(every=2, phase=1)})
    hub = TrackingHub(two.project)
    time = ManualTimeSource(10**12)
    clock = ticks(two, time)
    planner = Planner(two, hub)
    for i in range(4):
        tick = clock.tick(i)
        push_both(hub, tick.time_ns)
        plan = planner.plan(tick)
        on = [c.on_wall for c in plan.cameras]
        assert on == [tick.count % 2 == 0, tick.count % 2 == 1], i
        off = plan.cameras[on.index(False)]
        assert not off.rects and not planner.last.visible[off.name]  # type: ignore[union-attr]
        # tracking-to-present counts only the camera on the wall
        assert plan.tracking_time_ns(("wall-centre",)) == plan.cameras[on.index(True)].data_time_ns
    assert planner.last is not None and [c.interleave for c in planner.last.cameras] == [(2, 0), (2, 1)]
