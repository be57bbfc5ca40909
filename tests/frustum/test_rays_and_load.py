"""Per-pixel rays (inner from the eye, outer from the viewpoint, stage -> scene), the outer-ray
cache, and load estimates."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.frustum import FrustumSettings, StageFrustum, estimate_load, estimate_loads
from vpstage.stage import Stage
from vpstage.stage.model import Placement, SceneAsset
from vpstage.tracking.camera import CameraState

PLACEMENT = Placement(translation=(2.0, -1.0, 0.5), yaw_deg=40.0, pitch_deg=5.0, scale=1.5)


@pytest.fixture(scope="module")
def demo() -> Stage:
    return Stage.open(STAGES / "demo.yaml")


def camera() -> CameraState:
    return CameraState.from_pan_tilt_roll((0.5, -1.0, 1.6), -30.0, 10.0, 0.0, 24.0, 24.88, 13.99,
                                          image_width=1920, image_height=1080)


def test_rays_pass_through_their_led_pixels(demo: Stage) -> None:
    frusta = StageFrustum(demo)
    cf = frusta.node("node1", camera(), FrustumSettings.uniform(10.0)).canvases["wall-centre"]
    rect = (700, 200, 1400, 700)
    rays = frusta.rays(cf, PLACEMENT, rect)
    assert rays.directions.shape == (500, 700, 3) and rays.directions.dtype == np.float32
    assert np.array_equal(rays.inner, cf.mask(rect)) and rays.inner.any() and (~rays.inner & rays.valid).any()
    lengths = np.linalg.norm(rays.directions[rays.valid], axis=-1)
    assert np.allclose(lengths, 1.0, atol=1e-5)
    m = PLACEMENT.stage_to_scene()
    assert rays.inner_origin == pytest.approx(m[:3, :3] @ cf.frustum.eye + m[:3, 3])
    assert rays.outer_origin == pytest.approx(m[:3, :3] @ np.array(demo.project.outer_viewpoint) + m[:3, 3])
    positions = demo.canvas_pixels("wall-centre").positions[200:700, 700:1400].astype(np.float64)
    scene = positions @ m[:3, :3].T + m[:3, 3]
    origins = rays.origins().astype(np.float64)
    to_led = scene - origins
    to_led /= np.linalg.norm(to_led, axis=-1, keepdims=True)
    assert np.abs(to_led[rays.valid] - rays.directions[rays.valid]).max() < 1e-4
    o, d, index = rays.packed("inner")
    assert len(o) == rays.inner.sum() and np.allclose(o, rays.inner_origin, atol=1e-5)
    assert np.array_equal(d, rays.directions.reshape(-1, 3)[index])


def test_outer_rays_are_cached_per_viewpoint_and_placement(demo: Stage) -> None:
    frusta = StageFrustum(demo)
    first = frusta.outer_directions("ceiling", PLACEMENT)
    assert frusta.outer_directions("ceiling", PLACEMENT) is first
    moved = frusta.outer_directions("ceiling", Placement(yaw_deg=10.0))
    assert moved is not first and not np.allclose(moved[100, 100], first[100, 100])
    valid = demo.canvas_pixels("ceiling").valid
    assert np.all(first[~valid] == 0) and np.allclose(np.linalg.norm(first[valid], axis=-1), 1, atol=1e-5)


def test_load_counts_pixels_times_enabled_cost_factors(demo: Stage) -> None:
    nodes = StageFrustum(demo).nodes(camera(), FrustumSettings.uniform(10.0))
    assets = [SceneAsset(name="a", path="procedural:demo", cost_factor=2.5),
              SceneAsset(name="b", path="x.ply", cost_factor=1.0),
              SceneAsset(name="off", path="y.ply", cost_factor=9.0, enabled=False)]
    node1 = nodes["node1"]
    assert node1.inner_pixels > 0 and node1.inner_pixels + node1.outer_pixels == 2 * 14 * 6 * 128 * 128
    load = estimate_load(node1, assets, outer_weight=0.25)
    assert load.cost == pytest.approx(3.5 * (node1.inner_pixels + 0.25 * node1.outer_pixels))
    loads = estimate_loads(nodes, assets, outer_weight=0.0)
    assert loads["node2"].cost == pytest.approx(3.5 * nodes["node2"].inner_pixels)
    with pytest.raises(ValueError):
        estimate_load(node1, assets, outer_weight=-1)


def test_compact_uv_coefficients_reproduce_the_dense_uv(demo: Stage) -> None:
    cf = StageFrustum(demo).node("node1", camera(), FrustumSettings.uniform(10.0)).canvases["wall-left"]
    footprints, coefficients = cf.uv_coefficients()
    assert len(footprints) == sum(len(s.members) for s in cf.spans) > 0
    uv, mask = cf.uv(), cf.mask()
    for (x0, y0, x1, y1), c in zip(footprints, coefficients, strict=True):
        xl = np.arange(x1 - x0)[None, :, None] + 0.5
        yl = np.arange(y1 - y0)[:, None, None] + 0.5
        h = c[0] + xl * c[1] + yl * c[2] + xl * yl * c[3]
        inner = mask[y0:y1, x0:x1]
        assert np.allclose((h[..., :2] / h[..., 2:])[inner], uv[y0:y1, x0:x1][inner], atol=1e-5)
