"""Kooima off-axis projection: the reference's worked examples K-1 and K-2, the stage <-> GL
bridge, per-section and per-cabinet screens, and the inner-frustum pinhole."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.frustum import (
    STAGE_TO_GL,
    FrustumSettings,
    StageFrustum,
    kooima_projection_view,
    screen_projections,
)
from vpstage.frustum.kooima import frustum_matrix
from vpstage.stage import Stage
from vpstage.stage.model import Placement
from vpstage.tracking.camera import CameraState

K1 = np.array([[6.944444, 0, -1.736111, -3.472222],
               [0, 12.195122, -1.829268, -6.097561],
               [0, 0, -1.0002, 9.981998],
               [0, 0, -1.0, 10.0]])
K2 = np.array([[1.333333, 0, -0.333333, 0],
               [0, 2.666667, 0, -4.0],
               [0, 0, -1.002002, 3.807808],
               [0, 0, -1.0, 4.0]])


def ndc(matrix: np.ndarray, point: tuple[float, float, float]) -> np.ndarray:
    clip = matrix @ np.array([*point, 1.0])
    return np.asarray(clip[:3] / clip[3])


def test_k1_reproduces_the_published_example() -> None:
    pv = kooima_projection_view((-0.94, -0.32, 0), (1.94, -0.32, 0), (-0.94, 1.32, 0), (3, 2, 10), 0.01, 100)
    np.testing.assert_allclose(pv, K1, atol=5e-7)


def test_k2_led_wall() -> None:
    pv = kooima_projection_view((-3, 0, 0), (3, 0, 0), (-3, 3, 0), (1.0, 1.5, 4.0), 0.1, 100)
    np.testing.assert_allclose(pv, K2, atol=5e-7)
    for corner, expected in [((-3, 0, 0), (-1, -1)), ((3, 0, 0), (1, -1)), ((-3, 3, 0), (-1, 1)), ((3, 3, 0), (1, 1))]:
        assert ndc(pv, corner) == pytest.approx([*expected, 0.951952], abs=1e-6)
    assert ndc(pv, (0, 1.5, 0))[:2] == pytest.approx([0, 0], abs=1e-12)
    assert ndc(pv, (0, 1.5, -2))[:2] == pytest.approx([0.1111, 0], abs=1e-4)


def test_zero_one_depth_and_invalid_inputs() -> None:
    p = frustum_matrix(-1, 1, -1, 1, 0.1, 100, depth="zero_one")
    assert p[2].tolist() == pytest.approx([0, 0, -100 / 99.9, -10 / 99.9])
    with pytest.raises(ValueError, match="behind the screen"):
        kooima_projection_view((-3, 0, 0), (3, 0, 0), (-3, 3, 0), (1.0, 1.5, -4.0), 0.1, 100)
    with pytest.raises(ValueError, match="near"):
        kooima_projection_view((-3, 0, 0), (3, 0, 0), (-3, 3, 0), (1.0, 1.5, 4.0), 0.0, 100)


def test_flat_wall_through_the_stage_bridge_is_k2() -> None:
    """flat_wall.yaml is K-2's wall in the stage frame (x = X, y = Z, z = -Y)."""
    assert STAGE_TO_GL[:3, :3] @ np.array([1.0, 2.0, 3.0]) == pytest.approx([1.0, 3.0, -2.0])
    stage = Stage.open(STAGES / "flat_wall.yaml")
    eye = np.array([1.0, -4.0, 1.5])  # K-2's eye (1, 1.5, 4) in the stage frame
    screen, = screen_projections(stage, eye, 0.1, 100)
    assert screen.section == "wall" and len(screen.cabinets) == 72
    np.testing.assert_allclose(screen.projection_view, K2, atol=5e-7)
    corners = stage.layout.cabinets.corners.reshape(-1, 3)
    projected = np.array([ndc(screen.stage_projection_view, tuple(c)) for c in corners])
    assert projected[:, :2].min(axis=0) == pytest.approx([-1, -1])
    assert projected[:, :2].max(axis=0) == pytest.approx([1, 1])
    assert screen_projections(stage, np.array([0.0, 2.0, 1.5]), 0.1, 100) == []  # behind the wall


def test_arc_gets_one_screen_per_cabinet_and_the_ceiling_one() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    screens = screen_projections(stage, np.array([0.0, 0.0, 1.7]), 0.05, 50)
    by_section: dict[str, int] = {}
    for s in screens:
        by_section[s.section] = by_section.get(s.section, 0) + 1
    assert by_section == {"wall-left": 84, "wall-centre": 84, "wall-right": 84, "ceiling": 1}
    cab = stage.layout.cabinets
    for s in screens[::17]:  # every cabinet's corners land on its screen's NDC corners
        tl, tr, br, bl = cab.corners[s.cabinets[0]]
        got = [ndc(s.stage_projection_view, tuple(p))[:2] for p in (bl, br, tl, tr)]
        if s.section != "ceiling":
            assert np.allclose(got, [(-1, -1), (1, -1), (-1, 1), (1, 1)], atol=1e-9)
        else:
            assert np.all(np.abs(got) <= 1 + 1e-9)
    # restricted to one node's cabinets
    node2 = np.flatnonzero(np.isin(stage.layout.pixel_map.canvas, [2, 3]))
    assert {s.section for s in screen_projections(stage, np.array([0.0, 0.0, 1.7]), 0.05, 50, node2)} == {
        "wall-right", "ceiling"}


def test_node_pinhole_resamples_inner_pixels_at_their_uv() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    camera = CameraState.from_pan_tilt_roll((0.5, -1.0, 1.6), -30.0, 10.0, 0.0, 24.0, 24.88, 13.99,
                                            image_width=1920, image_height=1080)
    placement = Placement(translation=(1.0, 2.0, -0.5), yaw_deg=30.0, scale=2.0)
    nf = StageFrustum(stage).node("node1", camera, FrustumSettings.uniform(10.0), placement=placement)
    pinhole = nf.pinhole()
    k = pinhole.intrinsics
    assert (k.width, k.height) == (round(1920 * 1.2), round(1080 * 1.2))
    assert pinhole.world_to_camera[:3, :3] @ pinhole.world_to_camera[:3, :3].T == pytest.approx(np.eye(3))
    cf = nf.canvases["wall-centre"]
    ys, xs = np.nonzero(cf.mask())
    pick = np.random.default_rng(1).choice(len(xs), 50)
    stage_points = np.array([cf.geometry.position(int(x), int(y)) for x, y in zip(xs[pick], ys[pick], strict=True)])
    scene = stage_points @ placement.stage_to_scene()[:3, :3].T + placement.translation
    cam = scene @ pinhole.world_to_camera[:3, :3].T + pinhole.world_to_camera[:3, 3]
    pixels = np.stack([k.fx * cam[:, 0] / cam[:, 2] + k.cx, k.fy * cam[:, 1] / cam[:, 2] + k.cy], axis=1)
    uv = nf.frustum.project(stage_points)
    assert pixels == pytest.approx(uv * [k.width, k.height], abs=1e-6)
    x0, y0, x1, y1 = pinhole.rect
    assert np.all((pixels >= [x0, y0]) & (pixels <= [x1 - 1, y1 - 1]))
