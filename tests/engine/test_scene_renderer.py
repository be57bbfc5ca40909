"""The scene renderer: inner pixels from the camera view and by rays, soft-edge blending, the outer
cache, depth compositing of several assets, missing and corrupt assets. The demo stage is scaled
down 8 times (240 x 135 canvases); the procedural demo scene is the real one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from devices.tracking.hub import TrackingHub
from render.assets import PinholeCamera
from render.node.frame_renderer import NodeFrameRenderer
from render.scene import SceneCanvasRenderer
from render.scene.inner_pixels import inner_pixels
from render.scene.loaded import LoadedAsset, load_scene
from render.scene.renderer import render_bgrx
from tests.engine.analytic_assets import PlaneAsset, plane_colour, splat_plane
from tests.engine.helpers import jobs_from_plan, node_assignment
from vpstage.frame_master import Planner
from vpstage.frustum.camera_view import led_image_size
from vpstage.frustum.dod import dod_crop
from vpstage.frustum.kooima import inner_pinhole
from vpstage.frustum.node import StageFrustum, dod_image_bounds
from vpstage.frustum.scene import default_scene_bounds
from vpstage.nodes.jobs import CanvasJob, FrameJob, RenderQuality, SceneContent
from vpstage.nodes.spec import NodeSpec
from vpstage.stage import Stage
from vpstage.stage.model import CameraInterleave, Placement
from vpstage.stage.model import SceneAsset as SceneAssetModel
from vpstage.stage.scaling import scaled_stage
from vpstage.timing import FrameClock, ManualTimeSource
from vpstage.tracking.sample import CameraSample

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"
T0 = 10**12


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


def with_scene(stage: Stage, names: list[str], placements: dict[str, Placement] | None = None,
               soft_edge_pct: float = 0.0) -> Stage:
    project = stage.project.model_copy(deep=True)
    project.scene = [SceneAssetModel(name=n, path=f"procedural:{n}", placement=(placements or {}).get(n, Placement()))
                     for n in names]
    project.cameras[0].soft_edge_pct = soft_edge_pct
    return Stage.from_project(project, stage.layout.base_dir)


def plan_frame(stage: Stage, quality: RenderQuality, pose: tuple = ((0.0, -2.0, 1.6), 20.0, 5.0),
               focal_mm: float = 24.0) -> tuple[Planner, dict[str, FrameJob]]:
    """One frame planned for a FreeD camera at ``pose``; node -> FrameJob."""
    hub = TrackingHub(stage.project)
    (x, y, z), pan, tilt = pose
    hub.push("sim", CameraSample(protocol="freed", source="127.0.0.1", camera_id=1, arrival_ns=T0, x_m=x, y_m=y, z_m=z,
                                 pan_deg=pan, tilt_deg=tilt, roll_deg=0.0, zoom_raw=round(focal_mm * 100),
                                 focus_raw=30_000, user_bits=280))
    planner = Planner(stage, hub, quality=quality)
    tick = FrameClock(stage.project.frame_rate, time_source=ManualTimeSource(T0), start_ns=T0).tick(0)
    return planner, jobs_from_plan(stage, planner.plan(tick), node_assignment(stage))


def plan(stage: Stage, quality: RenderQuality, pose: tuple = ((0.0, -2.0, 1.6), 20.0, 5.0),
         focal_mm: float = 24.0) -> tuple[Planner, dict[str, CanvasJob]]:
    """One frame planned for a FreeD camera at ``pose``; canvas -> CanvasJob."""
    planner, jobs = plan_frame(stage, quality, pose, focal_mm)
    return planner, {c.canvas: c for job in jobs.values() for c in job.canvases}


def render(renderer: SceneCanvasRenderer, job: CanvasJob, content: SceneContent | None = None) -> np.ndarray:
    """The canvas as a (H, W, 4) uint8 BGRX picture."""
    return render_bgrx(renderer, job, content or job.content)  # type: ignore[arg-type]


def rgb_of(out: np.ndarray) -> np.ndarray:
    return out[..., 2::-1].astype(np.float64) / 255.0


def bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Samples of (H, W, C) at continuous pixel coordinates (pixel centres at i + 0.5), clamped."""
    h, w = image.shape[:2]
    fx, fy = np.clip(x - 0.5, 0, w - 1), np.clip(y - 0.5, 0, h - 1)
    x0, y0 = np.minimum(np.floor(fx).astype(int), w - 2), np.minimum(np.floor(fy).astype(int), h - 2)
    ax, ay = (fx - x0)[:, None], (fy - y0)[:, None]
    top = image[y0, x0] * (1 - ax) + image[y0, x0 + 1] * ax
    bottom = image[y0 + 1, x0] * (1 - ax) + image[y0 + 1, x0 + 1] * ax
    return top * (1 - ay) + bottom * ay


