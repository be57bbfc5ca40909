"""Lens distortion in the inner frustum: the maths against OpenCV, and inner windows that cover the
distorted image's corners at every zoom and focus (checked with OpenCV's ``projectPoints``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vpstage.frustum import FrustumSettings, StageFrustum
from vpstage.frustum.frustum import CameraFrustum, inner_window
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import (
    BROWN_CONRADY_DU,
    BROWN_CONRADY_UD,
    LensDistortion,
    distort_points,
    undistort_points,
)
from vpstage.tracking.image_window import image_window, sensor_border, sensor_window

FLAT = Path(__file__).resolve().parents[2] / "configs" / "stages" / "flat_wall.yaml"
W, H = 1920, 1080

# A wide zoom through its range (focal mm, k1..k3 U-D): strong barrel at the wide end, mild
# pincushion at the long end, with a decentred distortion centre and principal point.
ZOOM_STEPS = [(14.0, (-0.22, 0.06, -0.005)), (24.0, (-0.12, 0.03, 0.0)), (50.0, (0.03, -0.01, 0.0)),
              (100.0, (0.06, 0.0, 0.0))]
FOCUS_STEPS = [(0.0, (0.0, 0.0)), (0.004, (0.25, -0.18))]
"""(added k1 as focus breathes, distortion offset mm): two focus settings per zoom step."""


def opencv_project(points: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """OpenCV's forward model on normalized points (N, 2): projectPoints of (x, y, 1), K = I."""
    xyz = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    out, _ = cv2.projectPoints(xyz, np.zeros(3), np.zeros(3), np.eye(3), coefficients)
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def camera(focal: float, distortion: LensDistortion, principal: tuple[float, float] = (0.3, -0.2)) -> CameraState:
    return CameraState.from_pan_tilt_roll((0.0, -3.0, 1.5), 0.0, 0.0, 0.0, focal, 24.88, 13.99, W, H,
                                          principal_offset_mm=principal, distortion=distortion)


def test_the_model_is_opencvs_and_each_direction_inverts_the_other() -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(-0.5, 0.5, (500, 2))
    for model in (BROWN_CONRADY_UD, BROWN_CONRADY_DU):
        d = LensDistortion(model=model, radial=(-0.3, 0.11, -0.02, 0.01, -0.004, 0.002), tangential=(1e-3, -2e-3))
        forward = opencv_project(points, d.opencv())  # the polynomial, whichever way it maps
        if model == BROWN_CONRADY_UD:
            np.testing.assert_allclose(distort_points(d, points), forward, atol=1e-12)
        else:
            np.testing.assert_allclose(undistort_points(d, points), forward, atol=1e-12)
        np.testing.assert_allclose(undistort_points(d, distort_points(d, points)), points, atol=1e-10)
        centre = (0.012, -0.021)
        np.testing.assert_allclose(distort_points(d, undistort_points(d, points, centre), centre), points,
                                   atol=1e-10)
    # an unknown model is kept but not applied
    odd = LensDistortion(model="Vendor Fisheye", radial=(0.4, 0.0, 0.0, 0.0, 0.0, 0.0))
    np.testing.assert_array_equal(undistort_points(odd, points), points)


def _covered(cam: CameraState, window: tuple[float, float, float, float]) -> tuple[float, float]:
    """How the window's border lands in the camera's distorted image (pixels, OpenCV's projectPoints
    where the model maps undistorted -> distorted): the deepest any border point reaches inside the
    sensor (<= 0: none does, so the whole sensor sees inside the window), and the closest it comes
    to the sensor's edge."""
    d = cam.distortion
    k = cam.intrinsics()
    border = sensor_border(window, 256)
    cx, cy = cam.distortion_centre()
    if d.model == BROWN_CONRADY_UD:
        image = opencv_project(border - (cx, cy), d.opencv()) + (cx, cy)
    else:  # OpenCV's forward model is this lens's distorted -> undistorted map: invert it with OpenCV
        image = cv2.undistortPoints((border - (cx, cy)).reshape(-1, 1, 2), np.eye(3), d.opencv(),
                                    criteria=(cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 100, 1e-14))
        image = np.asarray(image, dtype=np.float64).reshape(-1, 2) + (cx, cy)
    u, v = image[:, 0] * k.fx + k.cx, image[:, 1] * k.fy + k.cy
    inside = np.minimum.reduce([u, W - u, v, H - v])     # > 0: inside the sensor, by that many pixels
    return float(inside.max()), float(np.abs(inside).min())


@pytest.mark.parametrize("model", [BROWN_CONRADY_UD, BROWN_CONRADY_DU])
@pytest.mark.parametrize(("focal", "radial"), ZOOM_STEPS)
@pytest.mark.parametrize(("breathing", "offset"), FOCUS_STEPS)
def test_the_inner_window_covers_the_distorted_corners(model: str, focal: float, radial: tuple[float, ...],
                                                       breathing: float, offset: tuple[float, float]) -> None:
    k1, k2, k3 = radial
    coefficients = (k1 + breathing, k2, k3) if model == BROWN_CONRADY_UD else (-(k1 + breathing), -k2, -k3)
    d = LensDistortion.from_coefficients(coefficients, (2e-4, -3e-4), model, offset_mm=offset)
    cam = camera(focal, d)
    window = inner_window(cam, FrustumSettings())
    deepest, closest = _covered(cam, window)
    assert deepest <= 1e-6                     # no point of the window's edge lands inside the sensor
    # and the window is no larger than it must be (or it is the sensor's own: a pincushion lens)
    assert closest <= 0.05 or window == sensor_window(cam)
    # the sensor's distorted border, undistorted, lies inside the window (that is how it is built)
    border = undistort_points(d, sensor_border(sensor_window(cam), 256), cam.distortion_centre())
    xl, xr, yt, yb = window
    assert np.all((border[:, 0] >= xl - 1e-12) & (border[:, 0] <= xr + 1e-12)
                  & (border[:, 1] >= yt - 1e-12) & (border[:, 1] <= yb + 1e-12))
    # project overscan still grows the window around it
    wider = inner_window(cam, FrustumSettings.uniform(10.0))
    assert wider[0] < xl and wider[1] > xr and wider[2] < yt and wider[3] > yb


