"""The Triton render backend: march, fused field and composite kernels behind ``RenderBackend``.

The packed field weights are cached and rebuilt when the field's parameters change version
(after training steps or a parameter load).
"""

from __future__ import annotations

import torch

from render.nerf.fields.ngp_field import NgpField
from render.nerf.kernels import triton_march
from render.nerf.kernels.triton_field import BLOCK_FIELD, PackedField, evaluate_field, pack_field
from render.nerf.model_components.marching import MarchParams
from render.nerf.model_components.occupancy import OccupancyGrid
from render.nerf.model_components.renderers import FieldInputs, RayState


class TritonBackend:
    """Fast path on CUDA (or on CPU under ``TRITON_INTERPRET=1``)."""

    name = "triton"

    def __init__(self, field: NgpField, block: int = BLOCK_FIELD, num_warps: int = 4) -> None:
        self.field = field
        self.block = block
        self.num_warps = num_warps
        self._packed: PackedField | None = None
        self._packed_key: tuple[int, ...] | None = None
        self._bounds_of: FieldInputs | None = None
        self._bounds_value = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))

    def packed(self) -> PackedField:
        key = tuple(p._version for p in self.field.parameters()) + (self.field.grid_table.data_ptr(),)
        if self._packed is None or key != self._packed_key:
            self._packed = pack_field(self.field)
            self._packed_key = key
        return self._packed

    def _bounds(self, inputs: FieldInputs) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """The aabb as kernel scalars, read from the device once per ``FieldInputs`` (not once per round)."""
        if self._bounds_of is not inputs:
            lo = inputs.aabb_min.tolist()
            inv = (1.0 / inputs.aabb_size).tolist()
            self._bounds_value = ((lo[0], lo[1], lo[2]), (inv[0], inv[1], inv[2]))
            self._bounds_of = inputs
        return self._bounds_value

    def march(self, origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor,
              grid: OccupancyGrid, params: MarchParams,
              max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return triton_march.march(origins, dirs, t, t_end, grid, params, max_samples)

    def evaluate(self, inputs: FieldInputs, origins: torch.Tensor, dirs: torch.Tensor, sample_t: torch.Tensor,
                 count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, k = sample_t.shape
        valid = torch.arange(k, device=count.device, dtype=torch.int32)[None, :] < count[:, None]
        index = torch.nonzero(valid.reshape(-1)).squeeze(1).to(torch.int32)
        lo, inv = self._bounds(inputs)
        sigma, rgb = evaluate_field(self.packed(), origins.contiguous(), dirs.contiguous(), sample_t, index,
                                    lo, inv, self.block, self.num_warps)
        return sigma.reshape(n, k), rgb.reshape(n, k, 3)

    def composite(self, state: RayState, rays: torch.Tensor, sigma: torch.Tensor, rgb: torch.Tensor,
                  sample_t: torch.Tensor, sample_dt: torch.Tensor, count: torch.Tensor,
                  min_transmittance: float) -> None:
        triton_march.composite(rays, sigma, rgb, sample_t, sample_dt, count, state.transmittance, state.rgb,
                               state.depth, min_transmittance)
