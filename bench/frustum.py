"""Camera frustum on the wall: per-frame cost per canvas and node, dense maps, and DoD tightness.

    python -m bench.frustum [--repeat N] [--samples N]

Table 1 (per frame, what the planner calls): ``canvas`` = inner spans, counts, launch rectangle
and image bounds of one canvas; ``canvas+dod`` = that plus the DoD crop and load estimate of a
one-canvas node; ``pixel runs`` = the canvas's inner pixels as row runs (what a render node
computes per canvas on its render thread, ``vpstage.frustum.pixel_runs``); ``node`` =
``StageFrustum.node`` for the canvas's node (all its canvases, DoD).
Table 2 (on demand): dense mask / UV / soft-edge weights / rays over the inner rectangle, and the
naive projection of the whole canvas position map for comparison. Table 3: DoD tightness on the
demo stage: crop box volumes against the box around the whole frustum clipped to the same bounds,
and against the clipped cone's own volume (Monte Carlo).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.common import machine, print_table, summary_ms, time_call
from vpstage.frustum import CameraFrustum, FrustumSettings, StageFrustum, estimate_load, full_frustum_crop
from vpstage.frustum.dod import DodCrop, dod_crop
from vpstage.frustum.node import dod_image_bounds
from vpstage.frustum.pixel_runs import pixel_runs
from vpstage.frustum.scene import default_scene_bounds
from vpstage.geometry import OrientedBox
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState

STAGES = Path(__file__).resolve().parents[1] / "configs" / "stages"
SENSOR = (24.88, 13.99)
SETTINGS = FrustumSettings.uniform(10.0, soft_edge_pct=5.0)

# (label, eye, pan, tilt, roll, focal mm): large_volume's arc is centred on (0, -2), radius 10 m
LARGE_POSES = [
    ("wide 14mm", (0.0, -3.0, 1.8), -12.0, 12.0, 0.0, 14.0),
    ("normal 35mm", (1.0, -4.0, 1.6), -8.0, 10.0, 2.0, 35.0),
    ("tele 85mm", (0.0, -2.0, 2.0), -12.0, 12.0, 0.0, 85.0),
    ("tele 135mm", (-1.0, -5.0, 1.5), -5.0, 20.0, 0.0, 135.0),
]
DEMO_POSES = [
    ("wide 14mm", (0.0, -1.0, 1.6), 0.0, 15.0, 0.0, 14.0),
    ("seam 24mm", (0.5, -1.0, 1.6), -30.0, 10.0, 0.0, 24.0),
    ("up 18mm", (0.0, 0.0, 1.6), 20.0, 70.0, 0.0, 18.0),
    ("tele 85mm", (1.0, -2.0, 1.4), 20.0, 5.0, 0.0, 85.0),
]


def camera(pose: tuple, width: int = 3840, height: int = 2160) -> CameraState:
    _, eye, pan, tilt, roll, focal = pose
    return CameraState.from_pan_tilt_roll(eye, pan, tilt, roll, focal, *SENSOR, image_width=width, image_height=height)


def frame_rows(stage: Stage, canvas: str, poses: list[tuple], repeat: int) -> list[list[object]]:
    frusta = StageFrustum(stage)
    node = frusta.geometry(canvas).node
    bounds = default_scene_bounds(stage)
    assets = stage.project.scene
    rows: list[list[object]] = []
    for pose in poses:
        cam = camera(pose)
        frustum = CameraFrustum.from_camera(cam, SETTINGS)

        def one_canvas(f: CameraFrustum = frustum) -> object:
            cf = frusta.canvas(canvas, f)
            crop = None if cf.image_bounds is None else dod_crop(f, dod_image_bounds(cf.image_bounds, f),
                                                                 np.eye(4), bounds)
            return crop, cf.inner_pixels * sum(a.cost_factor for a in assets)

        t_canvas = summary_ms(time_call(lambda f=frustum: frusta.canvas(canvas, f), repeat))
        canvas_frustum = frusta.canvas(canvas, frustum)
        t_runs = summary_ms(time_call(lambda cf=canvas_frustum: pixel_runs(cf) if cf.inner_pixels else None, repeat))
        t_one = summary_ms(time_call(one_canvas, repeat))
        t_node = summary_ms(time_call(lambda c=cam: frusta.node(node, c, SETTINGS, bounds), repeat))
        nf = frusta.node(node, cam, SETTINGS, bounds)
        estimate_load(nf, assets)
        cf = nf.canvases[canvas]
        rows.append([stage.project.name, canvas, pose[0], f"{cf.inner_pixels:,}", t_canvas["median"],
                     t_one["median"], t_one["p99"], t_runs["median"], f"{node} ({len(nf.canvases)})", t_node["median"]])
    return rows


def dense_rows(stage: Stage, canvas: str, poses: list[tuple], repeat: int) -> list[list[object]]:
    frusta = StageFrustum(stage)
    frusta.outer_directions(canvas)  # static, cached before the frame loop
    rows: list[list[object]] = []
    naive = None
    for pose in poses:
        frustum = CameraFrustum.from_camera(camera(pose), SETTINGS)
        cf = frusta.canvas(canvas, frustum)
        rect = cf.inner_rect
        if rect is None:
            continue
        area = (rect[2] - rect[0]) * (rect[3] - rect[1])
        times = [summary_ms(time_call(fn, repeat))["median"] for fn in (
            lambda c=cf, r=rect: c.mask(r), lambda c=cf, r=rect: c.uv(r), lambda c=cf, r=rect: c.weights(r),
            lambda c=cf, r=rect: frusta.rays(c, None, r))]
        if naive is None:  # the naive way: project the whole position map (built and cached by Stage)
            positions = stage.canvas_pixels(canvas).positions
            naive = summary_ms(time_call(lambda f=frustum, p=positions: (f.contains(p), f.project(p)), 1))["median"]
        rows.append([stage.project.name, canvas, pose[0], f"{cf.inner_pixels:,}", f"{area:,}", *times, naive])
    return rows


def cone_fraction(crop: DodCrop, samples: int, rng: np.random.Generator) -> float:
    """Fraction of the crop box's volume inside the clipped cone (Monte Carlo)."""
    local = rng.uniform(-1.0, 1.0, (samples, 3)) * crop.box.half_extents
    points = crop.box.center + local @ crop.box.rotation.T
    return float(crop.in_cone(points).mean())


