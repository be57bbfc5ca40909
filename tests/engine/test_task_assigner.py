"""The task assigner's pure parts: tile bands, the ray estimate, the cost model, heavy/light
classification and the deadline-aware split, on synthetic loads and the demo stage scaled down."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.engine.test_scene_renderer import plan_frame
from vpstage.frame_master.task_assigner import (
    AssignerSettings,
    CostModel,
    TaskAssigner,
    ViewLoad,
    asset_kind,
    ray_box_hits,
    split_heavy,
)
from vpstage.geometry import OrientedBox
from vpstage.nodes.jobs import RenderQuality
from vpstage.nodes.tiles import band_rects, runs, span
from vpstage.stage import Stage
from vpstage.stage.model import SceneAsset as SceneAssetModel
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


def test_bands_cover_every_row_once() -> None:
    rect = (3, 10, 50, 33)
    bands = band_rects(rect, 5)
    rows = [y for _, y0, _, y1 in bands for y in range(y0, y1)]
    assert rows == list(range(10, 33))
    assert {b[0] for b in bands} == {3} and {b[2] for b in bands} == {50}
    assert max(b[3] - b[1] for b in bands) - min(b[3] - b[1] for b in bands) <= 1
    assert runs([4, 0, 1, 3]) == [(0, 2), (3, 5)]
    assert span(bands, 1, 3) == (3, bands[1][1], 50, bands[2][3])
    with pytest.raises(ValueError):
        band_rects(rect, 0)


def test_ray_box_hits() -> None:
    box = OrientedBox.from_aabb(np.array([-1.0, 4.0, -1.0]), np.array([1.0, 6.0, 1.0]))
    origin = np.zeros(3)
    through = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.2, 1.0, 0.0], [0.3, 1.0, 0.0], [0.0, 1.0, 0.1]])
    assert ray_box_hits(origin, through, box, far=100.0).tolist() == [True, False, True, False, True]
    assert not ray_box_hits(origin, through[:1], box, far=3.0)[0]  # the box starts 4 m away


def test_asset_kinds() -> None:
    assert [asset_kind(p) for p in ("a/biker.spz", "procedural:demo", "x.ingp", "y.bnerf")] == \
        ["splat", "splat", "nerf", "baked-nerf"]


def test_cost_model_fits_render_times() -> None:
    model = CostModel(prior=(1.0, 0.5), min_samples=6)
    assert model.line() == (1.0, 0.5)  # the prior until fitted
    for i in range(40):
        work = 1000.0 * (i % 5)
        model.add("n1" if i % 2 else "n2", work, 3.0 + 0.002 * work)
    base, per_work = model.line() or (0, 0)
    assert base == pytest.approx(3.0, abs=1e-6) and per_work == pytest.approx(0.002, rel=1e-6)
    assert model.predict("n1", 5000.0) == pytest.approx(13.0, abs=1e-3)
    assert CostModel().line() is None


def view(node: str, work: float, camera: str = "A", asset: str = "biker") -> ViewLoad:
    return ViewLoad(node=node, camera=camera, asset=asset, canvases=(f"{node}-canvas",), rays=work, work=work)


def test_heavy_view_bands_go_to_the_idle_node() -> None:
    settings = AssignerSettings(tiles=8, link_ms=0.5, link_mb_per_s=1e6)
    counters: Counter[str] = Counter()
    loads = [view("n1", 10_000.0), view("n1", 100.0, asset="sky"), view("n2", 0.0)]
    # n1: 2 ms of base + 25 ms of its heavy view; n2 nearly idle; budget 16 ms
    out = split_heavy(loads, {"n1": 27.25, "n2": 1.0}, 0.0025, 16.0, settings, counters)
    assert out and all(a.helper == "n2" and a.view.asset == "biker" and a.count == 8 for a in out)
    indices = [a.index for a in out]
    assert indices == list(range(7, 7 - len(out), -1))  # the last bands; band 0 stays
    band_ms = 25.0 / 8
    owner_finish = max(27.25 - band_ms * len(out), max(a.return_ms for a in out))
    assert len(out) == 4 and owner_finish <= 16.0  # no more bands than the owner needs
    assert 1.0 + band_ms * len(out) <= 16.0  # the helper stays within the budget
    assert counters["heavy"] == 1 and counters["tiles_assigned"] == len(out) and counters["overloaded"] == 1


def test_light_views_and_balanced_nodes_stay() -> None:
    counters: Counter[str] = Counter()
    loads = [view("n1", 900.0), view("n1", 800.0, asset="b"), view("n2", 0.0)]
    # n1 is over budget, but each view alone is light (2.25 ms, 2 ms against 0.25 * 10 ms)
    assert split_heavy(loads, {"n1": 12.0, "n2": 1.0}, 0.0025, 10.0, AssignerSettings(), counters) == []
    assert counters["light"] == 2 and counters["heavy"] == 0
    counters.clear()
    assert split_heavy(loads, {"n1": 9.0, "n2": 1.0}, 0.0025, 10.0, AssignerSettings(), counters) == []
    assert counters["overloaded"] == 0


def test_a_band_that_would_come_back_too_late_stays_local() -> None:
    counters: Counter[str] = Counter()
    loads = [view("n1", 10_000.0), view("n2", 0.0)]
    slow_link = AssignerSettings(link_ms=40.0)
    assert split_heavy(loads, {"n1": 27.0, "n2": 2.0}, 0.0025, 14.0, slow_link, counters) == []
    assert counters["kept_local_deadline"] == 1


def test_no_node_with_spare_time() -> None:
    counters: Counter[str] = Counter()
    loads = [view("n1", 10_000.0), view("n2", 8_000.0)]
    assert split_heavy(loads, {"n1": 27.0, "n2": 22.0}, 0.0025, 14.0, AssignerSettings(), counters) == []
    assert counters["no_spare_node"] == 2


def test_estimate_and_orders_on_the_demo_stage(small: Stage) -> None:
    """An asset in front of the camera loads the nodes whose canvases see it, and only those; with
    a prior cost model the overloaded node's bands are ordered to the other one."""
    planner, _ = plan_frame(small, RenderQuality(inner_scale=0.5))
    frame = planner.last
    assert frame is not None
    state = frame.cameras[0].state
    assert state is not None
    centre = state.eye + 4.0 * state.forward
    project = small.project.model_copy(deep=True)
    project.scene = [SceneAssetModel(name="near", path="near.spz", bounds_min=tuple(centre - 0.5),
                                     bounds_max=tuple(centre + 0.5)),
                     SceneAssetModel(name="behind", path="behind.spz",
                                     bounds_min=tuple(state.eye - 4.5 * state.forward - 0.5),
                                     bounds_max=tuple(state.eye - 3.5 * state.forward + 0.5))]
    stage = Stage.from_project(project, small.layout.base_dir)
    planner, _ = plan_frame(stage, RenderQuality(inner_scale=0.5))
    assert planner.last is not None
    plan = planner.plan(planner.last.tick)
    canvases = {n.name: tuple(stage.canvases_of_node(n.name)) for n in project.nodes}
    probe = TaskAssigner(stage)
    loads = probe.loads(plan, canvases)
    near = {v.node: v.rays for v in loads if v.asset == "near"}
    seen = {n for n, c in canvases.items() if any(k in plan.cameras[0].rects for k in c)}
    assert set(near) == seen and len(seen) == 2
    owner = max(near, key=lambda n: near[n])
    other = next(n for n in near if n != owner)
    assert near[owner] > 0 and near[other] == 0  # the other node's canvases see the camera, not the asset
    assert all(v.rays == 0 for v in loads if v.asset == "behind")
    # a prior that makes the owner's view cost 1.5 budgets: it gives bands to the other node
    budget_ms = (plan.tick.deadline_ns - plan.tick.time_ns) / 1e6
    settings = AssignerSettings(prior=(1.0, 1.5 * budget_ms / near[owner]), budget_fraction=1.0, link_ms=0.0)
    assigner = TaskAssigner(stage, settings)
    orders = assigner.assign(plan, canvases)
    assert set(orders) == {owner, other} and orders[owner] == orders[other]
    assert all(t.owner == owner and t.helper == other and t.asset == "near" for t in orders[owner])
    tile = orders[owner][0]
    assert tile.canvases == tuple(c for c in canvases[owner] if c in plan.cameras[0].rects)
    assert plan.tick.time_ns < tile.wait_ns < plan.tick.deadline_ns
    assert assigner.counters["tiles_assigned"] == len(orders[owner]) >= 1
    assert sorted(t.index for t in orders[owner]) == list(range(tile.count - len(orders[owner]), tile.count))
