"""DoD crops: every point an inner ray reaches inside the scene bounds lies in the node's crop."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.frustum import FrustumSettings, NodeFrustum, StageFrustum, full_frustum_crop
from vpstage.geometry import OrientedBox, body_rotation
from vpstage.stage import Stage
from vpstage.stage.model import Placement
from vpstage.tracking.camera import CameraState


@pytest.fixture(scope="module")
def demo() -> Stage:
    return Stage.open(STAGES / "demo.yaml")


def march(frusta: StageFrustum, nf: NodeFrustum, placement: Placement, bounds: OrientedBox, rng: np.random.Generator,
          rays_per_canvas: int = 25, steps: int = 300) -> tuple[int, int]:
    """March sampled inner rays from the eye to the far depth; return (points in bounds, in crop)."""
    in_bounds = in_crop = 0
    forward = placement.rotation() @ nf.frustum.rotation[:, 2]  # optical axis, scene frame
    for cf in nf.canvases.values():
        if cf.inner_rect is None:
            continue
        rays = frusta.rays(cf, placement, cf.inner_rect)
        origins, directions, _ = rays.packed("inner")
        pick = rng.choice(len(origins), min(rays_per_canvas, len(origins)), replace=False)
        o, d = origins[pick].astype(np.float64), directions[pick].astype(np.float64)
        t_max = placement.scale * nf.frustum.settings.far_m / (d @ forward)  # scene units to the far depth
        t = np.linspace(0.0, 1.0, steps)[None, :, None] * t_max[:, None, None]
        points = (o[:, None] + t * d[:, None]).reshape(-1, 3)
        inside = bounds.contains(points)
        in_bounds += int(inside.sum())
        if nf.dod is not None:
            kept = points[inside]  # in the boxes, and in the exact clipped cone; and in the canvas's own crop
            canvas_crop = nf.canvas_crop(cf.name)
            assert canvas_crop is not None or kept.size == 0
            in_canvas = canvas_crop.contains(kept) if canvas_crop is not None else np.ones(len(kept), dtype=bool)
            in_crop += int((nf.dod.contains(kept) & nf.dod.in_cone(kept, tol=1e-7) & in_canvas).sum())
    return in_bounds, in_crop


def random_case(rng: np.random.Generator) -> tuple[CameraState, Placement, OrientedBox, FrustumSettings]:
    """A camera inside the demo volume, a placement, rotated scene bounds around the stage, settings."""
    radius, heading = 3.5 * np.sqrt(rng.uniform()), rng.uniform(-180, 180)
    eye = (radius * np.sin(np.radians(heading)), radius * np.cos(np.radians(heading)), rng.uniform(0.4, 3.0))
    camera = CameraState.from_pan_tilt_roll(eye, rng.uniform(-180, 180), rng.uniform(-30, 85), rng.uniform(-20, 20),
                                            float(np.exp(rng.uniform(np.log(12), np.log(100)))), 24.88, 13.99,
                                            image_width=1920, image_height=1080)
    placement = Placement(translation=tuple(rng.uniform(-5, 5, 3)), yaw_deg=rng.uniform(-180, 180),
                          pitch_deg=rng.uniform(-30, 30), roll_deg=rng.uniform(-10, 10),
                          scale=float(np.exp(rng.uniform(np.log(0.5), np.log(3)))))
    centre = placement.stage_to_scene() @ np.array([*rng.uniform(-8, 8, 3), 1.0])
    bounds = OrientedBox(centre[:3], body_rotation(*rng.uniform(-180, 180, 3)),
                         rng.uniform(0.5, 20, 3) * placement.scale)
    settings = FrustumSettings(overscan_pct=tuple(rng.uniform(0, 25, 4)),  # type: ignore[arg-type]
                               far_m=rng.uniform(3, 60))
    return camera, placement, bounds, settings


def test_inner_rays_stay_inside_the_crop(demo: Stage) -> None:
    """Property test over seeded random cameras, placements, scene bounds and far distances."""
    frusta = StageFrustum(demo)
    rng = np.random.default_rng(2024)
    checked = cases_with_points = 0
    for _ in range(40):
        camera, placement, bounds, settings = random_case(rng)
        for node in ("node1", "node2"):
            nf = frusta.node(node, camera, settings, bounds, placement)
            in_bounds, in_crop = march(frusta, nf, placement, bounds, rng)
            assert in_crop == in_bounds, f"{node}: {in_bounds - in_crop} marched points outside the DoD crop"
            if nf.inner_pixels and nf.dod is None:
                assert in_bounds == 0
            checked += in_bounds
            cases_with_points += in_bounds > 0
    assert cases_with_points >= 15 and checked > 20_000  # the property was exercised, not vacuous


def test_crop_is_the_nodes_share_of_the_frustum(demo: Stage) -> None:
    """A camera across the seam of node1's and node2's walls: each crop is smaller than the whole
    frustum's, and a deep point on a node1-only ray is outside node2's crop."""
    camera = CameraState.from_pan_tilt_roll((0.0, 0.0, 1.6), 44.6, 5.0, 0.0, 24.0, 24.88, 13.99)
    bounds = OrientedBox.from_aabb(np.array([-40.0, -40, -5]), np.array([40.0, 40, 30]))
    nodes = StageFrustum(demo).nodes(camera, FrustumSettings.uniform(5.0), bounds)
    full = full_frustum_crop(nodes["node1"].frustum, bounds, None)
    assert full is not None
    for nf in nodes.values():
        assert nf.dod is not None and nf.inner_pixels > 0
        assert nf.dod.box.volume() < 0.8 * full.box.volume()
    left_ray = nodes["node1"].frustum.image_plane_to_stage(np.array([-0.4, 0.0]))
    deep = nodes["node1"].frustum.eye + 30.0 * left_ray
    assert nodes["node1"].dod.contains(deep[None])[0] and not nodes["node2"].dod.contains(deep[None])[0]


def test_crop_for_another_asset_and_empty_crops(demo: Stage) -> None:
    camera = CameraState.from_pan_tilt_roll((0.0, 0.0, 1.6), 0.0, 0.0, 0.0, 35.0, 24.88, 13.99)
    nf = StageFrustum(demo).node("node1", camera, FrustumSettings(far_m=50.0))
    assert nf.dod is not None and nf.dod.aabb_max[1] == pytest.approx(50.0, abs=1e-6)  # far, looking along +Y
    # an asset behind the camera: the cone never meets its bounds
    behind = OrientedBox.from_aabb(np.array([-5.0, -20, 0]), np.array([5.0, -10, 5]))
    assert nf.crop_for(behind, None) is None
    # the same box seen through a placement that puts it in front of the camera
    turned = Placement(yaw_deg=180.0)
    crop = nf.crop_for(behind, turned)
    assert crop is not None and np.all(crop.aabb_max <= [5 + 1e-6, -10 + 1e-6, 5 + 1e-6])
