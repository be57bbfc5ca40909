"""Keeping the occupancy grid in step with the field during training (instant-ngp's schedule).

* Before training, cells no training camera can see are set to -1: they stay empty for good
  (the images can never constrain them, and floaters there would only cost samples).
* Every ``interval`` steps, cells are sampled (all of them, at random, during warm-up; afterwards
  a quarter uniformly plus a quarter among occupied cells), the density is evaluated at a random
  point in each, and each cell becomes ``max(decay * old, new)`` with ``new`` the sampled optical
  thickness (0 where not sampled); then the bitfield is rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from render.nerf.model_components.occupancy import OccupancyGrid
from render.nerf.train.camera_rays import FrameCameras

DensityFn = Callable[[torch.Tensor], torch.Tensor]
"""Normalised-frame positions (N, 3) -> density (N,) (no grad)."""


def mark_unseen_cells(grid: OccupancyGrid, cameras: FrameCameras, field_to_asset: np.ndarray) -> float:
    """Set cells that no camera sees (no corner inside any image) to -1; returns the fraction kept."""
    m = torch.as_tensor(field_to_asset, dtype=torch.float32, device=grid.device)
    corners = torch.tensor([[(c >> d) & 1 for d in range(3)] for c in range(8)], dtype=torch.float32,
                           device=grid.device) - 0.5
    kept = 0
    for cascade in range(grid.n_cascades):
        centers = grid.cell_centers(cascade)
        seen = torch.zeros(grid.n_cells, dtype=torch.bool, device=grid.device)
        for corner in corners:
            p = centers + corner * grid.cell_size(cascade)
            seen |= cameras.sees(p @ m[:3, :3].T + m[:3, 3])
        grid.density[cascade] = torch.where(seen, grid.density[cascade].clamp(min=0), -1.0)
        kept += int(seen.sum())
    return kept / (grid.n_cells * grid.n_cascades)


def sample_cells(grid: OccupancyGrid, n_uniform: int, n_occupied: int,
                 generator: torch.Generator | None) -> torch.Tensor:
    """Flat cell indices (cascade * n_cells + cell): uniform ones plus ones drawn among occupied cells."""
    total = grid.n_cells * grid.n_cascades
    dev = grid.device
    picks = [torch.randint(0, total, (n_uniform,), device=dev, generator=generator)]
    if n_occupied > 0:
        occupied = torch.nonzero(grid.density.reshape(-1) > grid.threshold()).squeeze(1)
        if occupied.numel() > 0:
            choice = torch.randint(0, occupied.numel(), (n_occupied,), device=dev, generator=generator)
            picks.append(occupied[choice])
    return torch.cat(picks)


def update_grid(grid: OccupancyGrid, density: DensityFn, warmup: bool, decay: float = 0.95,
                generator: torch.Generator | None = None, chunk: int = 1 << 20) -> None:
    """One instant-ngp density-grid update (see the module docstring)."""
    total = grid.n_cells * grid.n_cascades
    n_uniform = total if warmup else total // 4
    cells = sample_cells(grid, n_uniform, 0 if warmup else total // 4, generator)
    cascade = cells // grid.n_cells
    centers = torch.empty(cells.shape[0], 3, device=grid.device)
    for m in range(grid.n_cascades):
        sel = cascade == m
        centers[sel] = grid.cell_centers(m)[cells[sel] % grid.n_cells]
    size = torch.exp2(cascade.float()) / grid.resolution
    jitter = torch.rand(cells.shape[0], 3, device=grid.device, generator=generator) - 0.5
    points = centers + jitter * size[:, None]
    thickness = torch.empty(cells.shape[0], device=grid.device)
    with torch.no_grad():
        for start in range(0, cells.shape[0], chunk):
            stop = start + chunk
            step = grid.min_step * torch.exp2(cascade[start:stop].float())
            thickness[start:stop] = density(points[start:stop]) * step
    new = torch.zeros(total, device=grid.device)
    new.scatter_reduce_(0, cells, thickness, reduce="amax")
    flat = grid.density.reshape(-1)
    grid.density = torch.where(flat < 0, flat, torch.maximum(flat * decay, new)).reshape(grid.density.shape)
    grid.update_bitfield()
