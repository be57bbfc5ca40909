"""The baked NeRF's Triton texture marcher against the torch reference on CUDA (VPSTAGE_GPU_TESTS=1)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.texture_march import march_texture
from render.nerf.model_components.marching import clip_rays
from tests.nerf_baked.triton_interpret_checks import random_texture

pytest.importorskip("triton", reason="triton is not installed (optional accelerator)")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEV = torch.device("cuda")


def random_rays(texture: DensityTexture, n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator(device=DEV).manual_seed(seed)
    centre = texture.origin + texture.extent() / 2
    o = centre + torch.randn(n, 3, device=DEV, generator=g) * 1.5
    target = texture.origin + torch.rand(n, 3, device=DEV, generator=g) * texture.extent()
    d = target - o
    return o, d / d.norm(dim=-1, keepdim=True)


@pytest.mark.parametrize("config", [MarchConfig(), MarchConfig(step_ratio=1.0, samples_per_round=4, hit_opacity=0.3)])
def test_kernel_matches_reference(config: MarchConfig) -> None:
    from render.nerf.baked.kernels.triton_texture_march import TextureBuffers
    from render.nerf.baked.kernels.triton_texture_march import march_texture as march_kernel

    texture = random_texture().to(DEV)
    o, d = random_rays(texture, 200_000)
    t0, t1 = clip_rays(o, d, [texture.box()])
    ref = march_texture(texture, o, d, t0, t1, config)
    got = march_kernel(texture, TextureBuffers(texture), o, d, t0, t1, config)
    assert float(ref.hit.float().mean()) > 0.5
    assert float((ref.hit != got.hit).float().mean()) < 1e-4  # float rounding at cell borders, if any
    both = ref.hit & got.hit
    assert float((ref.alpha[both] - got.alpha[both]).abs().quantile(0.9999)) < 1e-4
    assert float((ref.t_hit[both] - got.t_hit[both]).abs().quantile(0.9999)) < 1e-4
    assert 0 < got.samples <= ref.samples  # the kernel skips every empty sample


def test_kernel_gives_the_analytic_slab() -> None:
    from render.nerf.baked.kernels.triton_texture_march import TextureBuffers
    from render.nerf.baked.kernels.triton_texture_march import march_texture as march_kernel

    occupancy = torch.zeros(1, 1, 4, dtype=torch.bool)
    occupancy[0, 0, 1:3] = True
    texture = DensityTexture(torch.zeros(3), 0.25, 4, occupancy, torch.full((2, 5, 5, 5), 2.0)).to(DEV)
    o = torch.tensor([[-0.3, 0.1, 0.12]], device=DEV).repeat(4, 1)
    d = torch.tensor([[1.0, 0.0, 0.0]], device=DEV).repeat(4, 1)
    t0, t1 = clip_rays(o, d, [texture.box()])
    hits = march_kernel(texture, TextureBuffers(texture), o, d, t0, t1, MarchConfig(step_ratio=0.25))
    assert torch.allclose(hits.alpha, torch.full((4,), 1 - math.exp(-1.0), device=DEV), atol=2e-3)
    assert torch.allclose(o[:, 0] + hits.t_hit, torch.full((4,), 0.25 + math.log(2) / 2, device=DEV), atol=2e-3)


def test_baked_render_is_the_same_with_either_marcher(tmp_path: Path) -> None:
    from render.assets import PinholeCamera
    from render.nerf.baked.bake.distill import bake_nerf
    from render.nerf.train.dataset import load_transforms
    from render.nerf.train.trainer import NerfTrainer, TrainConfig
    from tests.nerf.helpers import small_config
    from tests.nerf.synthetic import write_scene
    from tests.nerf_baked.conftest import tiny_bake_config
    from vpstage.geometry.rotations import look_at_rotation

    dataset = load_transforms(write_scene(tmp_path / "scene", n_views=24, size=64))
    config = TrainConfig(steps=300, field=small_config(log2_size=15, base=8, width=32), grid_resolution=32,
                         min_step=math.sqrt(3) / 256, seed=0)
    source = NerfTrainer(dataset, config, DEV).train().model
    model = bake_nerf(source, dataclasses.replace(tiny_bake_config(300), batch_rays=8192, pool_rays=1 << 16),
                      DEV).model
    eye = np.array([0.4, -2.5, 0.6])
    c2w = np.eye(4)
    c2w[:3, :3], c2w[:3, 3] = look_at_rotation(eye, np.zeros(3)), eye
    camera = PinholeCamera(world_to_camera=np.linalg.inv(c2w), fx=200, fy=200, cx=128, cy=96, width=256, height=192)
    fast = BakedNerfAsset(dataclasses.replace(model, accelerate="triton"), "fast").render_pinhole(camera)
    slow = BakedNerfAsset(dataclasses.replace(model, accelerate="torch"), "slow").render_pinhole(camera)
    assert float(slow.alpha.max()) > 0.9
    assert float((fast.alpha - slow.alpha).abs().max()) < 0.02
    assert float((fast.rgb - slow.rgb).abs().max()) < 0.02
    assert float((fast.depth - slow.depth).abs().quantile(0.999)) < 0.01
