"""The marcher as it was before the batched stepping-space reference (kept to compare against).

An event loop over all rays: at ``t`` a ray either emits the sample (occupied cell) and steps by
``dt(t) = clamp(t * cone_angle, min_step, max_step)``, or climbs to the coarsest empty cascade and
skips to that cell's exit in whole steps of ``dt(t)``. With cone_angle 0 its samples are the new
marcher's; with cone stepping its skips leave the lattice of steps, which the new one keeps.
"""

from __future__ import annotations

import torch

from render.nerf.model_components.marching import FAR, MarchParams, cascade_at
from render.nerf.model_components.occupancy import OccupancyGrid


def legacy_step_size(t: torch.Tensor, params: MarchParams) -> torch.Tensor:
    return torch.clamp(t * params.cone_angle, params.min_step, params.max_step)


def distance_to_cell_exit(positions: torch.Tensor, dirs: torch.Tensor, cells_per_unit: torch.Tensor) -> torch.Tensor:
    """Distance along each ray to the border of its current cell (cells of size 1/cells_per_unit)."""
    p = (positions - 0.5) * cells_per_unit[:, None]
    target = torch.where(dirs > 0, torch.floor(p) + 1.0, torch.floor(p))
    t_axis = torch.where(dirs == 0, torch.full_like(p, FAR), (target - p) / torch.where(dirs == 0, 1.0, dirs))
    return (t_axis.amin(dim=-1) / cells_per_unit).clamp(min=0.0)


def _skip_distance(pos: torch.Tensor, d: torch.Tensor, mip: torch.Tensor, grid: OccupancyGrid) -> torch.Tensor:
    """Distance to the exit of the coarsest empty cell around each (empty) position."""
    climbing = torch.ones_like(mip, dtype=torch.bool)
    for _level in range(grid.n_cascades - 1):
        coarser = (mip + 1).clamp(max=grid.n_cascades - 1)
        climbing &= (mip < grid.n_cascades - 1) & ~grid.lookup(pos, coarser)
        mip = torch.where(climbing, coarser, mip)
    return distance_to_cell_exit(pos, d, grid.resolution * torch.exp2(-mip.to(torch.float32)))


def legacy_march(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
                 grid: OccupancyGrid, params: MarchParams,
                 max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(sample_t, sample_dt, count, t)`` with the contract of ``marching.march``."""
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
        dt = legacy_step_size(ta, params)
        hit = active[occupied]
        sample_t[hit, count[hit]] = ta[occupied]
        sample_dt[hit, count[hit]] = dt[occupied]
        count[hit] += 1
        skip = ~occupied
        n_steps = torch.ceil(_skip_distance(pos[skip], d[skip], mip[skip], grid) / dt[skip]).clamp(min=1.0)
        new_t = ta.clone()
        new_t[occupied] = ta[occupied] + dt[occupied]
        new_t[skip] = ta[skip] + dt[skip] * n_steps
        t[active] = new_t
        active = active[(new_t < t_end[active]) & (count[active] < max_samples)]
    return sample_t, sample_dt, count, t


class LegacyTorchBackend:
    """The torch reference backend with the legacy marcher (for image comparisons)."""

    name = "torch-legacy"

    def __init__(self) -> None:
        from render.nerf.model_components.renderers import TorchBackend

        self._torch = TorchBackend()
        self.evaluate = self._torch.evaluate
        self.composite = self._torch.composite

    def march(self, origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
              grid: OccupancyGrid, params: MarchParams,
              max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return legacy_march(origins, dirs, t, t_end, grid, params, max_samples)
