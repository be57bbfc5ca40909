"""Multiresolution hash encoding: level layout, grid indices and the torch reference encoder.

Follows tiny-cuda-nn's ``GridEncoding`` (HashGrid, linear interpolation) bit for bit in its
indexing:

* level l has scale ``s_l = N_min * b**l - 1`` (float32, ``exp2(l * log2 b)``) and resolution
  ``res_l = ceil(s_l) + 1``;
* it stores ``params_in_level = min(next_multiple(res_l**3, 8), 2**log2T)`` entries of F features,
  levels one after another (level-major, entry-major, feature-minor);
* a sample at ``x`` in [0, 1]^3 sits at ``x * s_l + 0.5`` in grid units; the 8 corners around it are
  looked up with the dense index ``x + y*res + z*res**2`` while ``res**3 <= params_in_level``, else
  with the coherent prime hash ``x*1 ^ y*2654435761 ^ z*805459861`` (uint32), always modulo
  ``params_in_level``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from render.nerf.config import HashGridConfig, next_multiple

HASH_PRIMES = (1, 2654435761, 805459861)
UINT32_MASK = 0xFFFFFFFF


@dataclass(frozen=True, kw_only=True)
class LevelLayout:
    """Per-level constants of a hash grid (numpy arrays of length L)."""

    scale: np.ndarray
    """float32 ``N_min * b**l - 1``."""
    resolution: np.ndarray
    """int64 grid resolution per axis."""
    size: np.ndarray
    """int64 entries in the level (params_in_level)."""
    offset: np.ndarray
    """int64 first entry of the level in the table."""
    hashed: np.ndarray
    """bool: the level uses the hash (res**3 > size)."""
    n_features: int

    @property
    def n_levels(self) -> int:
        return len(self.scale)

    @property
    def n_entries(self) -> int:
        return int(self.offset[-1] + self.size[-1])

    @property
    def n_params(self) -> int:
        return self.n_entries * self.n_features


def level_layout(config: HashGridConfig) -> LevelLayout:
    """Scales, resolutions, sizes and offsets of every level, as tiny-cuda-nn computes them."""
    log2_b = np.float32(np.log2(np.float32(config.per_level_scale)))
    levels = np.arange(config.n_levels, dtype=np.float32)
    scale = (np.exp2(levels * log2_b) * np.float32(config.base_resolution) - np.float32(1.0)).astype(np.float32)
    resolution = np.ceil(scale).astype(np.int64) + 1
    max_size = 1 << config.log2_hashmap_size
    dense = [next_multiple(int(r) ** 3, 8) for r in resolution]
    size = np.array([min(d, max_size) for d in dense], dtype=np.int64)
    offset = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    hashed = resolution.astype(np.float64) ** 3 > size
    return LevelLayout(scale=scale, resolution=resolution, size=size, offset=offset, hashed=hashed,
                       n_features=config.n_features_per_level)


def grid_index(corner: torch.Tensor, resolution: torch.Tensor, size: torch.Tensor,
               hashed: torch.Tensor) -> torch.Tensor:
    """Entry index inside a level for integer grid corners.

    ``corner`` (..., 3) int64; ``resolution``, ``size``, ``hashed`` broadcast against ``corner[..., 0]``.
    Returns int64 in [0, size).
    """
    cx, cy, cz = corner.unbind(-1)
    dense = cx + cy * resolution + cz * resolution * resolution
    hashed_index = ((cx * HASH_PRIMES[0]) ^ (cy * HASH_PRIMES[1]) ^ (cz * HASH_PRIMES[2])) & UINT32_MASK
    return torch.remainder(torch.where(hashed, hashed_index, dense), size)


class LevelTensors:
    """The layout as torch tensors on one device (cached per device by the encoder)."""

    def __init__(self, layout: LevelLayout, device: torch.device) -> None:
        self.scale = torch.as_tensor(layout.scale, device=device)
        self.resolution = torch.as_tensor(layout.resolution, device=device)
        self.size = torch.as_tensor(layout.size, device=device)
        self.offset = torch.as_tensor(layout.offset, device=device)
        self.hashed = torch.as_tensor(layout.hashed, device=device)


def corner_lookups(x: torch.Tensor, levels: LevelTensors) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Table rows and trilinear weights of the 8 corners around each sample at every level.

    ``x`` (N, 3) float32, clamped to [0, 1]^3 (samples always lie in the training aabb; the clamp
    keeps rounding at its faces from indexing past a dense level). Returns two lists of 8 tensors,
    each (N, L): int64 global table rows and float32 weights, in tiny-cuda-nn's corner order (bit d
    of the corner number selects the upper neighbour along axis d).
    """
    pos = x.clamp(0.0, 1.0)[:, None, :] * levels.scale[None, :, None] + 0.5
    base = torch.floor(pos)
    frac = pos - base
    base_i = base.to(torch.int64)
    rows, weights = [], []
    for corner in range(8):
        bits = torch.tensor([(corner >> d) & 1 for d in range(3)], device=x.device)
        weight = torch.where(bits.bool(), frac, 1.0 - frac).prod(dim=-1)
        index = grid_index(base_i + bits, levels.resolution, levels.size, levels.hashed)
        rows.append(index + levels.offset)
        weights.append(weight)
    return rows, weights


def hash_encode(x: torch.Tensor, table: torch.Tensor, levels: LevelTensors) -> torch.Tensor:
    """Torch reference encoding (differentiable in ``table``).

    ``x`` (N, 3) float32 in [0, 1]^3; ``table`` (n_entries, F). Returns (N, L*F) in the table's
    dtype, level-major then feature (tiny-cuda-nn's output order).
    """
    rows, weights = corner_lookups(x, levels)
    n, n_levels = x.shape[0], levels.scale.shape[0]
    out = torch.zeros(n, n_levels, table.shape[1], dtype=table.dtype, device=x.device)
    for row, weight in zip(rows, weights, strict=True):
        out = out + table[row] * weight.to(table.dtype)[..., None]
    return out.reshape(n, -1)
