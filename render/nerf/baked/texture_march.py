"""Marching the density texture: each ray's coarse opacity and hit point (torch reference).

Everything is in the normalised frame, rays ``o + t d`` with unit ``d`` between the clipped
``t_start`` and ``t_end``. A ray is sampled on a fixed lattice: sample ``k`` covers
``[t_start + k dt, min(t_start + (k + 1) dt, t_end)]`` (``dt = step_ratio * cell``) and reads the
density at that segment's midpoint; opacities ``1 - exp(-sigma * length)`` composite front to back.
Samples that can only read 0 are skipped, which changes nothing: from a sample point in an empty
brick the ray jumps to the first lattice midpoint past the largest empty cell of the occupancy
pyramid around it, and from a sample point in an empty texture cell (all 8 corners 0) past that
cell. The reference takes ``samples_per_round`` samples per round from a midpoint in an occupied
cell; the Triton kernel (kernels/triton_texture_march.py) tests every midpoint. Both therefore
composite the same non-zero samples.

A ray stops at ``t_end`` or once its transmittance falls below ``min_transmittance`` (early exit;
its coarse opacity is then 1, as the NeRF renderer renormalises). The **hit point** is where the
accumulated opacity crosses ``hit_opacity`` (0.5: the median of the ray's visibility, exact inside
the constant-density sample where it happens); rays whose opacity never gets there take their
expected (opacity-weighted) depth. Rays with coarse opacity below ``min_alpha`` have no hit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from render.cancel import check_cancelled
from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture

MAX_ROUNDS = 1 << 16
"""Safety bound on marching rounds."""


@dataclass(kw_only=True)
class TextureHits:
    """Per ray (N,): hit distance ``t_hit`` (normalised frame, 0 where no hit), coarse opacity
    ``alpha`` and ``hit`` (alpha >= min_alpha); ``live`` rays that entered the clipped region,
    ``samples`` density lookups in all, ``rounds`` marching rounds."""

    t_hit: torch.Tensor
    alpha: torch.Tensor
    hit: torch.Tensor
    live: int = 0
    samples: int = 0
    rounds: int = 0


@dataclass
class MarchState:
    """Per-ray accumulators (float32, N)."""

    transmittance: torch.Tensor
    step: torch.Tensor
    """Index k of the next lattice sample."""
    t_cross: torch.Tensor
    """Where the opacity crossed ``hit_opacity`` (-1: not yet)."""
    depth: torch.Tensor
    """Accumulated weight x sample distance (for the expected-depth fallback)."""

    @staticmethod
    def start(n: int, device: torch.device) -> MarchState:
        return MarchState(torch.ones(n, device=device), torch.zeros(n, device=device),
                          torch.full((n,), -1.0, device=device), torch.zeros(n, device=device))


def lattice_segments(t_start: torch.Tensor, t_end: torch.Tensor, step: torch.Tensor, dt: float,
                     k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Start (m, k) and length (m, k, >= 0) of lattice samples ``step .. step + k - 1``."""
    index = step[:, None] + torch.arange(k, device=step.device, dtype=step.dtype)[None, :]
    start = t_start[:, None] + index * dt
    length = (torch.minimum(start + dt, t_end[:, None]) - start).clamp(min=0.0)
    return start, length


def step_past(t_start: torch.Tensor, step: torch.Tensor, distance: torch.Tensor, dt: float) -> torch.Tensor:
    """The first lattice index whose midpoint lies ``distance`` or more beyond midpoint ``step``
    (at least ``step + 1``)."""
    return torch.maximum(step + 1.0, torch.ceil(step + distance / dt))


