"""Arc wall and ceiling (demo.yaml): hand checks, and the naive projection for several poses.

The centre wall is an arc of 14 Absen cabinets (128 px, 0.5 m) on a 4.5 m circle about the
stage origin, symmetric about heading 0, mapped as a direct image (x = 128 column + i). The
ceiling is 6 x 4 ROE CB5 cabinets (0.6 x 1.2 m, 104 x 208 px) centred at (0, 0, 3.6), facing
down; its canvas x runs with stage X and canvas y with stage Y, from (-1.8, -2.4).
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

SENSOR = (24.88, 13.99)


@pytest.fixture(scope="module")
def demo() -> Stage:
    return Stage.open(STAGES / "demo.yaml")


def test_centred_camera_sees_a_symmetric_part_of_the_arc(demo: Stage) -> None:
    camera = CameraState.from_pan_tilt_roll((0.0, 0.0, 1.5), 0.0, 0.0, 0.0, 24.0, *SENSOR)
    nf = StageFrustum(demo).node("node1", camera)
    centre, left = nf.canvases["wall-centre"], nf.canvases["wall-left"]
    assert left.inner_pixels == 0 and centre.inner_rect is not None
    x0, y0, x1, y1 = centre.inner_rect
    assert x0 + x1 == 2 * 7 * 128  # symmetric about heading 0, the seam of columns 6 and 7
    # horizontally: the LED at heading +-hfov/2; the window edge meets the chord of a cabinet
    half = math.degrees(math.atan(12.44 / 24.0))
    step = math.degrees(2 * math.asin(0.5 / 9.0))
    column = half / step + 7  # fractional cabinet column of the right edge (on the circle)
    assert abs(x1 - column * 128) < 0.5 * 128 * (1 - math.cos(math.radians(step / 2))) + 2
    # vertically: widest at the seams, where the LEDs sit on the 4.5 m circle
    reach = 4.5 * 6.995 / 24.0
    pitch = 0.5 / 128
    assert y0 == pytest.approx((3 - 1.5 - reach) / pitch, abs=1.5)
    assert y1 == pytest.approx((3 - 1.5 + reach) / pitch, abs=1.5)
    assert_masks_agree(demo, "wall-centre", nf.frustum, centre.mask())


def test_camera_looking_up_sees_the_hand_computed_ceiling_rectangle(demo: Stage) -> None:
    camera = CameraState.from_pan_tilt_roll((0.0, 0.0, 1.6), 0.0, 90.0, 0.0, 24.0, *SENSOR)
    nf = StageFrustum(demo).node("node2", camera)
    ceiling = nf.canvases["ceiling"]
    assert nf.canvases["wall-right"].inner_pixels == 0
    pitch = 0.6 / 104
    half_x, half_y = 2.0 * 12.44 / 24.0, 2.0 * 6.995 / 24.0  # image right = +X, image down = +Y
    expected = (math.ceil((1.8 - half_x) / pitch - 0.5), math.ceil((2.4 - half_y) / pitch - 0.5),
                math.floor((1.8 + half_x) / pitch - 0.5) + 1, math.floor((2.4 + half_y) / pitch - 0.5) + 1)
    assert ceiling.inner_rect == expected
    x0, y0, x1, y1 = expected
    assert ceiling.inner_pixels == (x1 - x0) * (y1 - y0)
    # the ceiling centre is the image centre
    uv = ceiling.uv((311, 415, 313, 417))
    assert uv.reshape(-1, 2).mean(axis=0) == pytest.approx([0.5, 0.5], abs=1e-6)


POSES = [
    ((0.5, -1.0, 1.6), -30.0, 10.0, 0.0, 24.0),   # across the left / centre seam
    ((0.0, 0.0, 1.6), 0.0, 80.0, 0.0, 18.0),      # nearly straight up: ceiling only
    ((0.0, 0.5, 1.6), 170.0, 40.0, 5.0, 18.0),    # back toward the open side, up at the ceiling
    ((-1.0, 1.0, 1.2), 95.0, 25.0, -10.0, 14.0),  # wide, right wall and ceiling edge
]


@pytest.mark.parametrize("pose", POSES, ids=["seam", "up", "back", "wide"])
def test_arc_and_ceiling_match_the_naive_projection(demo: Stage, pose: tuple) -> None:
    eye, pan, tilt, roll, focal = pose
    camera = CameraState.from_pan_tilt_roll(eye, pan, tilt, roll, focal, *SENSOR, image_width=1920,
                                            image_height=1080)
    frusta = StageFrustum(demo)
    frustum = CameraFrustum.from_camera(camera, FrustumSettings.uniform(10.0))
    seen = 0
    for canvas in ("wall-left", "wall-centre", "wall-right", "ceiling"):
        cf = frusta.canvas(canvas, frustum)
        mask = cf.mask()
        assert_masks_agree(demo, canvas, frustum, mask)
        assert cf.inner_pixels == mask.sum()
        ys, xs = np.nonzero(mask)
        if xs.size:
            assert cf.inner_rect == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            # a mask over the launch rectangle holds every inner pixel
            assert cf.mask(cf.inner_rect).sum() == cf.inner_pixels
        else:
            assert cf.inner_rect is None
        seen += cf.inner_pixels
    assert seen > 0