# ----------------------------------------------------------------------------- the demo scene


@pytest.fixture(scope="module")
def demo(small: Stage) -> tuple[Stage, SceneCanvasRenderer]:
    return small, SceneCanvasRenderer(small, "cpu")


def test_inner_pixels_match_the_frustum_module(small: Stage) -> None:
    _, jobs = plan(small, RenderQuality())
    view = jobs["wall-centre"].content.inner[0]
    frustum = StageFrustum(small).canvas("wall-centre", view.frustum())
    pixels = inner_pixels(frustum, torch.device("cpu"))
    mask = frustum.mask()
    flat = np.flatnonzero(mask.ravel())
    assert len(pixels) == frustum.inner_pixels == flat.size > 0
    order = np.argsort(pixels.index.numpy())
    np.testing.assert_array_equal(pixels.index.numpy()[order], flat)
    np.testing.assert_allclose(pixels.uv.numpy()[order], frustum.uv().reshape(-1, 2)[flat], atol=2e-5)
    np.testing.assert_allclose(pixels.weight.numpy()[order],
                               frustum.frustum.edge_weight(frustum.uv().reshape(-1, 2)[flat]), atol=1e-5)
    uv = pixels.uv.numpy()  # the window known on the host bounds exactly the pixels' UV
    np.testing.assert_allclose(pixels.uv_window(), (*uv.min(axis=0), *uv.max(axis=0)), atol=1e-5)


def test_an_inner_pixel_shows_the_camera_view_at_its_uv(demo: tuple[Stage, SceneCanvasRenderer]) -> None:
    stage, renderer = demo
    quality = RenderQuality(inner_scale=0.5, outer_scale=0.1)
    _, jobs = plan(stage, quality)
    job = jobs["wall-centre"]
    out = rgb_of(render(renderer, job))
    # the camera view, rendered whole and independently, sampled at each inner pixel's UV
    view = job.content.inner[0]
    frustum = StageFrustum(stage).canvas("wall-centre", view.frustum())
    pixels = inner_pixels(frustum, torch.device("cpu"))
    matrix = np.eye(4)
    crop = dod_crop(frustum.frustum, dod_image_bounds(frustum.image_bounds, frustum.frustum), matrix,
                    default_scene_bounds(stage, matrix))
    width, height = led_image_size(frustum, quality.inner_scale)
    pinhole = inner_pinhole(frustum.frustum, width, height, matrix)
    k = pinhole.intrinsics
    full = renderer.assets["demo"].asset.render_pinhole(  # type: ignore[union-attr]
        PinholeCamera(world_to_camera=pinhole.world_to_camera, fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy, width=width,
                      height=height), crop=crop.box)
    uv = pixels.uv.numpy().astype(np.float64)
    expected = bilinear(full.rgb.numpy().astype(np.float64), uv[:, 0] * width, uv[:, 1] * height)
    got = out.reshape(-1, 3)[pixels.index.numpy()]
    assert got.shape[0] > 500
    assert np.abs(got - expected).max() <= 2.5 / 255


def test_outer_pixels_come_from_a_cache_reused_until_the_scene_changes(demo: tuple[Stage, SceneCanvasRenderer],
                                                                      ) -> None:
    stage, renderer = demo
    quality = RenderQuality(inner_scale=0.5, outer_scale=0.1)
    planner, jobs = plan(stage, quality)
    job = jobs["wall-left"]
    assert isinstance(job.content, SceneContent) and not job.content.inner  # the camera looks elsewhere
    first = render(renderer, job)
    renders = renderer.outer.renders
    assert renders > 0 and first[..., :3].mean() > 20  # sky, trees and grass
    again = render(renderer, job)
    assert renderer.outer.renders == renders
    np.testing.assert_array_equal(again, first)
    planner.set_placement("demo", Placement(translation=(0.0, 0.0, -0.5)))  # the ground rises 0.5 m
    moved = planner.scene
    assert moved.outer.cache_key != job.content.outer.cache_key  # type: ignore[union-attr]
    changed = render(renderer, job, SceneContent(rays=job.content.rays, inner=(), outer=moved.outer,
                                                 placements=moved.placements, quality=quality))
    assert renderer.outer.renders > renders
    assert np.abs(changed.astype(int) - first.astype(int)).mean() > 1.0


