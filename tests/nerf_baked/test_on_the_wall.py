"""A NeRF and its bake on the LED wall: placed on the (8x scaled) demo stage, rendered by the node's
scene renderer (shared camera view, DoD crop, inner pixels sampled at their UV), each inner LED
shows what the asset renders through the inner pinhole. (The bake's quality against its source is
test_bake's: this view lies outside the tiny bake's distillation views.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from render.assets import PinholeCamera, load_asset
from render.nerf.baked.bake.distill import BakeResult
from render.nerf.baked.baked_format import save_baked
from render.scene import SceneCanvasRenderer
from render.scene.inner_pixels import inner_pixels
from tests.engine.test_scene_renderer import DEMO, bilinear, plan, render, rgb_of
from tests.nerf_baked.conftest import TinyNerf
from vpstage.frustum.camera_view import led_image_size
from vpstage.frustum.dod import dod_crop
from vpstage.frustum.kooima import inner_pinhole
from vpstage.frustum.node import StageFrustum, dod_image_bounds
from vpstage.frustum.scene import default_scene_bounds
from vpstage.nodes.jobs import RenderQuality
from vpstage.stage import Stage
from vpstage.stage.model import Placement
from vpstage.stage.model import SceneAsset as SceneAssetModel
from vpstage.stage.scaling import scaled_stage

QUALITY = RenderQuality(inner_scale=0.5, outer_scale=0.05)
POSE = ((0.0, -2.0, 1.6), 0.0, 0.0)   # FreeD camera 2 m in front of the stage centre, level, facing the wall
FOCAL_MM = 35.0
WHERE = np.array([0.0, 0.5, 1.6])      # stage point the asset's centre stands on, 2.5 m from the camera
SIZE_M = 1.2                           # the asset's bounds across on the stage


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Stage:
    return scaled_stage(Stage.open(DEMO), 8, tmp_path_factory.mktemp("demo8"))


@pytest.fixture(scope="module")
def baked_file(tiny_bake: BakeResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bnerf") / "tiny.bnerf"
    save_baked(tiny_bake.model, path)
    return path


def staged(small: Stage, asset: Path) -> Stage:
    """``small`` showing only ``asset``, its bounds' centre at WHERE, SIZE_M across."""
    lo, hi = (np.asarray(v, dtype=np.float64) for v in load_asset(str(asset), "cpu").bounds())
    scale = float(np.max(hi - lo)) / SIZE_M                   # scene units per stage metre
    placement = Placement(translation=tuple(float(v) for v in (lo + hi) / 2 - scale * WHERE), scale=scale)
    project = small.project.model_copy(deep=True)
    project.scene = [SceneAssetModel(name="nerf", path=str(asset), placement=placement)]
    return Stage.from_project(project, small.layout.base_dir)


def wall_and_reference(stage: Stage) -> tuple[np.ndarray, np.ndarray, float]:
    """The inner LEDs of wall-centre as the node renders them, the asset's own render through the
    inner pinhole sampled at their UVs, and the share of those LEDs the asset covers."""
    renderer = SceneCanvasRenderer(stage, "cpu")
    _, jobs = plan(stage, QUALITY, POSE, FOCAL_MM)
    job = jobs["wall-centre"]
    out = rgb_of(render(renderer, job))
    frustum = StageFrustum(stage).canvas("wall-centre", job.content.inner[0].frustum())
    pixels = inner_pixels(frustum, torch.device("cpu"))
    matrix = stage.project.scene[0].placement.stage_to_scene()
    crop = dod_crop(frustum.frustum, dod_image_bounds(frustum.image_bounds, frustum.frustum), matrix,
                    default_scene_bounds(stage, matrix))
    width, height = led_image_size(frustum, QUALITY.inner_scale)
    pinhole = inner_pinhole(frustum.frustum, width, height, matrix)
    k = pinhole.intrinsics
    asset = renderer.assets["nerf"].asset
    assert asset is not None
    full = asset.render_pinhole(PinholeCamera(world_to_camera=pinhole.world_to_camera, fx=k.fx, fy=k.fy, cx=k.cx,
                                              cy=k.cy, width=width, height=height), crop=crop.box)
    uv = pixels.uv.numpy().astype(np.float64)
    x, y = uv[:, 0] * width, uv[:, 1] * height
    expected = bilinear(full.rgb.numpy().astype(np.float64), x, y)
    covered = bilinear(full.alpha.numpy().astype(np.float64)[..., None], x, y)[:, 0] > 0.5
    return out.reshape(-1, 3)[pixels.index.numpy()], expected, float(covered.mean())


@pytest.mark.parametrize("kind", ["nerf", "baked"])
def test_each_inner_led_shows_the_asset_through_the_inner_pinhole(small: Stage, tiny_nerf: TinyNerf,
                                                                  baked_file: Path, kind: str) -> None:
    got, expected, covered = wall_and_reference(staged(small, tiny_nerf.path if kind == "nerf" else baked_file))
    assert got.shape[0] > 500
    assert covered > 0.05, "the asset is not in the camera's view"  # the setup sees the spheres
    assert np.abs(got - expected).max() <= 2.5 / 255

