"""Field configuration and its mapping to instant-ngp / tiny-cuda-nn network JSON.

The field is instant-ngp's ``NerfNetwork``: a multiresolution hash grid feeding a density MLP,
whose 16 raw outputs (output 0 is log-density) are concatenated with a spherical-harmonics
direction encoding and fed to a colour MLP. MLPs have no biases; widths follow tiny-cuda-nn's
FullyFusedMLP padding (inputs and outputs padded to multiples of 16, padded inputs set to 1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

MLP_ALIGNMENT = 16
"""FullyFusedMLP pads input and output widths to multiples of this."""
FULLY_FUSED_WIDTHS = (16, 32, 64, 128)


def next_multiple(value: int, multiple: int) -> int:
    return (value + multiple - 1) // multiple * multiple


def default_per_level_scale(n_levels: int, base_resolution: int, aabb_scale: float) -> float:
    """instant-ngp's default growth factor: the finest level reaches 2048 cells per unit of aabb_scale."""
    if n_levels <= 1:
        return 1.0
    return math.exp(math.log(2048.0 * aabb_scale / base_resolution) / (n_levels - 1))


@dataclass(frozen=True, kw_only=True)
class HashGridConfig:
    """Multiresolution hash encoding (tiny-cuda-nn ``HashGrid``)."""

    n_levels: int = 8
    """Number of resolution levels L."""
    n_features_per_level: int = 4
    """Features F stored per grid entry."""
    log2_hashmap_size: int = 19
    """log2 of the table size T per level."""
    base_resolution: int = 16
    """Coarsest resolution N_min."""
    per_level_scale: float = 2.0
    """Growth factor b between levels."""

    @property
    def output_width(self) -> int:
        return self.n_levels * self.n_features_per_level


