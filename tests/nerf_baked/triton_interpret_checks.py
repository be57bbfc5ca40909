"""Checks of the Triton texture marcher against the torch reference, run by test_triton_march.py in a
fresh process with ``TRITON_INTERPRET=1`` (Triton's interpreter on CPU tensors)."""

from __future__ import annotations

import math

import pytest
import torch

from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.texture_march import march_texture
from render.nerf.model_components.marching import clip_rays

pytest.importorskip("triton", reason="triton is not installed (optional accelerator)")


def random_texture(seed: int = 0, res: int = 4) -> DensityTexture:
    g = torch.Generator().manual_seed(seed)
    occupancy = torch.rand(4, 5, 6, generator=g) < 0.6
    n = int(occupancy.sum())
    bricks = torch.rand(n, res + 1, res + 1, res + 1, generator=g) * 30.0
    bricks[torch.rand(bricks.shape, generator=g) < 0.5] = 0.0
    return DensityTexture(torch.tensor([0.1, -0.2, 0.05]), 0.15, res, occupancy, bricks)


@pytest.mark.parametrize("config", [MarchConfig(), MarchConfig(step_ratio=1.0, samples_per_round=4, hit_opacity=0.3)])
def test_kernel_matches_reference(config: MarchConfig) -> None:
    from render.nerf.baked.kernels.triton_texture_march import TextureBuffers
    from render.nerf.baked.kernels.triton_texture_march import march_texture as march_kernel

    texture = random_texture()
    g = torch.Generator().manual_seed(1)
    o = texture.origin + texture.extent() / 2 + torch.randn(400, 3, generator=g) * 1.5
    d = texture.origin + torch.rand(400, 3, generator=g) * texture.extent() - o
    d = d / d.norm(dim=-1, keepdim=True)
    t0, t1 = clip_rays(o, d, [texture.box()])
    ref = march_texture(texture, o, d, t0, t1, config)
    got = march_kernel(texture, TextureBuffers(texture), o, d, t0, t1, config)
    assert float(ref.hit.float().mean()) > 0.5
    assert torch.equal(ref.hit, got.hit)
    assert float((ref.alpha - got.alpha).abs().max()) < 1e-4
    assert float((ref.t_hit - got.t_hit).abs().max()) < 1e-4
    assert 0 < got.samples <= ref.samples  # the kernel skips every empty sample


def test_kernel_gives_the_analytic_slab() -> None:
    from render.nerf.baked.kernels.triton_texture_march import TextureBuffers
    from render.nerf.baked.kernels.triton_texture_march import march_texture as march_kernel

    occupancy = torch.zeros(1, 1, 4, dtype=torch.bool)
    occupancy[0, 0, 1:3] = True
    texture = DensityTexture(torch.zeros(3), 0.25, 4, occupancy, torch.full((2, 5, 5, 5), 2.0))
    o = torch.tensor([[-0.3, 0.1, 0.12]]).repeat(4, 1)
    d = torch.tensor([[1.0, 0.0, 0.0]]).repeat(4, 1)
    t0, t1 = clip_rays(o, d, [texture.box()])
    hits = march_kernel(texture, TextureBuffers(texture), o, d, t0, t1, MarchConfig(step_ratio=0.25))
    assert torch.allclose(hits.alpha, torch.full((4,), 1 - math.exp(-1.0)), atol=2e-3)
    assert torch.allclose(o[:, 0] + hits.t_hit, torch.full((4,), 0.25 + math.log(2) / 2), atol=2e-3)
