"""A training step's samples: march in rounds, stop each ray behind opaque content.

instant-ngp marches every training ray to its end, evaluates the network on all samples without
gradients and back-propagates only through the samples in front of transmittance 1e-4
("compaction"). Here rays march in rounds of K samples (K doubling from ``first_round``), each
round's density is evaluated without gradients, and a ray stops once its optical depth passes
``-ln(1e-4)``: the samples behind it are dropped, and those further on are never marched. The
caller evaluates the field with gradients on the kept samples only.

All tensors are in the normalised frame on the rays' device; runs under ``torch.no_grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from render.nerf.model_components.flat_compositing import MAX_OPTICAL_DEPTH, optical_depth_before
from render.nerf.model_components.marching import MarchedSamples

MarchFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int], MarchedSamples]
"""(origins, dirs, t, t_end, max_samples) -> the next samples of those rays."""
DensityFn = Callable[[torch.Tensor], torch.Tensor]
"""Normalised-frame positions (M, 3) -> density (M,)."""


@dataclass(frozen=True)
class CompactedBatch:
    samples: MarchedSamples
    """Kept samples of rays ``0 .. n_rays - 1`` (``count`` has ``n_rays`` entries)."""
    n_rays: int
    """Rays used: a prefix of the batch (the rays are in random order, so dropping the tail is unbiased)."""
    marched: int
    """Samples marched (and density-evaluated) in all rounds."""


@dataclass
class _Rounds:
    """Per-ray state across rounds (all (N,))."""

    t: torch.Tensor
    depth: torch.Tensor
    """float64 optical depth marched so far."""
    marched: torch.Tensor
    kept: torch.Tensor


def _round(alive: torch.Tensor, origins: torch.Tensor, dirs: torch.Tensor, t_end: torch.Tensor, state: _Rounds,
           march: MarchFn, density: DensityFn, k: int) -> tuple[MarchedSamples, torch.Tensor]:
    """March ``k`` more samples of the ``alive`` rays; returns them (rays renumbered to the whole batch)
    and which to keep, and updates ``state``."""
    m = march(origins[alive], dirs[alive], state.t[alive], t_end[alive], k)
    rays = alive[m.ray]
    sigma = density(origins[rays] + m.t[:, None] * dirs[rays])
    optical = sigma.double() * m.dt
    keep = optical_depth_before(optical, m.ray, m.count) + state.depth[rays] <= MAX_OPTICAL_DEPTH
    state.depth.index_add_(0, rays, optical)
    state.kept.index_add_(0, rays[keep], torch.ones_like(rays[keep]))
    state.marched[alive] += m.count
    state.t[alive] = m.t_next
    renumbered = MarchedSamples(ray=rays, t=m.t, dt=m.dt, count=m.count, t_next=m.t_next)
    return renumbered, keep


def march_all(origins: torch.Tensor, dirs: torch.Tensor, t_start: torch.Tensor, t_end: torch.Tensor,
              march: MarchFn, *, max_samples_per_ray: int, sample_budget: int) -> CompactedBatch:
    """Every occupied sample (up to ``max_samples_per_ray``) of the first rays whose samples fit
    ``sample_budget`` (at least one ray): training without compaction."""
    samples = march(origins, dirs, t_start, t_end, max_samples_per_ray)
    n_used = max(1, int((torch.cumsum(samples.count, 0) <= sample_budget).sum()))
    used = samples.ray < n_used
    kept = MarchedSamples(ray=samples.ray[used], t=samples.t[used], dt=samples.dt[used],
                          count=samples.count[:n_used], t_next=samples.t_next[:n_used])
    return CompactedBatch(samples=kept, n_rays=n_used, marched=int(samples.t.numel()))


def march_compacted(origins: torch.Tensor, dirs: torch.Tensor, t_start: torch.Tensor, t_end: torch.Tensor,
                    march: MarchFn, density: DensityFn, *, max_samples_per_ray: int, sample_budget: int,
                    first_round: int = 16) -> CompactedBatch:
    """The kept samples of (N, 3) rays between ``t_start`` and ``t_end`` (see the module docstring).

    After each round only the first rays whose kept samples fit ``sample_budget`` go on (at least one).
    """
    n, device = origins.shape[0], origins.device
    state = _Rounds(t=t_start.float().clone(), depth=torch.zeros(n, dtype=torch.float64, device=device),
                    marched=torch.zeros(n, dtype=torch.int64, device=device),
                    kept=torch.zeros(n, dtype=torch.int64, device=device))
    alive = torch.nonzero(t_start < t_end).squeeze(1)
    pieces: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    n_used, marched, k = n, 0, first_round
    while alive.numel() > 0:
        samples, keep = _round(alive, origins, dirs, t_end, state, march, density, k)
        pieces.append((samples.ray[keep], samples.t[keep], samples.dt[keep]))
        marched += int(samples.t.numel())
        going = ((state.t[alive] < t_end[alive]) & (state.depth[alive] <= MAX_OPTICAL_DEPTH)
                 & (state.marched[alive] < max_samples_per_ray))
        n_used = min(n_used, max(1, int((torch.cumsum(state.kept, 0) <= sample_budget).sum())))
        alive = alive[going & (alive < n_used)]
        k = min(2 * k, max_samples_per_ray)
    return CompactedBatch(samples=_grouped(pieces, n_used, device), n_rays=n_used, marched=marched)


def _grouped(pieces: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], n_rays: int,
             device: torch.device) -> MarchedSamples:
    """The rounds' kept samples of rays below ``n_rays``, grouped by ray (a stable sort keeps marching order)."""
    if not pieces:
        empty = torch.zeros(0, device=device)
        return MarchedSamples(ray=empty.long(), t=empty, dt=empty, count=torch.zeros(n_rays, dtype=torch.int64,
                                                                                        device=device), t_next=empty)
    ray, t, dt = (torch.cat(parts) for parts in zip(*pieces, strict=True))
    used = ray < n_rays
    ray, t, dt = ray[used], t[used], dt[used]
    if len(pieces) > 1:
        order = torch.argsort(ray, stable=True)
        ray, t, dt = ray[order], t[order], dt[order]
    count = torch.bincount(ray, minlength=n_rays)
    return MarchedSamples(ray=ray, t=t, dt=dt, count=count, t_next=torch.zeros(n_rays, device=device))
