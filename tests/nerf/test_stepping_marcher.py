"""The batched stepping-space marcher against the legacy event-loop marcher, and training compaction.

Bounds, on the torch reference:

* without cone stepping (aabb_scale 1, instant-ngp's setting) the new marcher emits the legacy
  marcher's samples (distances within 1e-5) and the rendered images agree to 1e-5;
* with cone stepping, legacy skips left the lattice of steps that the new marcher keeps, so the
  sample positions shift by a fraction of a step: images within 40 dB PSNR and 0.05 max-abs at
  cone 1/64, 60 dB at instant-ngp's 1/256, the same number of samples within 1 %;
* compaction (training) drops only samples behind transmittance 1e-4: the composited colour
  moves by at most 1e-4, with fewer samples.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from render.assets import PinholeCamera
from render.nerf.asset import NerfAsset
from render.nerf.model import NerfModel
from render.nerf.model_components.flat_compositing import composite_samples
from render.nerf.model_components.marching import (
    MarchedSamples,
    MarchParams,
    cascade_at,
    clip_rays,
    from_stepping_space,
    march,
    march_samples,
    step_size,
    to_stepping_space,
)
from render.nerf.model_components.renderers import TorchBackend
from render.nerf.train.ray_batch import march_all, march_compacted
from tests.nerf.helpers import model_with_grid, random_field, small_config
from tests.nerf.legacy_march import LegacyTorchBackend, legacy_march
from vpstage.geometry import look_at_rotation


def random_model(cone: float, n_cascades: int, resolution: int = 16, fill: float = 0.25, grid_range: float = 0.5,
                 seed: int = 2) -> NerfModel:
    occupied = torch.rand(n_cascades, resolution, resolution, resolution,
                          generator=torch.Generator().manual_seed(seed)) < fill
    aabb = float(2 ** (n_cascades - 1))
    return model_with_grid(random_field(small_config(), grid_range=grid_range), occupied, n_cascades=n_cascades,
                           resolution=resolution, aabb_scale=aabb, scale=0.5 / aabb ** 0.5, cone_angle=cone,
                           min_step=math.sqrt(3) / (8 * resolution))


def rays_towards_centre(n: int, seed: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    o = torch.tensor([[0.5, 0.5, -1.5]]) + 0.4 * torch.randn(n, 3, generator=g)
    d = torch.nn.functional.normalize(torch.tensor([[0.0, 0.0, 1.0]]) + 0.3 * torch.randn(n, 3, generator=g), dim=-1)
    return o, d


def camera(size: tuple[int, int] = (32, 24)) -> PinholeCamera:
    eye = np.array([0.3, -2.5, 0.8])
    rot = look_at_rotation(eye, np.zeros(3))
    w2c = np.eye(4)
    w2c[:3, :3] = rot.T
    w2c[:3, 3] = -rot.T @ eye
    return PinholeCamera(world_to_camera=w2c, fx=26.0, fy=26.0, cx=size[0] / 2, cy=size[1] / 2, width=size[0],
                         height=size[1])


def test_stepping_space_is_cone_stepping() -> None:
    params = MarchParams(cone_angle=1 / 256, min_step=math.sqrt(3) / 1024, max_step=math.sqrt(3) * 8 / 128)
    t = torch.cat([torch.linspace(0.0, 0.5, 50), torch.linspace(0.5, 30.0, 200), torch.linspace(30.0, 60.0, 20)])
    assert torch.allclose(from_stepping_space(to_stepping_space(t, params), params), t, rtol=1e-5, atol=1e-6)
    expected = torch.clamp(t * params.cone_angle, params.min_step, params.max_step)
    assert torch.allclose(step_size(t, params), expected, rtol=5e-3)
    linear = MarchParams(cone_angle=0.0, min_step=0.01)
    assert torch.equal(step_size(t, linear), torch.full_like(t, 0.01))


def test_occupied_at_is_lookup_in_the_smallest_cascade() -> None:
    grid = random_model(1 / 64, 3).grid
    p = torch.rand(5000, 3, generator=torch.Generator().manual_seed(4)) * 5.0 - 2.0
    assert torch.equal(grid.occupied_at(p), grid.lookup(p, cascade_at(p, grid.n_cascades)))
    assert 0 < int(grid.occupied_at(p).sum()) < 5000


@pytest.mark.parametrize("k", [5, 1000])
def test_without_cone_stepping_the_samples_are_the_legacy_ones(k: int) -> None:
    model = random_model(0.0, 1)
    o, d = rays_towards_centre(300)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()
    new, old = march(o, d, start, end, model.grid, params, k), legacy_march(o, d, start, end, model.grid, params, k)
    assert torch.equal(new[2], old[2]) and int(new[2].sum()) > 300
    assert torch.allclose(new[0], old[0], atol=1e-5) and torch.allclose(new[1], old[1], atol=1e-7)
    full = new[2] == k  # rays stopped by the sample limit resume at the same place
    assert torch.allclose(new[3][full], old[3][full], atol=1e-5)
    assert bool((new[3][~full] >= end[~full]).all())


def test_resuming_continues_the_same_candidates() -> None:
    model = random_model(1 / 64, 2)
    o, d = rays_towards_centre(200)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()
    whole = march_samples(o, d, start, end, model.grid, params, 10_000)
    t, pieces = start.clone(), []
    for _ in range(200):
        part = march_samples(o, d, t, end, model.grid, params, 3)
        pieces.append(part)
        t = part.t_next
        if bool((t >= end).all()):
            break
    ray = torch.cat([p.ray for p in pieces])
    order = torch.argsort(ray, stable=True)
    resumed = torch.cat([p.t for p in pieces])[order]
    assert torch.equal(ray[order], whole.ray)
    assert torch.allclose(resumed, whole.t, rtol=1e-5) and whole.t.numel() > 1000


@pytest.mark.parametrize(("cone", "n_cascades", "min_psnr", "max_abs"), [
    (0.0, 1, 100.0, 1e-5), (1 / 256, 3, 60.0, 0.01), (1 / 64, 2, 40.0, 0.05)])
def test_image_matches_the_legacy_marcher(cone: float, n_cascades: int, min_psnr: float, max_abs: float) -> None:
    model = random_model(cone, n_cascades, fill=0.3)
    cam = camera()
    legacy, new = NerfAsset(model, "legacy"), NerfAsset(model, "new", backend="torch")
    legacy._backend = LegacyTorchBackend()
    a, b = legacy.render_pinhole(cam), new.render_pinhole(cam)
    assert isinstance(new.backend, TorchBackend) and float(a.alpha.mean()) > 0.05
    mse = float(((a.rgb - b.rgb) ** 2).mean())
    assert -10 * math.log10(max(mse, 1e-12)) >= min_psnr
    assert float((a.rgb - b.rgb).abs().max()) <= max_abs
    assert legacy.last_stats is not None and new.last_stats is not None
    assert abs(new.last_stats.samples - legacy.last_stats.samples) <= 0.01 * legacy.last_stats.samples


def sequential_composite(sigma: torch.Tensor, rgb: torch.Tensor, dt: torch.Tensor, count: torch.Tensor,
                         background: torch.Tensor) -> torch.Tensor:
    out, start = [], 0
    for r, c in enumerate(count.tolist()):
        trans, acc = 1.0, torch.zeros(3, dtype=torch.float64)
        for i in range(start, start + c):
            alpha = 1.0 - math.exp(-float(sigma[i]) * float(dt[i]))
            acc += trans * alpha * rgb[i].double()
            trans *= 1.0 - alpha
        out.append(acc + trans * background[r].double())
        start += c
    return torch.stack(out).float()


def test_flat_compositing_is_front_to_back_per_ray() -> None:
    g = torch.Generator().manual_seed(6)
    count = torch.tensor([4, 0, 7, 1, 30, 2])
    ray = torch.repeat_interleave(torch.arange(6), count)
    sigma = (torch.rand(ray.shape[0], generator=g) * 60).requires_grad_(True)
    rgb = torch.rand(ray.shape[0], 3, generator=g)
    dt = torch.full((ray.shape[0],), 0.02)
    background = torch.rand(6, 3, generator=g)
    color, opacity = composite_samples(sigma, rgb, dt, ray, count, background)
    assert torch.allclose(color, sequential_composite(sigma.detach(), rgb, dt, count, background), atol=1e-5)
    assert float(opacity[1].detach()) == 0.0 and torch.equal(color[1].detach(), background[1])
    color.sum().backward()
    assert sigma.grad is not None and bool(torch.isfinite(sigma.grad).all())


def test_compaction_moves_the_colour_by_at_most_the_cut_transmittance() -> None:
    model = random_model(0.0, 1, fill=0.6, grid_range=1.0, seed=8)
    inputs = model.field_inputs()
    o, d = rays_towards_centre(400, seed=9)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()

    def density(points: torch.Tensor) -> torch.Tensor:
        return 40.0 * model.field.density((points - inputs.aabb_min) / inputs.aabb_size)

    def march_fn(oo: torch.Tensor, dd: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor, k: int) -> MarchedSamples:
        return march_samples(oo, dd, t, t_end, model.grid, params, k)

    with torch.no_grad():
        everything = march_samples(o, d, start, end, model.grid, params, 512)
        kept = march_compacted(o, d, start, end, march_fn, density, max_samples_per_ray=512, sample_budget=1 << 30)

    def colour(s: MarchedSamples) -> torch.Tensor:
        x = (o[s.ray] + s.t[:, None] * d[s.ray] - inputs.aabb_min) / inputs.aabb_size
        with torch.no_grad():
            sigma, rgb = model.field(x, d[s.ray])
        return composite_samples(40.0 * sigma, rgb, s.dt, s.ray, s.count, torch.zeros(o.shape[0], 3))[0]

    assert kept.n_rays == 400 and kept.samples.t.numel() <= 0.6 * everything.t.numel()
    assert kept.marched < everything.t.numel()
    assert float((colour(kept.samples) - colour(everything)).abs().max()) <= 1.01e-4


def test_without_compaction_the_first_rays_within_the_budget_keep_every_sample() -> None:
    model = random_model(0.0, 1, fill=0.6)
    o, d = rays_towards_centre(100, seed=10)
    start, end = clip_rays(o, d, model.clip_boxes(None))
    params = model.march_params()

    def march_fn(oo: torch.Tensor, dd: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor, k: int) -> MarchedSamples:
        return march_samples(oo, dd, t, t_end, model.grid, params, k)

    everything = march_samples(o, d, start, end, model.grid, params, 512)
    budget = int(everything.count[:40].sum())
    batch = march_all(o, d, start, end, march_fn, max_samples_per_ray=512, sample_budget=budget)
    assert batch.n_rays >= 40 and int(batch.samples.count.sum()) <= budget
    assert torch.equal(batch.samples.count, everything.count[: batch.n_rays])
    assert batch.marched == everything.t.numel()
