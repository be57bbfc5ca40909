"""The inner frustum's footprint on the wall, checked by hand on flat_wall.yaml (X -3..3 m, Z 0..3 m
in the plane Y = 0) and on the demo volume's arc."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.frustum import CameraFrustum, FrustumSettings, wall_footprint
from vpstage.frustum.footprint import window_border
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState

SENSOR = (24.88, 13.99)


def camera(eye: tuple[float, float, float], pan: float = 0.0, tilt: float = 0.0, focal: float = 35.0) -> CameraState:
    return CameraState.from_pan_tilt_roll(eye, pan, tilt, 0.0, focal, *SENSOR)


def test_a_view_inside_the_wall_is_one_closed_loop_on_the_window_edges() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml")
    cam = camera((0.0, -2.0, 1.5))
    frustum = CameraFrustum.from_camera(cam, FrustumSettings.uniform(10.0))
    footprint = wall_footprint(frustum, stage.layout.cabinets.corners, samples_per_edge=8)
    assert footprint.closed and len(footprint.paths) == 1
    loop = footprint.paths[0]
    assert loop.shape == (32, 3) and np.allclose(loop[:, 1], 0.0, atol=1e-9)  # on the wall plane
    xl, xr, yt, yb = frustum.window  # tangents: at 2 m the window is 2 * tangent wide
    assert loop[:, 0].min() == pytest.approx(2.0 * xl) and loop[:, 0].max() == pytest.approx(2.0 * xr)
    assert loop[:, 2].max() == pytest.approx(1.5 - 2.0 * yt) and loop[:, 2].min() == pytest.approx(1.5 - 2.0 * yb)
    assert loop[0] == pytest.approx([2.0 * xl, 0.0, 1.5 - 2.0 * yt])  # starts at the image's top-left


def test_a_view_over_the_top_of_the_wall_leaves_open_pieces() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml")
    frustum = CameraFrustum.from_camera(camera((0.0, -2.0, 2.6), tilt=10.0), FrustumSettings())
    footprint = wall_footprint(frustum, stage.layout.cabinets.corners, samples_per_edge=16)
    assert not footprint.closed and footprint.paths
    for path in footprint.paths:
        assert len(path) >= 2 and np.all(path[:, 2] <= 3.0 + 1e-9)  # never above the wall's top edge
    assert min(p[:, 2].min() for p in footprint.paths) < 3.0


def test_looking_away_from_the_wall_has_no_footprint() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml")
    frustum = CameraFrustum.from_camera(camera((0.0, -2.0, 1.5), pan=180.0), FrustumSettings())
    footprint = wall_footprint(frustum, stage.layout.cabinets.corners)
    assert footprint.paths == () and footprint.cabinets == frozenset()


def test_cabinets_seen_from_behind_do_not_count() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml")  # LEDs face -Y; the camera stands behind, at +Y
    frustum = CameraFrustum.from_camera(camera((0.0, 2.0, 1.5), pan=180.0), FrustumSettings())
    assert wall_footprint(frustum, stage.layout.cabinets.corners).paths == ()


def test_on_the_demo_arc_every_footprint_point_is_on_the_arc() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    frustum = CameraFrustum.from_camera(camera((0.5, -1.0, 1.6), pan=20.0, tilt=5.0), FrustumSettings.uniform(10.0))
    footprint = wall_footprint(frustum, stage.layout.cabinets.corners)
    assert footprint.paths and footprint.cabinets
    points = np.concatenate(footprint.paths)
    radius = np.hypot(points[:, 0], points[:, 1])
    on_wall = radius > 4.3  # the arc's flat cabinets sit between the chord and the 4.5 m circle
    on_ceiling = np.isclose(points[:, 2], 3.6, atol=0.05)
    assert np.all(on_wall | on_ceiling) and np.all(radius <= 4.5 + 1e-6)


def test_window_border_goes_round_the_window_once() -> None:
    border = window_border((-1.0, 1.0, -0.5, 0.5), 4)
    assert border.shape == (16, 2) and len({tuple(p) for p in border}) == 16
    assert border[0] == pytest.approx([-1.0, -0.5]) and border[4] == pytest.approx([1.0, -0.5])
    assert border[8] == pytest.approx([1.0, 0.5]) and border[12] == pytest.approx([-1.0, 0.5])
