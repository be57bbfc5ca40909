"""The density texture and its marcher against hand-computed values (no NeRF involved)."""

from __future__ import annotations

import math

import pytest
import torch

from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.texture_march import march_texture
from render.nerf.model_components.marching import clip_rays


def slab_texture(sigma: float, occupied_x: tuple[int, ...], nx: int = 4, res: int = 4) -> DensityTexture:
    """Bricks of side 0.25 along x from the origin; the listed ones hold the constant ``sigma``."""
    occupancy = torch.zeros(1, 1, nx, dtype=torch.bool)
    occupancy[0, 0, list(occupied_x)] = True
    bricks = torch.full((len(occupied_x), res + 1, res + 1, res + 1), sigma)
    return DensityTexture(torch.zeros(3), 0.25, res, occupancy, bricks)


def rays_along_x(n: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    yz = torch.linspace(0.03, 0.22, n)
    origins = torch.stack([torch.full((n,), -0.3), yz, yz.flip(0)], dim=1)
    return origins, torch.tensor([[1.0, 0.0, 0.0]]).expand(n, 3).contiguous()


def test_trilinear_lookup_reproduces_a_linear_field() -> None:
    res = 3
    v = torch.arange(res + 1, dtype=torch.float32) / res * 0.5
    z, y, x = torch.meshgrid(v, v, v, indexing="ij")
    linear = 2.0 + 3.0 * x - 1.0 * y + 0.5 * z  # brick of side 0.5 at the origin
    texture = DensityTexture(torch.zeros(3), 0.5, res, torch.ones(1, 1, 1, dtype=torch.bool), linear[None])
    p = torch.rand(200, 3, generator=torch.Generator().manual_seed(0)) * 0.5
    expected = 2.0 + 3.0 * p[:, 0] - p[:, 1] + 0.5 * p[:, 2]
    assert torch.allclose(texture.density(p), expected, atol=2e-3)  # fp16 storage
    outside = torch.tensor([[0.6, 0.1, 0.1], [-0.01, 0.2, 0.2]])
    assert (texture.density(outside) == 0).all()
    assert texture.brick_slot(outside).tolist() == [-1, -1]


def test_empty_bricks_read_zero_and_are_skipped_whole() -> None:
    texture = slab_texture(5.0, (5,), nx=8)
    p = torch.tensor([[0.1, 0.1, 0.1], [1.3, 0.1, 0.1]])
    assert texture.density(p).tolist() == [0.0, 5.0]
    assert texture.brick_slot(p).tolist() == [-1, 0]
    # from brick 0 the 4-brick cell of the pyramid (bricks 0..3) is empty: skip to x = 1.0 at once
    dist = texture.empty_exit(p[:1], torch.tensor([[1.0, 0.0, 0.0]]))
    assert float(dist[0]) == pytest.approx(0.9, abs=1e-6)
    # towards -x only the brick itself lies ahead in the box (its 2- and 4-brick cells start at 0)
    back = texture.empty_exit(p[:1], torch.tensor([[-1.0, 0.0, 0.0]]))
    assert float(back[0]) == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize("sigma", [2.0, 0.5])
def test_march_gives_the_analytic_opacity_and_hit_point(sigma: float) -> None:
    texture = slab_texture(sigma, (1, 2))  # density sigma for x in [0.25, 0.75]
    config = MarchConfig(step_ratio=0.25, samples_per_round=8)
    o, d = rays_along_x()
    t0, t1 = clip_rays(o, d, [texture.box()])
    hits = march_texture(texture, o, d, t0, t1, config)
    alpha = 1.0 - math.exp(-sigma * 0.5)
    assert torch.allclose(hits.alpha, torch.full_like(hits.alpha, alpha), atol=2e-3)
    if alpha > 0.5:  # where the opacity crosses one half
        t_surface = 0.25 + math.log(2.0) / sigma
    else:  # expected depth of a uniform slab: a + 1/sigma - L exp(-sigma L) / alpha
        t_surface = 0.25 + 1.0 / sigma - 0.5 * math.exp(-sigma * 0.5) / alpha
    x_hit = o[:, 0] + hits.t_hit
    assert torch.allclose(x_hit, torch.full_like(x_hit, t_surface), atol=2e-3)
    assert hits.hit.all() and hits.samples > 0


def test_opaque_slab_stops_rays_early_and_empty_rays_miss() -> None:
    texture = slab_texture(400.0, (1, 2))
    config = MarchConfig(step_ratio=0.5, samples_per_round=4)
    o, d = rays_along_x()
    t0, t1 = clip_rays(o, d, [texture.box()])
    hits = march_texture(texture, o, d, t0, t1, config)
    assert (hits.alpha == 1.0).all()
    assert torch.allclose(o[:, 0] + hits.t_hit, torch.full((5,), 0.25 + math.log(2.0) / 400.0), atol=1e-4)
    # one round of 4 samples reaches transmittance < 0.01, so far fewer samples than the slab holds
    assert hits.samples <= 5 * 2 * 4
    empty = slab_texture(400.0, (3,))
    o2 = o.clone()
    o2[:, 1] += 0.5  # above the texture: clipped away
    t0, t1 = clip_rays(o2, d, [empty.box()])
    miss = march_texture(empty, o2, d, t0, t1, config)
    assert not miss.hit.any() and (miss.alpha == 0).all() and (miss.t_hit == 0).all()
