"""Pixel runs: every inner pixel once, positions on the run's line, and the UV window taken from the
canvas's image bounds equal to the one over every run pixel, on flat, arc and ceiling canvases."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import STAGES
from vpstage.frustum import StageFrustum
from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.pixel_runs import PixelRuns, pixel_runs
from vpstage.stage import Stage
from vpstage.tracking.camera import CameraState

SENSOR = (24.88, 13.99)
POSES = [((0.0, 0.0, 1.5), 0.0, 0.0, 0.0, 24.0), ((0.8, -1.0, 1.7), 25.0, 8.0, 3.0, 35.0),
         ((-1.2, 0.5, 1.2), -40.0, -5.0, -2.0, 18.0), ((0.0, 0.0, 1.6), 10.0, 70.0, 0.0, 20.0)]


def runs_uv_window(runs: PixelRuns, frustum: CameraFrustum) -> tuple[float, float, float, float]:
    """UV bounds of every pixel of ``runs``, from the runs themselves (the reference for
    ``pixel_runs.bounds_uv_window``): along a run the image point moves monotonically (a line's
    projection), so the extremes are at the runs' first and last pixels."""
    ends = np.concatenate([runs.a + runs.x0[:, None] * runs.b,
                           runs.a + (runs.x0 + runs.length - 1)[:, None] * runs.b])
    xl, xr, yt, yb = frustum.window
    u = (ends[:, 0] / ends[:, 2] - xl) / (xr - xl)
    v = (ends[:, 1] / ends[:, 2] - yt) / (yb - yt)
    return float(u.min()), float(v.min()), float(u.max()), float(v.max())


@pytest.mark.parametrize("stage_file", ["demo.yaml", "flat_wall.yaml"])
def test_runs_cover_the_inner_pixels_and_their_window_is_exact(stage_file: str) -> None:
    stage = Stage.open(STAGES / stage_file)
    frusta = StageFrustum(stage)
    checked = 0
    for eye, pan, tilt, roll, focal in POSES:
        camera = CameraState.from_pan_tilt_roll(eye, pan, tilt, roll, focal, *SENSOR)
        for node in stage.project.nodes:
            for name, canvas in frusta.node(node.name, camera).canvases.items():
                if canvas.inner_pixels == 0:
                    continue
                runs = pixel_runs(canvas)
                mask = canvas.mask().reshape(-1)
                covered = np.concatenate([np.arange(b, b + n) for b, n in zip(runs.base, runs.length, strict=True)])
                assert np.array_equal(np.sort(covered), np.flatnonzero(mask)), name
                np.testing.assert_allclose(runs.window, runs_uv_window(runs, canvas.frustum), atol=1e-9, err_msg=name)
                checked += 1
    assert checked >= (4 if stage_file == "demo.yaml" else 1)
