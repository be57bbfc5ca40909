"""Small NeRF models for tests: random weights, hand-made occupancy grids."""

from __future__ import annotations

import numpy as np
import torch

from render.nerf.config import FieldConfig, HashGridConfig
from render.nerf.conventions import asset_to_field_matrix
from render.nerf.fields.ngp_field import NgpField
from render.nerf.model import NerfModel
from render.nerf.model_components.occupancy import OccupancyGrid


def small_config(n_levels: int = 8, features: int = 2, log2_size: int = 12, base: int = 4,
                 per_level_scale: float = 1.5, width: int = 32) -> FieldConfig:
    return FieldConfig(grid=HashGridConfig(n_levels=n_levels, n_features_per_level=features,
                                           log2_hashmap_size=log2_size, base_resolution=base,
                                           per_level_scale=per_level_scale), n_neurons=width)


def random_field(config: FieldConfig, seed: int = 0, grid_range: float = 1.0, fp16: bool = False) -> NgpField:
    """A field with features large enough to give a structured, non-trivial density."""
    field = NgpField(config, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        field.grid_table.uniform_(-grid_range, grid_range, generator=torch.Generator().manual_seed(seed + 1))
        if fp16:
            for p in field.parameters():
                p.copy_(p.half().float())
    return field


def model_with_grid(field: NgpField, occupied: torch.Tensor | None = None, n_cascades: int = 1,
                    resolution: int = 16, aabb_scale: float = 1.0, scale: float = 1.0,
                    cone_angle: float = 0.0, min_step: float = 3**0.5 / 128) -> NerfModel:
    """``occupied``: (n_cascades, res, res, res) bool indexed [cascade, z, y, x]; None: all occupied."""
    grid = OccupancyGrid(n_cascades, resolution, min_step)
    if occupied is None:
        grid.density.fill_(1.0)
    else:
        from render.nerf.model_components.occupancy import morton_order

        morton = morton_order(resolution)
        for m in range(n_cascades):
            grid.density[m, morton] = occupied[m].reshape(-1).float()
    grid.update_bitfield()
    half = aabb_scale / 2
    return NerfModel(field=field, grid=grid, aabb_min=np.full(3, 0.5 - half), aabb_max=np.full(3, 0.5 + half),
                     asset_to_field=asset_to_field_matrix(scale, (0.5, 0.5, 0.5)), cone_angle=cone_angle)
