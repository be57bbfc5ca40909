"""Inner pixels of flat_wall.yaml, checked by hand and against the naive per-pixel projection.

The wall spans X -3..3 m, Z 0..3 m in the plane Y = 0, LEDs facing -Y; the canvas is a direct
image of it: canvas pixel (x, y) sits at X = -3 + (x + 0.5) p, Z = 3 - (y + 0.5) p, p = 0.5 / 192 m.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import STAGES
from tests.frustum.brute import assert_masks_agree
from vpstage.frustum import CameraFrustum, FrustumSettings, StageFrustum
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState

PITCH = 0.5 / 192
SENSOR = (24.88, 13.99)


@pytest.fixture(scope="module")
def flat() -> Stage:
    return Stage.open(STAGES / "flat_wall.yaml")


def square_camera(focal: float = 35.0, distance: float = 4.0) -> CameraState:
    return CameraState.from_pan_tilt_roll((0.0, -distance, 1.5), 0.0, 0.0, 0.0, focal, *SENSOR)


def hand_rect(x_range: tuple[float, float], z_range: tuple[float, float]) -> tuple[int, int, int, int]:
    """Canvas rectangle of the pixel centres with X and Z inside the given wall ranges."""
    x0 = math.ceil((x_range[0] + 3) / PITCH - 0.5)
    x1 = math.floor((x_range[1] + 3) / PITCH - 0.5) + 1
    y0 = math.ceil((3 - z_range[1]) / PITCH - 0.5)
    y1 = math.floor((3 - z_range[0]) / PITCH - 0.5) + 1
    return x0, y0, x1, y1


def test_square_camera_sees_the_hand_computed_rectangle(flat: Stage) -> None:
    nf = StageFrustum(flat).node("node1", square_camera())
    cf = nf.canvases["main"]
    half_w, half_h = 4.0 * 12.44 / 35, 4.0 * 6.995 / 35  # distance * half sensor / focal length
    rect = hand_rect((-half_w, half_w), (1.5 - half_h, 1.5 + half_h))
    assert rect == (606, 269, 1698, 883)
    assert cf.inner_rect == rect
    assert cf.inner_pixels == (rect[2] - rect[0]) * (rect[3] - rect[1])
    assert cf.outer_pixels == 2304 * 1152 - cf.inner_pixels
    # every inner pixel of a square-on camera is a full rectangle
    assert cf.mask()[rect[1]:rect[3], rect[0]:rect[2]].all()
    # the wall centre (between pixels 1151/1152 and 575/576) is the image centre
    uv = cf.uv((1151, 575, 1153, 577))
    assert uv.reshape(-1, 2).mean(axis=0) == pytest.approx([0.5, 0.5], abs=1e-6)
    assert nf.uv_window == pytest.approx((0.0, 0.0, 1.0, 1.0), abs=2e-3)


def test_off_axis_camera_matches_corner_rays_and_the_naive_projection(flat: Stage) -> None:
    camera = CameraState.from_pan_tilt_roll((0.8, -3.5, 1.2), 12.0, 6.0, 4.0, 35.0, *SENSOR,
                                            principal_offset_mm=(0.6, -0.4))
    frustum = CameraFrustum.from_camera(camera)
    cf = StageFrustum(flat).canvas("main", frustum)
    assert_masks_agree(flat, "main", frustum, cf.mask())
    # the four window-corner rays meet the wall plane Y = 0 at the inner region's corners
    xl, xr, yt, yb = frustum.window
    corners = np.array([[x, y, 1.0] for x in (xl, xr) for y in (yt, yb)]) @ frustum.rotation.T
    hits = frustum.eye + corners * (-frustum.eye[1] / corners[:, 1:2])
    expected = hand_rect((hits[:, 0].min(), hits[:, 0].max()), (hits[:, 2].min(), hits[:, 2].max()))
    x0, y0, x1, y1 = expected
    assert x0 > 0 and y0 > 0 and x1 < 2304 and y1 < 1152  # all of it on the wall
    assert cf.inner_rect is not None
    assert np.abs(np.subtract(cf.inner_rect, expected)).max() <= 1
    # UV of every inner pixel lies in the window and agrees with projecting the position map
    mask, uv = cf.mask(), cf.uv()
    assert uv[mask].min() >= -1e-6 and uv[mask].max() <= 1 + 1e-6
    assert np.abs(uv[mask] - frustum.project(flat.canvas_pixels("main").positions[mask])).max() < 1e-5
    assert (uv[~mask] == -1).all()


@pytest.mark.parametrize("eye, pan", [((0.0, -4.0, 1.5), 180.0), ((0.0, 3.0, 1.5), 180.0)],
                         ids=["facing-away", "behind-the-wall"])
def test_no_inner_pixels_when_facing_away_or_behind(flat: Stage, eye: tuple[float, float, float], pan: float) -> None:
    camera = CameraState.from_pan_tilt_roll(eye, pan, 0.0, 0.0, 35.0, *SENSOR)
    nf = StageFrustum(flat).node("node1", camera)
    cf = nf.canvases["main"]
    assert (cf.inner_pixels, cf.inner_rect, nf.dod, nf.uv_window) == (0, None, None, None)
    assert not cf.mask().any() and cf.outer_pixels == 2304 * 1152
    if eye[1] > 0:  # the back of the wall fills the view, but its LEDs face the other way
        positions = flat.canvas_pixels("main").positions.reshape(-1, 3)
        assert nf.frustum.contains(positions).sum() > 100_000


def test_overscan_grows_the_rectangle_by_the_expected_amount(flat: Stage) -> None:
    frusta = StageFrustum(flat)
    plain = frusta.node("node1", square_camera()).canvases["main"]
    grown = frusta.node("node1", square_camera(), FrustumSettings.uniform(10.0)).canvases["main"]
    half_w, half_h = 4.0 * 12.44 / 35, 4.0 * 6.995 / 35
    # 10 % of the window width on each side: the half-width grows by 0.2 of itself
    rect = hand_rect((-1.2 * half_w, 1.2 * half_w), (1.5 - 1.2 * half_h, 1.5 + 1.2 * half_h))
    assert grown.inner_rect == rect
    assert plain.inner_rect is not None
    assert rect[0] == pytest.approx(plain.inner_rect[0] - 0.2 * half_w / PITCH, abs=1)
    # overscan on the left only moves only the left edge
    left = frusta.node("node1", square_camera(), FrustumSettings(overscan_pct=(25.0, 0, 0, 0))).canvases["main"]
    assert left.inner_rect == hand_rect((-half_w - 0.5 * half_w, half_w), (1.5 - half_h, 1.5 + half_h))
    # the camera's own image stays at camera UV 0..1 inside the grown window
    assert grown.frustum.inner_to_camera_uv(np.array([1 / 12, 1 / 12])) == pytest.approx([0, 0], abs=1e-9)


def test_fov_multiplier_widens_the_angle(flat: Stage) -> None:
    settings = FrustumSettings(fov_multiplier=1.2)
    cf = StageFrustum(flat).node("node1", square_camera(50.0), settings).canvases["main"]
    half_w = 4.0 * math.tan(1.2 * math.atan(12.44 / 50))
    half_h = 4.0 * math.tan(1.2 * math.atan(6.995 / 50))
    assert cf.inner_rect == hand_rect((-half_w, half_w), (1.5 - half_h, 1.5 + half_h))


def test_soft_edge_weights_ramp_inside_the_window(flat: Stage) -> None:
    settings = FrustumSettings.uniform(10.0, soft_edge_pct=10.0)
    cf = StageFrustum(flat).node("node1", square_camera(), settings).canvases["main"]
    weights, uv, mask = cf.weights(), cf.uv(), cf.mask()
    assert (weights[~mask] == 0).all() and weights[mask].min() >= 0
    core = mask & np.all((uv >= 0.1) & (uv <= 0.9), axis=-1)
    assert core.sum() > 0 and np.allclose(weights[core], 1.0)
    band = mask & ~core
    expected = np.prod(np.clip(np.minimum(uv[band], 1 - uv[band]) / 0.1, 0, 1), axis=-1)
    assert np.allclose(weights[band], expected, atol=1e-5)
    # along the middle row the weight rises from the left edge to 1
    row = weights[576, cf.inner_rect[0]:1152] if cf.inner_rect else None
    assert row is not None and row[0] < 0.05 and np.all(np.diff(row) >= -1e-6) and row[-1] == 1.0


def test_settings_from_the_project_camera_and_bad_settings(flat: Stage) -> None:
    settings = FrustumSettings.for_camera(flat.project.cameras[0], far_m=40.0)
    assert settings == FrustumSettings.uniform(10.0, far_m=40.0)  # the model's default overscan
    for bad in ({"overscan_pct": (-1.0, 0, 0, 0)}, {"fov_multiplier": 0.0}, {"soft_edge_pct": 60.0},
                {"far_m": 0.0}, {"dod_margin_px": -1.0}):
        with pytest.raises(ValueError):
            FrustumSettings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="90 degrees"):
        CameraFrustum.from_camera(square_camera(10.0), FrustumSettings(fov_multiplier=2.0))
