"""The baked field: one query per ray at its hit point (NEPHELE's i-NOLF branches).

* diffuse branch: hash encoder ``E_d`` + MLP ``F_d``: position -> diffuse colour ``c_d`` and
  specular tint ``t`` (logistic, 0..1 each);
* specular branch: hash encoder ``E_s`` + MLP ``F_s``: (position, SH-encoded view direction,
  coarse opacity ``alpha_c``) -> specular colour ``c_s`` (logistic) and the opacity
  ``alpha = sigmoid(logit(alpha_c) + delta)`` (a learned correction of the coarse opacity).

Radiance ``c = c_d + t * c_s`` (not premultiplied; may exceed 1 before the renderer clamps it).
Positions are in the texture's unit cube ([0, 1]^3, see ``DensityTexture.unit_cube``), view
directions unit vectors of the normalised frame. On CUDA with Triton the encoders use the source
NeRF's Triton hash-encoding kernels (forward and table gradient); elsewhere the torch reference.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from render.nerf.baked.config import DIFFUSE_OUTPUTS, SPECULAR_OUTPUTS, BakedFieldConfig
from render.nerf.config import FieldConfig, HashGridConfig, next_multiple
from render.nerf.field_components.hash_encoding import LevelTensors, hash_encode, level_layout
from render.nerf.field_components.mlp import FullyFusedMLP
from render.nerf.field_components.spherical_harmonics import sh_encode

GRID_INIT_RANGE = 1e-4
ALPHA_CLAMP = 1e-4
"""The coarse opacity is clamped to [ALPHA_CLAMP, 1 - ALPHA_CLAMP] before its logit."""


def with_ones(x: torch.Tensor, width: int) -> torch.Tensor:
    """Append ones up to ``width`` columns (at least one: the first layer's bias)."""
    ones = torch.ones(x.shape[0], width - x.shape[1], dtype=x.dtype, device=x.device)
    return torch.cat([x, ones], dim=1)


class HashEncoder(nn.Module):
    """A multiresolution hash grid (the source NeRF's encoder) with its own table."""

    def __init__(self, config: HashGridConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.layout = level_layout(config)
        self.table = nn.Parameter(torch.empty(self.layout.n_entries, config.n_features_per_level))
        with torch.no_grad():
            self.table.uniform_(-GRID_INIT_RANGE, GRID_INIT_RANGE, generator=generator)
        self._levels: dict[torch.device, LevelTensors] = {}
        self._triton: Any = None
        self.use_triton = False

    @property
    def output_width(self) -> int:
        return self.config.output_width

    def triton_unavailable_reason(self, device: torch.device) -> str | None:
        from render.nerf.kernels import triton_unavailable_reason

        return triton_unavailable_reason(device, FieldConfig(grid=self.config))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3) positions in [0, 1]^3 -> (N, levels * features) float32."""
        if self.use_triton and x.is_cuda:
            from render.nerf.kernels.triton_encoding import HashEncodeFunction, LevelBuffers

            if self._triton is None or self._triton.scale.device != x.device:
                self._triton = LevelBuffers(self.layout, x.device)
            encoded: torch.Tensor = HashEncodeFunction.apply(  # type: ignore[no-untyped-call]
                x.float().contiguous(), self.table, self._triton)
            return encoded
        if x.device not in self._levels:
            self._levels[x.device] = LevelTensors(self.layout, x.device)
        return hash_encode(x.float(), self.table, self._levels[x.device])


class BakedField(nn.Module):
    """Both branches; ``forward(x, dirs, alpha_c) -> (rgb (N, 3), alpha (N,))``."""

    def __init__(self, config: BakedFieldConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.diffuse_encoder = HashEncoder(config.diffuse_grid, generator)
        self.specular_encoder = HashEncoder(config.specular_grid, generator)
        self.diffuse_mlp = FullyFusedMLP(config.diffuse_input_width, config.n_neurons, config.diffuse_hidden_layers,
                                         next_multiple(DIFFUSE_OUTPUTS, 16))
        self.specular_mlp = FullyFusedMLP(config.specular_input_width, config.n_neurons,
                                          config.specular_hidden_layers, next_multiple(SPECULAR_OUTPUTS, 16))
        self.diffuse_mlp.reset_parameters(generator)
        self.specular_mlp.reset_parameters(generator)

    @property
    def device(self) -> torch.device:
        return self.diffuse_encoder.table.device

    def use_fast_encoding(self, enabled: bool) -> bool:
        """Encode with the Triton kernels where they can run here; returns whether both do."""
        encoders = (self.diffuse_encoder, self.specular_encoder)
        able = all(e.triton_unavailable_reason(self.device) is None for e in encoders)
        for e in encoders:
            e.use_triton = enabled and able
        return enabled and able

    def diffuse(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3) -> diffuse colour (N, 3) and specular tint (N, 3), both 0..1."""
        enc = self.diffuse_encoder(x)
        out = self.diffuse_mlp(with_ones(enc, self.config.diffuse_input_width))
        return torch.sigmoid(out[:, :3]), torch.sigmoid(out[:, 3:6])

    def specular(self, x: torch.Tensor, dirs: torch.Tensor, alpha_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> specular colour (N, 3) in 0..1 and refined opacity (N,)."""
        enc = self.specular_encoder(x)
        sh = sh_encode(dirs, self.config.sh_degree)
        a = alpha_c.float().clamp(ALPHA_CLAMP, 1.0 - ALPHA_CLAMP)
        out = self.specular_mlp(with_ones(torch.cat([enc, sh, a[:, None]], dim=1), self.config.specular_input_width))
        alpha = torch.sigmoid(torch.log(a / (1.0 - a)) + out[:, 3])
        return torch.sigmoid(out[:, :3]), alpha

    def forward(self, x: torch.Tensor, dirs: torch.Tensor, alpha_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        diffuse, tint = self.diffuse(x)
        specular, alpha = self.specular(x, dirs, alpha_c)
        return diffuse + tint * specular, alpha

    # ------------------------------------------------------------------ parameters as named tensors
    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Every parameter as a float32 CPU tensor, by name (what the .bnerf file stores)."""
        return {
            "diffuse_table": self.diffuse_encoder.table.detach().float().cpu().contiguous(),
            "specular_table": self.specular_encoder.table.detach().float().cpu().contiguous(),
            "diffuse_mlp": self.diffuse_mlp.flat().cpu().contiguous(),
            "specular_mlp": self.specular_mlp.flat().cpu().contiguous(),
        }

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of :meth:`state_tensors`; ValueError naming the tensor whose shape is wrong."""
        for name, encoder in (("diffuse_table", self.diffuse_encoder), ("specular_table", self.specular_encoder)):
            if tuple(tensors[name].shape) != tuple(encoder.table.shape):
                raise ValueError(f"tensor {name!r} has shape {tuple(tensors[name].shape)}, the config needs "
                                 f"{tuple(encoder.table.shape)}")
            with torch.no_grad():
                encoder.table.copy_(tensors[name])
        for name, mlp in (("diffuse_mlp", self.diffuse_mlp), ("specular_mlp", self.specular_mlp)):
            if tensors[name].numel() != mlp.n_params:
                raise ValueError(f"tensor {name!r} has {tensors[name].numel()} values, the config needs "
                                 f"{mlp.n_params}")
            mlp.load_flat(tensors[name])