@dataclass(frozen=True, kw_only=True)
class FieldConfig:
    """The whole NeRF network (instant-ngp ``base.json`` by default)."""

    grid: HashGridConfig = field(default_factory=HashGridConfig)
    n_neurons: int = 64
    """Hidden width of both MLPs."""
    density_hidden_layers: int = 1
    rgb_hidden_layers: int = 2
    density_output_dims: int = 16
    """Raw density-network outputs passed on to the colour MLP (output 0 is log-density)."""
    sh_degree: int = 4
    """Spherical-harmonics degree of the direction encoding (degree**2 coefficients)."""

    @property
    def density_input_width(self) -> int:
        return next_multiple(self.grid.output_width, MLP_ALIGNMENT)

    @property
    def density_output_width(self) -> int:
        return next_multiple(self.density_output_dims, MLP_ALIGNMENT)

    @property
    def dir_encoding_width(self) -> int:
        return next_multiple(self.sh_degree**2, MLP_ALIGNMENT)

    @property
    def rgb_input_width(self) -> int:
        return next_multiple(self.density_output_width + self.dir_encoding_width, MLP_ALIGNMENT)

    @property
    def rgb_output_width(self) -> int:
        return next_multiple(3, MLP_ALIGNMENT)

    def validate(self) -> None:
        """Raise ValueError when the configuration is not one instant-ngp could have written."""
        g = self.grid
        if not 1 <= g.n_levels <= 32:
            raise ValueError(f"encoding.n_levels must be 1..32, got {g.n_levels}")
        if g.n_features_per_level not in (1, 2, 4, 8):
            raise ValueError(f"encoding.n_features_per_level must be 1, 2, 4 or 8, got {g.n_features_per_level}")
        if not 1 <= g.log2_hashmap_size <= 30:
            raise ValueError(f"encoding.log2_hashmap_size must be 1..30, got {g.log2_hashmap_size}")
        if g.base_resolution < 1 or g.per_level_scale < 1.0:
            raise ValueError("encoding.base_resolution must be >= 1 and per_level_scale >= 1")
        if self.n_neurons not in FULLY_FUSED_WIDTHS:
            raise ValueError(f"network.n_neurons must be one of {FULLY_FUSED_WIDTHS}, got {self.n_neurons}")
        if self.density_hidden_layers < 1 or self.rgb_hidden_layers < 1:
            raise ValueError("networks need at least one hidden layer")
        if not 1 <= self.sh_degree <= 4:
            raise ValueError(f"dir_encoding degree must be 1..4, got {self.sh_degree}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> FieldConfig:
        grid = HashGridConfig(**data.get("grid", {}))
        rest = {k: v for k, v in data.items() if k != "grid"}
        config = FieldConfig(grid=grid, **rest)
        config.validate()
        return config

    def with_aabb_scale(self, aabb_scale: float) -> FieldConfig:
        """This config with instant-ngp's default per-level scale for ``aabb_scale``."""
        b = default_per_level_scale(self.grid.n_levels, self.grid.base_resolution, aabb_scale)
        return replace(self, grid=replace(self.grid, per_level_scale=b))


def to_ngp_network_config(config: FieldConfig) -> dict[str, Any]:
    """The network part of an instant-ngp snapshot (loss, optimizer, encodings, networks)."""
    g = config.grid
    mlp = {"otype": "FullyFusedMLP", "activation": "ReLU", "output_activation": "None",
           "n_neurons": config.n_neurons}
    return {
        "loss": {"otype": "Huber"},
        "optimizer": {"otype": "Ema", "decay": 0.95, "nested": {
            "otype": "ExponentialDecay", "decay_start": 20000, "decay_interval": 10000, "decay_base": 0.33,
            "nested": {"otype": "Adam", "learning_rate": 1e-2, "beta1": 0.9, "beta2": 0.99,
                       "epsilon": 1e-15, "l2_reg": 1e-6}}},
        "encoding": {"otype": "HashGrid", "n_levels": g.n_levels, "n_features_per_level": g.n_features_per_level,
                     "log2_hashmap_size": g.log2_hashmap_size, "base_resolution": g.base_resolution,
                     "per_level_scale": g.per_level_scale, "n_pos_dims": 3},
        "network": {**mlp, "n_hidden_layers": config.density_hidden_layers},
        "dir_encoding": {"otype": "Composite", "nested": [
            {"n_dims_to_encode": 3, "otype": "SphericalHarmonics", "degree": config.sh_degree},
            {"otype": "Identity"}]},
        "rgb_network": {**mlp, "n_hidden_layers": config.rgb_hidden_layers},
    }


def _sh_degree_of(dir_encoding: dict[str, Any]) -> int:
    otype = str(dir_encoding.get("otype", "")).lower()
    if otype == "sphericalharmonics":
        return int(dir_encoding.get("degree", 4))
    if otype == "composite":
        for part in dir_encoding.get("nested", []):
            if str(part.get("otype", "")).lower() == "sphericalharmonics":
                return int(part.get("degree", 4))
    raise ValueError(f"dir_encoding {dir_encoding.get('otype')!r} is not supported (need SphericalHarmonics)")


def from_ngp_network_config(doc: dict[str, Any], aabb_scale: float) -> FieldConfig:
    """Parse the network config of an instant-ngp snapshot; ValueError names the unsupported key."""
    enc = doc.get("encoding", {})
    if str(enc.get("otype", "HashGrid")).lower() != "hashgrid":
        raise ValueError(f"encoding.otype {enc.get('otype')!r} is not supported (need HashGrid)")
    if str(enc.get("interpolation", "Linear")).lower() != "linear":
        raise ValueError(f"encoding.interpolation {enc.get('interpolation')!r} is not supported (need Linear)")
    n_levels = int(enc.get("n_levels", 16))
    base = int(enc.get("base_resolution", 16))
    b = enc.get("per_level_scale")
    grid = HashGridConfig(
        n_levels=n_levels,
        n_features_per_level=int(enc.get("n_features_per_level", 2)),
        log2_hashmap_size=int(enc.get("log2_hashmap_size", 19)),
        base_resolution=base,
        per_level_scale=float(b) if b is not None else default_per_level_scale(n_levels, base, aabb_scale),
    )
    net, rgb = doc.get("network", {}), doc.get("rgb_network", {})
    for name, part in (("network", net), ("rgb_network", rgb)):
        if str(part.get("activation", "ReLU")).lower() != "relu":
            raise ValueError(f"{name}.activation {part.get('activation')!r} is not supported (need ReLU)")
        if str(part.get("output_activation", "None")).lower() != "none":
            raise ValueError(f"{name}.output_activation must be None")
    if int(net.get("n_neurons", 64)) != int(rgb.get("n_neurons", 64)):
        raise ValueError("network and rgb_network must have the same n_neurons")
    config = FieldConfig(
        grid=grid,
        n_neurons=int(net.get("n_neurons", 64)),
        density_hidden_layers=int(net.get("n_hidden_layers", 1)),
        rgb_hidden_layers=int(rgb.get("n_hidden_layers", 2)),
        density_output_dims=int(net.get("n_output_dims", 16)),
        sh_degree=_sh_degree_of(doc.get("dir_encoding", {"otype": "SphericalHarmonics", "degree": 4})),
    )
    config.validate()
    return config