# ----------------------------------------------------------------------------- analytic assets


def analytic_renderer(stage: Stage, assets: dict[str, object]) -> SceneCanvasRenderer:
    loaded = {m.name: LoadedAsset(m, assets[m.name], None, f"hash-{m.name}") for m in stage.project.scene}
    return SceneCanvasRenderer(stage, "cpu", loaded)  # type: ignore[arg-type]


def test_ray_assets_get_one_ray_per_inner_led(small: Stage) -> None:
    # a plane 0.5 m under the stage floor (asset frame: stage shifted up 0.5 m, so z = 0 there)
    stage = with_scene(small, ["floor"], {"floor": Placement(translation=(0.0, 0.0, 0.5))})
    plane = PlaneAsset("floor", 0.0)
    renderer = analytic_renderer(stage, {"floor": plane})
    _, jobs = plan(stage, RenderQuality(inner_scale=1.0, outer_scale=0.1), ((0.0, -1.0, 1.6), 0.0, -35.0), 18.0)
    job = jobs["wall-centre"]
    out = rgb_of(render(renderer, job))
    assert plane.ray_calls == 1
    view = job.content.inner[0]
    canvas = StageFrustum(stage).canvas("wall-centre", view.frustum())
    ys, xs = np.nonzero(canvas.mask())
    eye = view.state.eye
    checked = 0
    for x, y in list(zip(xs, ys, strict=True))[:: max(1, len(xs) // 300)]:
        led = canvas.geometry.position(int(x), int(y))
        d = (led - eye) / np.linalg.norm(led - eye)
        if d[2] >= -1e-3:
            continue
        hit = eye + (-0.5 - eye[2]) / d[2] * d + np.array([0.0, 0.0, 0.5])   # into the asset frame
        np.testing.assert_allclose(out[y, x], plane_colour(hit), atol=1.0 / 255)
        checked += 1
    assert checked > 100


def test_soft_edge_blends_inner_over_outer(small: Stage) -> None:
    stage = with_scene(small, ["floor"], {"floor": Placement(translation=(0.0, 0.0, 0.5))}, soft_edge_pct=20.0)
    renderer = analytic_renderer(stage, {"floor": PlaneAsset("floor", 0.0)})
    _, jobs = plan(stage, RenderQuality(inner_scale=1.0, outer_scale=0.2), ((0.0, -1.0, 1.6), 0.0, -35.0), 18.0)
    job = jobs["wall-centre"]
    content = job.content
    blended = rgb_of(render(renderer, job))
    outer = rgb_of(render(renderer, job, SceneContent(rays=content.rays, inner=(), outer=content.outer,
                                                      placements=content.placements, quality=content.quality)))
    hard = dataclasses.replace(content, inner=tuple(
        dataclasses.replace(v, settings=dataclasses.replace(v.settings, soft_edge_pct=0.0)) for v in content.inner))
    inner = rgb_of(render(renderer, job, hard))
    canvas = StageFrustum(stage).canvas("wall-centre", content.inner[0].frustum())
    weights = canvas.weights()
    band = (weights > 0.05) & (weights < 0.95)
    assert band.sum() > 50
    expected = weights[..., None] * inner + (1 - weights[..., None]) * outer
    assert np.abs(blended[band] - expected[band]).max() <= 2.0 / 255
    assert np.abs(blended[band] - inner[band]).max() > 10.0 / 255  # the blend is visible


def test_assets_composite_by_depth_in_stage_metres(small: Stage) -> None:
    # red: a plane 3 m in front of the wall (stage y = 2.5); green: a plane at stage y = 1.0 in an
    # asset frame twice the stage's scale (scene y = 2.0 + 0.4), so its scene depths are larger
    red = splat_plane((0.9, 0.1, 0.1), 2.5, 3.0, (-0.5, 4.0), 0.1)
    green = splat_plane((0.1, 0.8, 0.2), 2.4, 6.0, (-1.0, 8.0), 0.2)
    placements = {"green": Placement(translation=(0.0, 0.4, 0.0), scale=2.0)}

    def centre_colour(near_green: bool) -> np.ndarray:
        names = ["red", "green"]
        moved = dict(placements) if near_green else {"green": Placement(translation=(0.0, -5.6, 0.0), scale=2.0)}
        stage = with_scene(small, names, moved)
        renderer = analytic_renderer(stage, {"red": red, "green": green})
        _, jobs = plan(stage, RenderQuality(inner_scale=0.5, outer_scale=0.05), ((0.0, -2.0, 1.6), 0.0, 0.0), 35.0)
        job = jobs["wall-centre"]
        out = rgb_of(render(renderer, job))
        canvas = StageFrustum(stage).canvas("wall-centre", job.content.inner[0].frustum())
        return out[canvas.mask()].mean(axis=0)

    near = centre_colour(True)   # green at stage y = 1.0 (3 m from the camera), red at 2.5 (4.5 m)
    assert near[1] > 0.6 and near[0] < 0.25, near
    far = centre_colour(False)   # green moved to stage y = 4.0 (behind red)
    assert far[0] > 0.7 and far[1] < 0.25, far


# ----------------------------------------------------------------------------- bad assets


@pytest.mark.parametrize("make", [
    lambda folder: "missing.ply",
    lambda folder: (folder / "corrupt.ply").write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 99"
                                                       b"\nproperty float x\nend_header\n\x00\x01") and "corrupt.ply",
])
def test_a_missing_or_corrupt_asset_shows_the_error_card(small: Stage, tmp_path: Path,
                                                         make: Callable[[Path], str]) -> None:
    name = make(tmp_path)
    project = small.project.model_copy(deep=True)
    project.scene = [SceneAssetModel(name="set", path=str(tmp_path / name))]
    stage = Stage.from_project(project, small.layout.base_dir)
    assert load_scene(stage, "cpu")["set"].error is not None
    spec = NodeSpec(node="node1", device="cpu", project=project, base_dir=str(small.layout.base_dir),
                    scene_renderer="render.scene:build_scene_renderer")
    renderer = NodeFrameRenderer(spec, dict.fromkeys(stage.canvases_of_node("node1"), "BGRX"))
    try:
        _, jobs = plan_frame(stage, RenderQuality())
        result = renderer.render(jobs["node1"])
        try:
            reason = result.errors["wall-centre"]
            assert "set" in reason and name in reason
            assert renderer.info()["scene"]["assets"]["set"]["error"]  # type: ignore[index]
            picture = result.slots["wall-centre"][1].array
            assert picture[..., 2].mean() > 60  # the red error card
        finally:
            result.release()
    finally:
        renderer.close()


# ----------------------------------------------------------------------------- several cameras

FLAT = DEMO.parent / "flat_wall.yaml"
FLOOR = Placement(translation=(0.0, 0.0, 0.5))  # the analytic plane 0.5 m under the stage floor
SEEN = {"flat": "main", "demo": "wall-centre"}
"""The canvas both cameras look at, per stage."""


@pytest.fixture(scope="module")
def small_flat(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(FLAT), 8, tmp_path_factory.mktemp("flat8"))


def two_cameras(stage: Stage, soft_edge_pct: float = 0.0, **fields: dict[str, object]) -> Stage:
    """``stage`` with the analytic floor as its scene and cameras A (stream 1) and B (stream 2) on its
    first tracker, A listed first; ``fields`` (camera name -> field values) set priority, interleave."""
    project = stage.project.model_copy(deep=True)
    project.scene = [SceneAssetModel(name="floor", path="procedural:floor", placement=FLOOR)]
    first = project.cameras[0].model_copy(update={"name": "A", "camera_id": 1, "lens": "physical",
                                                  "soft_edge_pct": soft_edge_pct, "overscan_pct": 0.0})
    project.cameras = [first.model_copy(update={"name": name, "camera_id": i + 1, **fields.get(name, {})})
                       for i, name in enumerate(("A", "B"))]
    return Stage.from_project(project, stage.layout.base_dir)


POSES = {"A": ((-0.35, -2.2, 1.5), 8.0, -22.0), "B": ((0.35, -2.2, 1.5), -8.0, -22.0)}
"""Two cameras side by side looking down at the centre of the wall: their inner frusta overlap."""


def plan_two(stage: Stage, frames: int = 1, between: Callable[[Planner, int], None] | None = None,
             ) -> tuple[Planner, list[SceneContent]]:
    """Plan ``frames`` frames of both cameras (``between(planner, i)`` runs before frame i); the
    content of the canvas they look at, per frame."""
    hub = TrackingHub(stage.project)
    tracker = stage.project.tracking[0].name
    for k, ((x, y, z), pan, tilt) in enumerate(POSES.values()):
        hub.push(tracker, CameraSample(protocol="freed", source="127.0.0.1", camera_id=k + 1, arrival_ns=T0, x_m=x,
                                       y_m=y, z_m=z, pan_deg=pan, tilt_deg=tilt, roll_deg=0.0, focal_length_mm=24.0))
    planner = Planner(stage, hub, quality=RenderQuality(inner_scale=1.0, outer_scale=0.15))
    clock = FrameClock(stage.project.frame_rate, time_source=ManualTimeSource(T0), start_ns=T0)
    contents = []
    canvas = SEEN["flat" if len(stage.project.canvases) == 1 else "demo"]
    for i in range(frames):
        if between is not None:
            between(planner, i)
        jobs = jobs_from_plan(stage, planner.plan(clock.tick(i)), node_assignment(stage))
        contents += [c.content for job in jobs.values() for c in job.canvases if c.canvas == canvas]
    return planner, contents  # type: ignore[return-value]


def size(stage: Stage, canvas: str) -> tuple[int, int]:
    found = next(c for c in stage.project.canvases if c.name == canvas)
    return found.width, found.height


def blended(renderer: SceneCanvasRenderer, stage: Stage, job: CanvasJob, content: SceneContent,
            ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """What blending ``content.inner`` in turn must give: the outer picture, then per view (in the
    content's order) ``w * inner + (1 - w) * below`` with its soft-edge weights w. Also per camera
    its hard-edged inner picture and weights."""
    outer = rgb_of(render(renderer, job, dataclasses.replace(content, inner=())))
    expected, layers = outer, {}
    for view in content.inner:
        hard = dataclasses.replace(view, settings=dataclasses.replace(view.settings, soft_edge_pct=0.0))
        alone = rgb_of(render(renderer, job, dataclasses.replace(content, inner=(hard,))))
        weights = StageFrustum(stage).canvas(job.canvas, view.frustum()).weights().astype(np.float64)
        layers[view.camera] = (alone, weights)
        expected = weights[..., None] * alone + (1 - weights[..., None]) * expected
    return expected, layers


@pytest.mark.parametrize("which", ["flat", "demo"])
def test_the_higher_priority_camera_wins_the_overlap_and_keeps_its_soft_edge(
        which: str, small_flat: Stage, small: Stage) -> None:
    stage = two_cameras(small_flat if which == "flat" else small, soft_edge_pct=12.0)
    renderer = analytic_renderer(stage, {"floor": PlaneAsset("floor", 0.0)})
    _, (content,) = plan_two(stage)
    assert [v.camera for v in content.inner] == ["B", "A"]  # by list order A is higher: blended last
    job = CanvasJob(SEEN[which], *size(stage, SEEN[which]), content)
    out = rgb_of(render(renderer, job))
    expected, layers = blended(renderer, stage, job, content)
    (a, wa), (b, wb) = layers["A"], layers["B"]
    both = (wa >= 1.0) & (wb >= 1.0)
    lit = np.abs(a - b).max(axis=-1) > 8 / 255   # where the two perspectives differ visibly
    assert (both & lit).sum() > 40
    assert np.abs(out[both] - a[both]).max() <= 1.5 / 255            # A's pixels, not B's
    band = (wa > 0.05) & (wa < 0.95) & (wb >= 1.0) & lit             # A's soft edge over B's core
    assert band.sum() > 20
    np.testing.assert_allclose(out[band], (wa[..., None] * a + (1 - wa[..., None]) * b)[band], atol=2 / 255)
    assert np.abs(out - expected).max() <= 2 / 255                   # everywhere: B first, then A over it


def test_priority_then_the_active_camera_decide_the_order_and_switch_within_a_frame(small_flat: Stage) -> None:
    stage = two_cameras(small_flat, B={"priority": 10})
    renderer = analytic_renderer(stage, {"floor": PlaneAsset("floor", 0.0)})
    switches = {1: "A", 2: None}

    def switch(planner: Planner, i: int) -> None:
        if i in switches:
            planner.set_active_camera(switches[i])

    planner, contents = plan_two(stage, 3, switch)
    assert [[v.camera for v in c.inner] for c in contents] == [["A", "B"], ["B", "A"], ["A", "B"]]
    pictures = []
    for content in contents:
        job = CanvasJob("main", *size(stage, "main"), content)
        pictures.append(rgb_of(render(renderer, job)))
    _, layers = blended(renderer, stage, job, contents[0])
    (a, wa), (b, wb) = layers["A"], layers["B"]
    overlap = (wa >= 1.0) & (wb >= 1.0) & (np.abs(a - b).max(axis=-1) > 8 / 255)
    assert overlap.sum() > 40
    # frame 0: B (priority 10) on top; frame 1: A made active by the operator; frame 2: default again
    for picture, top in zip(pictures, (b, a, b), strict=True):
        assert np.abs(picture[overlap] - top[overlap]).max() <= 1.5 / 255
    with pytest.raises(KeyError):
        planner.set_active_camera("C")


def test_interleaved_cameras_take_turns_on_the_wall(small_flat: Stage) -> None:
    stage = two_cameras(small_flat, A={"interleave": CameraInterleave(every=2, phase=0)},
                        B={"interleave": CameraInterleave(every=2, phase=1)})
    planner, contents = plan_two(stage, 4)
    counts = [FrameClock(stage.project.frame_rate, time_source=ManualTimeSource(T0), start_ns=T0).tick(i).count
              for i in range(4)]
    for count, content in zip(counts, contents, strict=True):
        assert [v.camera for v in content.inner] == (["A"] if count % 2 == 0 else ["B"])
    assert planner.last is not None
    assert [(c.name, c.on_wall, c.interleave) for c in planner.last.cameras] == [
        ("A", counts[-1] % 2 == 0, (2, 0)), ("B", counts[-1] % 2 == 1, (2, 1))]


def test_canvases_of_a_node_share_one_camera_view_per_asset(small: Stage) -> None:
    """node1's two walls both seen by the camera: one camera-view render per asset for the frame
    (not one per canvas), and each canvas close to what it shows rendered on its own."""
    stage = with_scene(small, ["floor", "sky"], {"sky": Placement(translation=(0.0, 0.0, -3.0))})
    assets = {"floor": PlaneAsset("floor", 0.0), "sky": PlaneAsset("sky", 0.0)}
    quality = RenderQuality(inner_scale=0.5, outer_scale=0.05)  # below 1: the camera-view path
    pose = next(p for p in (((0.0, -2.0, 1.6), pan, 5.0) for pan in range(-60, 61, 10))
                if sum(bool(c.content.inner) for c in plan_frame(stage, quality, p)[1]["node1"].canvases) == 2)
    job = plan_frame(stage, quality, pose)[1]["node1"]
    shared = analytic_renderer(stage, assets)
    shared.begin_frame(job)
    together = {c.canvas: render(shared, c) for c in job.canvases}
    assert shared.views.renders == 2  # one per asset, for both canvases
    alone = analytic_renderer(stage, assets)
    for canvas_job in job.canvases:
        separate = render(alone, canvas_job, dataclasses.replace(canvas_job.content))  # not this frame's: alone
        diff = np.abs(rgb_of(together[canvas_job.canvas]) - rgb_of(separate))
        assert diff.mean() < 2 / 255 and np.percentile(diff, 99) < 12 / 255  # resampled, not different
    assert alone.views.renders == 4  # per canvas and asset


def test_warming_the_outer_cache_spares_the_first_frame_its_cube_map(small: Stage) -> None:
    renderer = SceneCanvasRenderer(small, "cpu")
    renderer.warm_outer(["wall-centre"])
    warmed = renderer.outer.renders
    assert warmed > 0
    _, jobs = plan(small, RenderQuality())
    render(renderer, jobs["wall-centre"])
    assert renderer.outer.renders == warmed  # the first frame's outer picture came from the cache
    _, other = plan(small, RenderQuality(outer_scale=0.5))
    render(renderer, other["wall-centre"])
    assert renderer.outer.renders > warmed  # another quality: its own cube map
