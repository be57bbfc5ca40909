"""Training presets: instant-ngp's network and grid on CUDA, a CPU-sized one on the CPU.

The ``ngp`` preset is instant-ngp's ``base.json`` with its 128^3 occupancy grid (what instant-ngp
snapshots need). On a CPU every sample costs about a microsecond of hash-grid gathers and MLP
work, so the ``cpu`` preset trades capacity for steps: a hash table that fits the caches (2^15
entries of 2 features per level), narrower MLPs, a 32^3 occupancy grid (cheap to update) marched
with steps of a fifth of its cells (``sqrt(3) / (8 * resolution)``, the ratio instant-ngp uses) and
smaller batches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from render.nerf.config import FieldConfig, HashGridConfig
from render.nerf.model_components.occupancy import NGP_GRID_RESOLUTION

PresetName = Literal["auto", "cpu", "ngp"]


def min_step_for(grid_resolution: int) -> float:
    """instant-ngp's marching step relative to its grid: sqrt(3)/1024 for 128 cells (about 4.6 steps per cell)."""
    return math.sqrt(3.0) / (8 * grid_resolution)


@dataclass(frozen=True, kw_only=True)
class TrainPreset:
    name: str
    field: FieldConfig
    grid_resolution: int
    """Occupancy-grid cells per axis and cascade."""
    batch_samples: int
    """Target samples per step that get gradients (after compaction)."""
    initial_rays: int
    """Rays of the first step (the count then adapts to ``batch_samples``)."""

    @property
    def min_step(self) -> float:
        return min_step_for(self.grid_resolution)

    def with_overrides(self, *, grid_resolution: int | None = None, log2_hashmap_size: int | None = None,
                       batch_samples: int | None = None) -> TrainPreset:
        """This preset with the given settings replaced (None keeps the preset's)."""
        grid = self.field.grid
        if log2_hashmap_size is not None:
            grid = HashGridConfig(n_levels=grid.n_levels, n_features_per_level=grid.n_features_per_level,
                                  log2_hashmap_size=log2_hashmap_size, base_resolution=grid.base_resolution,
                                  per_level_scale=grid.per_level_scale)
        field = FieldConfig(grid=grid, n_neurons=self.field.n_neurons,
                            density_hidden_layers=self.field.density_hidden_layers,
                            rgb_hidden_layers=self.field.rgb_hidden_layers,
                            density_output_dims=self.field.density_output_dims, sh_degree=self.field.sh_degree)
        return TrainPreset(name=self.name, field=field, grid_resolution=grid_resolution or self.grid_resolution,
                           batch_samples=batch_samples or self.batch_samples, initial_rays=self.initial_rays)

    def describe(self) -> str:
        """One line for the operator: what the preset chose."""
        g = self.field.grid
        return (f"{self.name} preset: hash grid {g.n_levels} levels x {g.n_features_per_level} features, "
                f"2^{g.log2_hashmap_size} entries per level; {self.field.n_neurons}-neuron MLPs; "
                f"occupancy grid {self.grid_resolution}^3, step sqrt(3)/{8 * self.grid_resolution}; "
                f"{self.batch_samples} samples per step")


NGP_PRESET = TrainPreset(name="ngp", field=FieldConfig(), grid_resolution=NGP_GRID_RESOLUTION,
                         batch_samples=1 << 18, initial_rays=4096)
CPU_PRESET = TrainPreset(
    name="cpu",
    field=FieldConfig(grid=HashGridConfig(n_levels=8, n_features_per_level=2, log2_hashmap_size=15, base_resolution=16),
                      n_neurons=32),
    grid_resolution=32, batch_samples=1 << 14, initial_rays=1024)


def preset_for(name: PresetName, device: torch.device | str) -> TrainPreset:
    """``auto``: ``cpu`` on a CPU, ``ngp`` elsewhere."""
    if name == "auto":
        name = "cpu" if torch.device(device).type == "cpu" else "ngp"
    return CPU_PRESET if name == "cpu" else NGP_PRESET
