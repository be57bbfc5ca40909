"""Ray marching through the occupancy grid: the torch reference of the fast marching kernel.

Everything is in the normalised frame. A ray ``o + t d`` (``d`` unit) is first clipped to the
intersection of the training aabb and any oriented crop boxes (rays that miss die before
marching; the boxes are convex, so every sample between the clipped ends lies inside them). It
then advances from ``t`` in steps ``dt(t) = clamp(t * cone_angle, min_step, max_step)`` (cone
stepping; a fixed step when cone_angle is 0):

* at ``p = o + t d`` the cascade is the smallest one containing ``p`` (instant-ngp's
  ``mip_from_pos``); if its cell is occupied, a sample ``(t, dt)`` is emitted and ``t += dt``;
* otherwise the ray climbs to the coarsest cascade whose cell at ``p`` is still empty and skips
  to that cell's exit, in whole steps: ``t += dt * max(1, ceil(distance / dt))``.

Marching stops at the clipped far end or after ``max_samples`` samples; the caller resumes from
the returned ``t``. The Triton kernel (render/nerf/kernels/triton_march.py) implements the same
rules, so both emit the same samples up to float rounding at cell borders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from render.nerf.model_components.occupancy import OccupancyGrid

SQRT3 = math.sqrt(3.0)
FAR = 1e10


@dataclass(frozen=True)
class MarchParams:
    """Step-size rules of the marcher (normalised-frame units)."""

    cone_angle: float = 1.0 / 256.0
    """dt grows as t * cone_angle (instant-ngp uses 1/256 when aabb_scale > 1, else 0)."""
    min_step: float = SQRT3 / 1024.0
    """Finest step: sqrt(3)/1024 (1024 steps across the unit cube's diagonal)."""
    max_step: float = SQRT3
    """Coarsest step."""
    max_iterations: int = 1 << 16
    """Safety bound on skip + sample events per marching call."""

    @staticmethod
    def for_grid(n_cascades: int, resolution: int, cone_angle: float, min_step: float = SQRT3 / 1024.0) -> MarchParams:
        """instant-ngp's rule: the maximum step is the coarsest cascade's cell diagonal."""
        max_step = max(min_step, SQRT3 * 2.0 ** (n_cascades - 1) / resolution)
        return MarchParams(cone_angle=cone_angle, min_step=min_step, max_step=max_step)


def step_size(t: torch.Tensor, params: MarchParams) -> torch.Tensor:
    return torch.clamp(t * params.cone_angle, params.min_step, params.max_step)


@dataclass(frozen=True)
class Box:
    """An oriented box in the normalised frame: points p with |R^T (p - c)| <= h per axis."""

    center: torch.Tensor
    """(3,) float32."""
    rotation: torch.Tensor
    """(3, 3) float32, the box axes as columns."""
    half_extents: torch.Tensor
    """(3,) float32."""


def ray_box_interval(origins: torch.Tensor, dirs: torch.Tensor, box: Box) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distances (N,) of rays with a box (slab test in the box frame); exit < entry: miss."""
    o = (origins - box.center) @ box.rotation
    d = dirs @ box.rotation
    safe = torch.where(d.abs() < 1e-12, torch.full_like(d, 1e-12), d)
    t1 = (-box.half_extents - o) / safe
    t2 = (box.half_extents - o) / safe
    lo, hi = torch.minimum(t1, t2), torch.maximum(t1, t2)
    # Axis-parallel rays: inside the slab -> unbounded, outside -> miss.
    parallel = d.abs() < 1e-12
    inside = (o.abs() <= box.half_extents)
    lo = torch.where(parallel, torch.where(inside, -FAR, FAR), lo)
    hi = torch.where(parallel, torch.where(inside, FAR, -FAR), hi)
    return lo.max(dim=-1).values, hi.min(dim=-1).values


def clip_rays(origins: torch.Tensor, dirs: torch.Tensor, boxes: list[Box],
              near: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and end distances (N,) inside every box (and beyond ``near``); start >= end: dead ray."""
    start = torch.full(origins.shape[:1], near, dtype=origins.dtype, device=origins.device)
    end = torch.full_like(start, FAR)
    for box in boxes:
        lo, hi = ray_box_interval(origins, dirs, box)
        start, end = torch.maximum(start, lo), torch.minimum(end, hi)
    return start, end


def cascade_at(positions: torch.Tensor, n_cascades: int) -> torch.Tensor:
    """instant-ngp's ``mip_from_pos``: smallest cascade whose cube contains the point (int64).

    The frexp exponent of ``max |p - 0.5|`` is read from the float32 bits (as the kernel does; for
    an extent of exactly 0 this gives cascade 0 where ``frexpf`` would give 1).
    """
    extent = (positions.float() - 0.5).abs().max(dim=-1).values
    exponent = ((extent.view(torch.int32) >> 23) & 0xFF).to(torch.int64) - 126
    return (exponent + 1).clamp(0, n_cascades - 1)


def distance_to_cell_exit(positions: torch.Tensor, dirs: torch.Tensor, cells_per_unit: torch.Tensor) -> torch.Tensor:
    """Distance along each ray to the border of its current cell (cells of size 1/cells_per_unit)."""
    p = (positions - 0.5) * cells_per_unit[:, None]
    target = torch.where(dirs > 0, torch.floor(p) + 1.0, torch.floor(p))
    t_axis = torch.where(dirs == 0, torch.full_like(p, FAR), (target - p) / torch.where(dirs == 0, 1.0, dirs))
    return (t_axis.min(dim=-1).values / cells_per_unit).clamp(min=0.0)


def march(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor, grid: OccupancyGrid,
          params: MarchParams, max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Emit up to ``max_samples`` occupied samples per ray, from ``t`` towards ``t_end``.

    Returns ``(sample_t, sample_dt, count, t)``: (N, K) float32 sample distances and steps (slots at
    or beyond ``count`` are 0), (N,) int64 counts, and each ray's resume distance.
    """
    n, device = origins.shape[0], origins.device
    sample_t = torch.zeros(n, max_samples, dtype=torch.float32, device=device)
    sample_dt = torch.zeros_like(sample_t)
    count = torch.zeros(n, dtype=torch.int64, device=device)
    t = t.clone()
    active = torch.nonzero(t < t_end).squeeze(1)
    for _ in range(params.max_iterations):
        if active.numel() == 0:
            break
        o, d, ta = origins[active], dirs[active], t[active]
        pos = o + ta[:, None] * d
        mip = cascade_at(pos, grid.n_cascades)
        occupied = grid.lookup(pos, mip)
        dt = step_size(ta, params)
        hit = active[occupied]
        sample_t[hit, count[hit]] = ta[occupied]
        sample_dt[hit, count[hit]] = dt[occupied]
        count[hit] += 1
        skip = ~occupied
        mip_s = mip[skip]
        climbing = torch.ones_like(mip_s, dtype=torch.bool)
        for _level in range(grid.n_cascades - 1):
            coarser = (mip_s + 1).clamp(max=grid.n_cascades - 1)
            climbing &= (mip_s < grid.n_cascades - 1) & ~grid.lookup(pos[skip], coarser)
            mip_s = torch.where(climbing, coarser, mip_s)
        cells_per_unit = grid.resolution * torch.exp2(-mip_s.to(torch.float32))
        dist = distance_to_cell_exit(pos[skip], d[skip], cells_per_unit)
        n_steps = torch.ceil(dist / dt[skip]).clamp(min=1.0)
        new_t = ta.clone()
        new_t[occupied] = ta[occupied] + dt[occupied]
        new_t[skip] = ta[skip] + dt[skip] * n_steps
        t[active] = new_t
        keep = (new_t < t_end[active]) & (count[active] < max_samples)
        active = active[keep]
    return sample_t, sample_dt, count, t
