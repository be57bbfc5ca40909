"""Canvas-pixel bilinear geometry against the stage's pixel maps, for every rotation and flip."""

from __future__ import annotations

import numpy as np
import pytest

from tests.frustum.brute import assert_masks_agree
from vpstage.frustum import CameraFrustum, FrustumSettings, StageFrustum
from vpstage.stage import Project, Stage
from vpstage.tracking.camera import CameraState

ORIENTATIONS = [(r, f) for r in (0, 90, 180, 270) for f in ("none", "h", "v")]


@pytest.fixture(scope="module")
def turned() -> Stage:
    """A 12 x 1 flat wall of 192-px cabinets, each mapped with its own rotation and flip."""
    project = Project.model_validate({
        "name": "turned",
        "sections": [{"kind": "flat", "name": "wall", "panel": "unilumin-upad3-2.6", "origin": [-3, 0, 0.5],
                      "yaw_deg": 10, "pitch_deg": 5, "columns": 12, "rows": 1}],
        "canvases": [{"name": "c", "width": 2400, "height": 200, "node": "n"}],
        "pixel_map": [{"cabinet": f"wall/c{i:02d}r00", "canvas": "c", "x": 200 * i, "y": 4, "rotation": r, "flip": f}
                      for i, (r, f) in enumerate(ORIENTATIONS)],
        "nodes": [{"name": "n"}],
    })
    return Stage.from_project(project)


def test_bilinear_positions_match_the_pixel_map(turned: Stage) -> None:
    geometry = StageFrustum(turned).geometry("c")
    px = turned.canvas_pixels("c")
    assert geometry.valid_pixels == px.used_pixels and np.array_equal(geometry.valid_mask(), px.valid)
    for block in geometry.blocks:
        for k in range(len(block)):
            x0, y0 = int(block.x0[k]), int(block.y0[k])
            xl = np.arange(block.width) + 0.5
            yl = np.arange(block.height) + 0.5
            got = block.positions(k, xl[None, :], yl[:, None])
            expected = px.positions[y0:y0 + block.height, x0:x0 + block.width]
            assert np.abs(got - expected).max() < 1e-5
    assert geometry.position(205, 10) == pytest.approx(px.positions[10, 205], abs=1e-5)
    assert geometry.position(199, 10) is None


def test_spans_on_turned_cabinets_match_the_naive_projection(turned: Stage) -> None:
    camera = CameraState.from_pan_tilt_roll((0.3, -2.5, 0.9), 5.0, 3.0, 20.0, 16.0, 24.88, 13.99)
    frustum = CameraFrustum.from_camera(camera, FrustumSettings.uniform(5.0))
    cf = StageFrustum(turned).canvas("c", frustum)
    mask = cf.mask()
    assert 0 < cf.inner_pixels < turned.canvas_pixels("c").used_pixels
    assert_masks_agree(turned, "c", frustum, mask)
    cabinets, rects = cf.cabinet_rects()
    for rect in rects:  # per-cabinet launch rectangles are tight
        x0, y0, x1, y1 = (int(v) for v in rect)
        part = mask[y0:y1, x0:x1]
        assert part[0].any() and part[-1].any() and part[:, 0].any() and part[:, -1].any()
    assert len(cabinets) == len(rects) >= 6
    assert sum(int((~s.full).sum()) for s in cf.spans) >= 4  # the frustum edge cuts through cabinets
    rng = np.random.default_rng(3)
    for x, y in zip(rng.integers(0, 2400, 300), rng.integers(0, 200, 300), strict=True):
        assert cf.is_inner(int(x), int(y)) == mask[y, x]
