"""Configuration of a baked NeRF: the two query branches and the texture march.

Both branches encode the hit point with a multiresolution hash grid (tiny-cuda-nn layout, the
same encoder the source NeRF uses) over the texture's cube (see ``DensityTexture.unit_cube``).
MLPs are bias-free ``FullyFusedMLP``s; a constant 1 is appended to every input so each first
layer has a bias.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from render.nerf.config import FieldConfig, HashGridConfig, next_multiple

MLP_ALIGNMENT = 16
SUPPORTED_WIDTHS = (16, 32, 64, 128)
DIFFUSE_OUTPUTS = 6
"""Diffuse rgb logits (3) and specular tint logits (3)."""
SPECULAR_OUTPUTS = 4
"""Specular rgb logits (3) and the opacity correction (1, added to logit(coarse opacity))."""


def grid_for_finest(n_levels: int, n_features: int, log2_size: int, base: int, finest: int) -> HashGridConfig:
    """A hash grid growing geometrically from ``base`` to about ``finest`` cells per side."""
    scale = math.exp(math.log(max(finest, base) / base) / max(n_levels - 1, 1)) if n_levels > 1 else 1.0
    return HashGridConfig(n_levels=n_levels, n_features_per_level=n_features, log2_hashmap_size=log2_size,
                          base_resolution=base, per_level_scale=scale)


@dataclass(frozen=True, kw_only=True)
class BakedFieldConfig:
    """The diffuse and specular branches."""

    diffuse_grid: HashGridConfig = field(default_factory=lambda: grid_for_finest(8, 4, 19, 16, 1024))
    """Hash grid of the diffuse branch (position only)."""
    specular_grid: HashGridConfig = field(default_factory=lambda: grid_for_finest(8, 2, 18, 16, 512))
    """Hash grid of the specular branch."""
    n_neurons: int = 64
    """Hidden width of both MLPs."""
    diffuse_hidden_layers: int = 1
    specular_hidden_layers: int = 2
    sh_degree: int = 4
    """Spherical-harmonics degree of the view-direction encoding (degree**2 values)."""

    @property
    def diffuse_input_width(self) -> int:
        return next_multiple(self.diffuse_grid.output_width + 1, MLP_ALIGNMENT)

    @property
    def specular_input_width(self) -> int:
        return next_multiple(self.specular_grid.output_width + self.sh_degree**2 + 2, MLP_ALIGNMENT)

    def validate(self) -> None:
        """ValueError naming the first setting out of range."""
        for name, g in (("diffuse_grid", self.diffuse_grid), ("specular_grid", self.specular_grid)):
            if not 1 <= g.n_levels <= 32:
                raise ValueError(f"{name}.n_levels must be 1..32, got {g.n_levels}")
            if g.n_features_per_level not in (1, 2, 4, 8):
                raise ValueError(f"{name}.n_features_per_level must be 1, 2, 4 or 8, got {g.n_features_per_level}")
            if not 1 <= g.log2_hashmap_size <= 30:
                raise ValueError(f"{name}.log2_hashmap_size must be 1..30, got {g.log2_hashmap_size}")
            if g.base_resolution < 1 or g.per_level_scale < 1.0:
                raise ValueError(f"{name}: base_resolution must be >= 1 and per_level_scale >= 1")
        if self.n_neurons not in SUPPORTED_WIDTHS:
            raise ValueError(f"n_neurons must be one of {SUPPORTED_WIDTHS}, got {self.n_neurons}")
        if self.diffuse_hidden_layers < 1 or self.specular_hidden_layers < 1:
            raise ValueError("both MLPs need at least one hidden layer")
        if not 1 <= self.sh_degree <= 4:
            raise ValueError(f"sh_degree must be 1..4, got {self.sh_degree}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def like_source(source: FieldConfig, side_ratio: float = 1.0) -> BakedFieldConfig:
        """The source's capacity: its hash grid (levels, features, table size) and MLP width for the
        diffuse branch, half the levels and half the table for the specular one. ``side_ratio`` is
        the baked unit cube's side over the source's aabb side: the finest level keeps the source's
        cells per unit length."""
        g = source.grid
        finest = g.base_resolution * g.per_level_scale ** (g.n_levels - 1) * side_ratio
        base = max(1, min(g.base_resolution, round(finest)))
        diffuse = grid_for_finest(g.n_levels, g.n_features_per_level, g.log2_hashmap_size, base, round(finest))
        specular = grid_for_finest(max(1, g.n_levels // 2), g.n_features_per_level, max(1, g.log2_hashmap_size - 1),
                                   base, round(finest / 2))
        return BakedFieldConfig(diffuse_grid=diffuse, specular_grid=specular, n_neurons=source.n_neurons)

    @staticmethod
    def from_json(data: dict[str, Any]) -> BakedFieldConfig:
        rest = {k: v for k, v in data.items() if k not in ("diffuse_grid", "specular_grid")}
        config = BakedFieldConfig(diffuse_grid=HashGridConfig(**data["diffuse_grid"]),
                                  specular_grid=HashGridConfig(**data["specular_grid"]), **rest)
        config.validate()
        return config


@dataclass(frozen=True, kw_only=True)
class MarchConfig:
    """How rays march the density texture (normalised-frame units)."""

    step_ratio: float = 0.5
    """Marching step as a fraction of a texture cell."""
    samples_per_round: int = 16
    """Samples each ray takes per round while it is inside an occupied brick."""
    min_transmittance: float = 0.01
    """Early exit: a ray stops once less than this is left (its coarse opacity is then 1)."""
    min_alpha: float = 0.01
    """Rays whose coarse opacity stays below this are empty: the field is not queried."""
    hit_opacity: float = 0.5
    """The hit point is where the accumulated opacity crosses this (expected depth when it never does)."""

    def validate(self) -> None:
        if not 0.0 < self.step_ratio <= 1.0:
            raise ValueError(f"step_ratio must be in (0, 1], got {self.step_ratio}")
        if not 1 <= self.samples_per_round <= 256:
            raise ValueError(f"samples_per_round must be 1..256, got {self.samples_per_round}")
        if not 0.0 < self.min_transmittance < 1.0 or not 0.0 <= self.min_alpha < 1.0:
            raise ValueError("min_transmittance must be in (0, 1) and min_alpha in [0, 1)")
        if not 0.0 < self.hit_opacity < 1.0:
            raise ValueError(f"hit_opacity must be in (0, 1), got {self.hit_opacity}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> MarchConfig:
        config = MarchConfig(**data)
        config.validate()
        return config