def test_a_pinhole_window_leaves_the_corners_of_a_barrel_lens_uncovered() -> None:
    d = LensDistortion.from_coefficients((-0.22, 0.06, -0.005), model=BROWN_CONRADY_UD)
    cam = camera(14.0, d)
    deepest, _ = _covered(cam, sensor_window(cam))
    assert deepest > 20  # the old pinhole window: corners of the picture would show outer content
    assert image_window(cam) != sensor_window(cam)
    assert image_window(camera(14.0, LensDistortion())) == sensor_window(camera(14.0, LensDistortion()))


def test_overscan_of_the_lens_and_unknown_models() -> None:
    plain = camera(24.0, LensDistortion())
    sensor = sensor_window(plain)
    wide = image_window(camera(24.0, LensDistortion(overscan=1.2)))
    np.testing.assert_allclose(wide, [v * 1.2 for v in sensor], atol=1e-12)  # scaled about the optical axis
    odd = image_window(camera(24.0, LensDistortion(model="Vendor Fisheye", radial=(0.5, 0, 0, 0, 0, 0), overscan=1.1)))
    np.testing.assert_allclose(odd, [v * 1.1 for v in sensor], atol=1e-12)  # not applied: its overscan only
    # a mild pincushion needs less than the sensor: the window never shrinks below it
    pin = camera(24.0, LensDistortion.from_coefficients((0.05,), model=BROWN_CONRADY_UD))
    xl, xr, yt, yb = image_window(pin)
    sl, sr, st, sb = sensor_window(pin)
    assert xl <= sl and xr >= sr and yt <= st and yb >= sb


def test_leds_seen_at_the_distorted_image_corners_are_inner_pixels() -> None:
    """On the flat wall: the LED a distorted corner pixel looks at is inside the inner frustum, and
    on the canvas it is an inner pixel; as a pinhole (distortion ignored) it was not."""
    stage = Stage.open(FLAT)
    d = LensDistortion.from_coefficients((-0.3, 0.1), model=BROWN_CONRADY_UD)
    cam = CameraState.from_pan_tilt_roll((0.0, -2.0, 1.5), 0.0, 0.0, 0.0, 18.0, 24.88, 13.99, W, H, distortion=d)
    frustum = CameraFrustum.from_camera(cam, FrustumSettings())
    pinhole = CameraFrustum.from_camera(CameraState.from_pan_tilt_roll((0.0, -2.0, 1.5), 0.0, 0.0, 0.0, 18.0,
                                                                       24.88, 13.99, W, H), FrustumSettings())
    k = cam.intrinsics()
    corners = np.array([[0.5, 0.5], [W - 0.5, 0.5], [0.5, H - 0.5], [W - 0.5, H - 0.5]])
    straight = undistort_points(d, (corners - (k.cx, k.cy)) / (k.fx, k.fy))
    directions = frustum.image_plane_to_stage(straight)
    hits = cam.eye + directions * (-cam.eye[1] / directions[:, 1])[:, None]     # the wall is the plane y = 0
    assert np.all((np.abs(hits[:, 0]) < 3.0) & (hits[:, 2] > 0.0) & (hits[:, 2] < 3.0))  # on the LEDs
    assert frustum.contains(hits).all()
    assert not pinhole.contains(hits).any()
    canvas = StageFrustum(stage).canvas("main", frustum)
    inner = canvas.mask()
    geometry = canvas.geometry
    found = 0
    for hit in hits:  # the LED pixel nearest each hit is inner
        ys, xs = np.nonzero(inner)
        positions = np.array([geometry.position(int(x), int(y)) for x, y in zip(xs[::97], ys[::97], strict=True)])
        nearest = np.argmin(np.linalg.norm(positions - hit, axis=1))
        found += np.linalg.norm(positions[nearest] - hit) < 0.05
    assert found == 4


def test_a_calibration_used_past_its_range_gives_no_bogus_window() -> None:
    # this polynomial peaks at a distorted radius of about 1.01: the 14 mm lens's corners (1.05) are
    # beyond what it can reach, so undistorting them has no answer
    folded = LensDistortion.from_coefficients((-0.32, 0.12, -0.02), model=BROWN_CONRADY_UD)
    cam = camera(14.0, folded)
    k = cam.intrinsics()
    corner = (np.array([[0.0, 0.0]]) - (k.cx, k.cy)) / (k.fx, k.fy)
    assert np.isnan(undistort_points(folded, corner)).all()
    window = image_window(cam)
    sensor = sensor_window(cam)
    assert np.all(np.isfinite(window))
    assert window[0] <= sensor[0] and window[1] >= sensor[1] and window[2] <= sensor[2] and window[3] >= sensor[3]
    assert window[1] - window[0] < 3 * (sensor[1] - sensor[0])