def tightness_rows(samples: int) -> list[list[object]]:
    stage = Stage.open(STAGES / "demo.yaml")
    frusta = StageFrustum(stage)
    rng = np.random.default_rng(0)
    boxes = {"default (+100 m)": default_scene_bounds(stage),
             "set 30x30x10 m": OrientedBox.from_aabb(np.array([-15.0, -15, -1]), np.array([15.0, 15, 9]))}
    rows: list[list[object]] = []
    for label, bounds in boxes.items():
        for pose in DEMO_POSES:
            cam = camera(pose, 1920, 1080)
            full = full_frustum_crop(CameraFrustum.from_camera(cam, SETTINGS), bounds, None)
            for node, nf in frusta.nodes(cam, SETTINGS, bounds).items():
                if nf.dod is None or full is None:
                    rows.append([label, pose[0], node, f"{nf.inner_pixels:,}", "-", "-", "-", "-", "-"])
                    continue
                per_canvas = [nf.canvas_crop(name) for name in nf.canvases]
                canvas_volume = sum(c.box.volume() for c in per_canvas if c is not None)
                aabb = float(np.prod(nf.dod.aabb_max - nf.dod.aabb_min))
                full_aabb = float(np.prod(full.aabb_max - full.aabb_min))
                rows.append([label, pose[0], node, f"{nf.inner_pixels:,}", f"{nf.dod.box.volume():,.0f}",
                             f"{nf.dod.box.volume() / full.box.volume():.2f}", f"{aabb / full_aabb:.2f}",
                             f"{cone_fraction(nf.dod, samples, rng):.2f}", f"{canvas_volume / full.box.volume():.2f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200_000, help="Monte Carlo samples per crop")
    args = parser.parse_args()
    large = Stage.open(STAGES / "large_volume.yaml")
    demo = Stage.open(STAGES / "demo.yaml")
    rows = frame_rows(large, "wall-2a", LARGE_POSES, args.repeat) + frame_rows(large, "ceiling", LARGE_POSES[:1],
                                                                                 args.repeat)
    rows += frame_rows(demo, "wall-centre", DEMO_POSES, args.repeat)
    print_table(f"Per-frame frustum work (median ms unless noted), {machine()}",
                ["stage", "canvas", "pose", "inner px", "canvas", "canvas+dod", "canvas+dod p99", "pixel runs",
                 "node (canvases)", "node"], rows)
    dense = dense_rows(large, "wall-2a", LARGE_POSES, max(3, args.repeat // 4))
    print_table("Dense maps on demand over the inner rectangle (median ms); naive = project the whole map",
                ["stage", "canvas", "pose", "inner px", "rect px", "mask", "uv", "weights", "rays", "naive"], dense)
    print_table("DoD tightness on demo.yaml: node crop against the whole inner frustum's crop (same bounds, far 100 m)",
                ["scene bounds", "pose", "node", "inner px", "crop box m³", "box / full box", "aabb / full aabb",
                 "cone / box", "canvas boxes / full box"], tightness_rows(args.samples))


if __name__ == "__main__":
    main()