def composite_samples(state: MarchState, rows: torch.Tensor, sigma: torch.Tensor, start: torch.Tensor,
                      length: torch.Tensor, hit_opacity: float) -> None:
    """Composite (m, k) samples of rays ``rows`` into ``state`` (in place): transmittance, the
    first crossing of ``hit_opacity`` and the weighted depth."""
    alpha = 1.0 - torch.exp(-sigma * length)
    t0 = state.transmittance[rows]
    before = t0[:, None] * torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha[:, :-1]], 1), 1)
    after = before * (1.0 - alpha)
    level = 1.0 - hit_opacity
    crosses = (before > level) & (after <= level)
    first = torch.argmax(crosses.int(), dim=1)[:, None]
    found = crosses.any(dim=1) & (state.t_cross[rows] < 0)
    b, s = before.gather(1, first)[:, 0], sigma.gather(1, first)[:, 0]
    inside = torch.log((b / level).clamp(min=1.0)) / s.clamp(min=1e-12)
    t_cross = start.gather(1, first)[:, 0] + torch.minimum(inside, length.gather(1, first)[:, 0])
    state.t_cross[rows] = torch.where(found, t_cross, state.t_cross[rows])
    state.depth[rows] += (before * alpha * (start + 0.5 * length)).sum(dim=1)
    state.transmittance[rows] = after[:, -1]


def march_texture(texture: DensityTexture, origins: torch.Tensor, dirs: torch.Tensor, t_start: torch.Tensor,
                  t_end: torch.Tensor, config: MarchConfig) -> TextureHits:
    """March (N, 3) normalised-frame rays (unit ``dirs``) from ``t_start`` to ``t_end`` (N,)."""
    state = MarchState.start(origins.shape[0], origins.device)
    t_start, t_end = t_start.float(), t_end.float()
    dt, k = texture.cell_size * config.step_ratio, config.samples_per_round
    alive = torch.nonzero(t_start < t_end).squeeze(1)
    samples, rounds, live = 0, 0, int(alive.numel())
    while alive.numel() > 0 and rounds < MAX_ROUNDS:
        check_cancelled()
        o, d, ts, step = origins[alive], dirs[alive], t_start[alive], state.step[alive]
        seg = ts + step * dt  # the next sample's segment, cut at t_end: decide where it reads
        pos = o + (seg + 0.5 * (torch.minimum(seg + dt, t_end[alive]) - seg))[:, None] * d
        in_brick = texture.brick_slot(pos) >= 0
        in_cell = texture.cell_occupied(pos)
        brick_skip, cell_skip = ~in_brick, in_brick & ~in_cell
        new_step = step.clone()
        if bool(brick_skip.any()):
            far = texture.empty_exit(pos[brick_skip], d[brick_skip])
            new_step[brick_skip] = step_past(ts[brick_skip], step[brick_skip], far, dt)
        if bool(cell_skip.any()):
            far = texture.cell_exit(pos[cell_skip], d[cell_skip])
            new_step[cell_skip] = step_past(ts[cell_skip], step[cell_skip], far, dt)
        rows = alive[in_cell]
        start, length = lattice_segments(ts[in_cell], t_end[rows], step[in_cell], dt, k)
        points = o[in_cell][:, None, :] + (start + 0.5 * length)[..., None] * d[in_cell][:, None, :]
        sigma = texture.density(points.reshape(-1, 3)).reshape(start.shape)
        composite_samples(state, rows, sigma, start, length, config.hit_opacity)
        new_step[in_cell] = step[in_cell] + k
        state.step[alive] = new_step
        samples += int(rows.numel()) * k
        rounds += 1
        still = (state.transmittance[alive] >= config.min_transmittance) & (ts + new_step * dt < t_end[alive])
        alive = alive[still]
    hits = finish(state, config)
    hits.live, hits.samples, hits.rounds = live, samples, rounds
    return hits


def finish(state: MarchState, config: MarchConfig) -> TextureHits:
    """Coarse opacity (1 after an early exit), hit distance and hit mask from the accumulators."""
    opaque = state.transmittance < config.min_transmittance
    alpha = torch.where(opaque, 1.0, 1.0 - state.transmittance)
    expected = state.depth / (1.0 - state.transmittance).clamp(min=1e-12)
    t_hit = torch.where(state.t_cross >= 0, state.t_cross, expected)
    hit = alpha >= max(config.min_alpha, 1e-12)
    return TextureHits(t_hit=torch.where(hit, t_hit, 0.0), alpha=torch.where(hit, alpha, 0.0), hit=hit)
