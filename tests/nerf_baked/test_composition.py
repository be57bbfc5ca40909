"""A baked NeRF among other assets: depth compositing with a splat plane, and DoD crops.

The scene's large sphere (radius 0.55 at the origin) faces a camera 2.6 units away along -y, so
the centre pixel's surface lies 2.05 units deep (about 2.15 in the briefly trained source). A blue
splat plane is put 1.4 units deep (in front) or 3.6 deep (behind); render/scene/layers.py
composites the two assets' layers by depth.
"""

from __future__ import annotations

import numpy as np
import torch

from render.assets import PinholeCamera, RenderOutput
from render.nerf.asset import NerfAsset
from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.bake.distill import BakeResult
from render.nerf.model import NerfModel
from render.scene.layers import Layer, composite
from tests.engine.analytic_assets import splat_plane
from vpstage.geometry import OrientedBox
from vpstage.geometry.rotations import look_at_rotation

SIZE = 32
EYE = np.array([0.0, -2.6, 0.0])
BLUE = (0.1, 0.2, 0.9)
SURFACE_DEPTH = 2.6 - 0.55


def camera() -> PinholeCamera:
    c2w = np.eye(4)
    c2w[:3, :3] = look_at_rotation(EYE, np.zeros(3))
    c2w[:3, 3] = EYE
    return PinholeCamera(world_to_camera=np.linalg.inv(c2w), fx=SIZE, fy=SIZE, cx=SIZE / 2, cy=SIZE / 2,
                         width=SIZE, height=SIZE)


def layer(out: RenderOutput) -> Layer:
    """A layer as the scene renderer builds it: colour over black, coverage, depth."""
    return Layer(out.rgb.reshape(-1, 3), out.alpha.reshape(-1), out.depth.reshape(-1))


def test_baked_asset_composes_by_depth_with_a_splat_plane(tiny_bake: BakeResult, source: NerfModel) -> None:
    baked = BakedNerfAsset(tiny_bake.model, "baked")
    cam = camera()
    mine = baked.render_pinhole(cam)
    centre = (SIZE // 2, SIZE // 2)
    assert float(mine.alpha[centre]) > 0.95
    # the briefly trained source puts its soft surface about 0.1 deeper than the analytic one; the
    # bake follows the source
    source_depth = float(NerfAsset(source, "s", "torch").render_pinhole(cam).depth[centre])
    assert abs(float(mine.depth[centre]) - source_depth) < 0.05
    assert abs(float(mine.depth[centre]) - SURFACE_DEPTH) < 0.2
    black = torch.zeros(3)
    for plane_y, plane_in_front in ((-1.2, True), (1.0, False)):
        plane = splat_plane(BLUE, plane_y, 2.0, (-2.0, 2.0), 0.1).render_pinhole(cam)
        out = composite([layer(mine), layer(plane)], black, SIZE * SIZE).reshape(SIZE, SIZE, 3)
        expected = torch.tensor(BLUE) if plane_in_front else mine.rgb[centre]
        assert torch.allclose(out[centre], expected, atol=0.06), (plane_y, out[centre], expected)
        corner = (2, 2)  # misses the spheres, sees the plane either way
        assert float(mine.alpha[corner]) < 0.05
        assert torch.allclose(out[corner], torch.tensor(BLUE), atol=0.08), out[corner]


def test_dod_crop_removes_what_lies_outside_it(tiny_bake: BakeResult, source: NerfModel) -> None:
    baked = BakedNerfAsset(tiny_bake.model, "baked")
    cam = camera()
    crop = OrientedBox(np.array([0.6, 0.0, 0.0]), np.eye(3), np.array([0.6, 2.0, 2.0]))  # x in [0, 1.2]
    full, cut = baked.render_pinhole(cam), baked.render_pinhole(cam, crop=crop)
    left, right = slice(0, SIZE // 2 - 2), slice(SIZE // 2 + 2, SIZE)  # image right is +x
    assert float(full.alpha[:, left].max()) > 0.9
    assert float(cut.alpha[:, left].max()) == 0.0 and float(cut.depth[:, left].abs().max()) == 0.0
    assert torch.allclose(cut.rgb[:, right], full.rgb[:, right], atol=0.03)
    assert torch.allclose(cut.alpha[:, right], full.alpha[:, right], atol=0.03)
    # the same window of a rect render, and the source's coverage under the same crop
    window = baked.render_pinhole(cam, rect=(SIZE // 2, 4, SIZE, 28), crop=crop)
    assert torch.allclose(window.rgb, cut.rgb[4:28, SIZE // 2:], atol=1e-6)
    reference = NerfAsset(source, "s", "torch").render_pinhole(cam, crop=crop)
    assert float((reference.alpha > 0.5).logical_xor(cut.alpha > 0.5).float().mean()) < 0.05
