"""instant-ngp's NeRF field in torch: the reference implementation (CPU and CUDA).

Inputs are in the field's own coordinates: positions ``x`` warped into the unit cube of the
training aabb ([0, 1]^3) and unit directions in the normalised (instant-ngp) frame. Density is
``exp`` of the density network's output 0 (per unit length of the normalised frame); colour is
the logistic of the colour network's outputs 0..2.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from render.nerf.config import FieldConfig
from render.nerf.field_components.hash_encoding import LevelLayout, LevelTensors, hash_encode, level_layout
from render.nerf.field_components.mlp import FullyFusedMLP
from render.nerf.field_components.spherical_harmonics import sh_encode

GRID_INIT_RANGE = 1e-4
"""instant-ngp initialises hash-grid features uniformly in [-1e-4, 1e-4]."""


def pad_with_ones(x: torch.Tensor, width: int) -> torch.Tensor:
    """tiny-cuda-nn pads encodings to the MLP's input width with ones."""
    if x.shape[1] == width:
        return x
    return torch.cat([x, torch.ones(x.shape[0], width - x.shape[1], dtype=x.dtype, device=x.device)], dim=1)


class NgpField(nn.Module):
    """Hash grid + density MLP + SH-conditioned colour MLP, parameters in instant-ngp order."""

    def __init__(self, config: FieldConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.layout: LevelLayout = level_layout(config.grid)
        self.grid_table = nn.Parameter(torch.empty(self.layout.n_entries, config.grid.n_features_per_level))
        self.density_mlp = FullyFusedMLP(config.density_input_width, config.n_neurons,
                                         config.density_hidden_layers, config.density_output_width)
        self.rgb_mlp = FullyFusedMLP(config.rgb_input_width, config.n_neurons,
                                     config.rgb_hidden_layers, config.rgb_output_width)
        self._levels: dict[torch.device, LevelTensors] = {}
        self._triton_encoding = False
        self._triton_levels: Any = None
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        with torch.no_grad():
            self.grid_table.uniform_(-GRID_INIT_RANGE, GRID_INIT_RANGE, generator=generator)
        self.density_mlp.reset_parameters(generator)
        self.rgb_mlp.reset_parameters(generator)

    def levels(self, device: torch.device) -> LevelTensors:
        if device not in self._levels:
            self._levels[device] = LevelTensors(self.layout, device)
        return self._levels[device]

    @property
    def n_params(self) -> int:
        return self.density_mlp.n_params + self.rgb_mlp.n_params + self.layout.n_params

    # ------------------------------------------------------------------ evaluation
    def use_triton_encoding(self, enabled: bool = True) -> None:
        """Encode with the Triton kernels (forward and table gradient) instead of the torch reference.

        Only for CUDA tensors (or TRITON_INTERPRET=1); the caller checks availability
        (render.nerf.kernels.triton_unavailable_reason).
        """
        self._triton_encoding = enabled

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3) unit-cube positions -> (N, density_input_width) encoding (padded with ones)."""
        if self._triton_encoding:
            from render.nerf.kernels.triton_encoding import HashEncodeFunction, LevelBuffers

            if self._triton_levels is None or self._triton_levels.scale.device != x.device:
                self._triton_levels = LevelBuffers(self.layout, x.device)
            enc = HashEncodeFunction.apply(x.float().contiguous(), self.grid_table, self._triton_levels)
        else:
            enc = hash_encode(x, self.grid_table, self.levels(x.device))
        return pad_with_ones(enc, self.config.density_input_width)

    def density_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3) -> (N, density_output_width) raw density-network outputs (output 0: log-density)."""
        return self.density_mlp(self.encode(x))

    def density(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3) unit-cube positions -> (N,) density per unit length of the normalised frame."""
        return torch.exp(self.density_outputs(x)[:, 0])

    def forward(self, x: torch.Tensor, directions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3) positions, (N, 3) unit directions -> density (N,), rgb (N, 3) in 0..1."""
        raw = self.density_outputs(x)
        return torch.exp(raw[:, 0]), self.color(raw, directions)

    def color(self, density_raw: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        sh = pad_with_ones(sh_encode(directions, self.config.sh_degree).to(density_raw.dtype),
                           self.config.dir_encoding_width)
        rgb_in = pad_with_ones(torch.cat([density_raw, sh], dim=1), self.config.rgb_input_width)
        return torch.sigmoid(self.rgb_mlp(rgb_in)[:, :3])

    # ------------------------------------------------------------------ instant-ngp parameter layout
    def flat_params(self) -> torch.Tensor:
        """float32 vector in instant-ngp's ``params_binary`` order: density MLP, colour MLP, grid."""
        return torch.cat([self.density_mlp.flat(), self.rgb_mlp.flat(),
                          self.grid_table.detach().reshape(-1).float()])

    def load_flat_params(self, flat: torch.Tensor) -> None:
        """Inverse of :meth:`flat_params`; ValueError when the count does not match the config."""
        flat = flat.reshape(-1)
        if flat.numel() != self.n_params:
            raise ValueError(f"expected {self.n_params} parameters for this network config, got {flat.numel()}")
        a = self.density_mlp.n_params
        b = a + self.rgb_mlp.n_params
        self.density_mlp.load_flat(flat[:a])
        self.rgb_mlp.load_flat(flat[a:b])
        with torch.no_grad():
            self.grid_table.copy_(flat[b:].reshape(self.grid_table.shape).to(self.grid_table.dtype))
