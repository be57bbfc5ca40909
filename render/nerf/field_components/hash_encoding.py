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
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

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
    """The layout as torch tensors on one device (cached per device by the encoder).

    Levels grow in resolution, so the dense ones come first: ``n_dense`` of them, then the hashed
    levels, all of size ``2**log2T`` (a level is hashed only when ``res**3`` exceeds that), so the
    hash's modulo is a mask. Row indices are computed in ``index_dtype`` (int32 unless the table has
    2**31 entries or more: half the memory traffic of int64; the hash wraps like tiny-cuda-nn's uint32).
    """

    def __init__(self, layout: LevelLayout, device: torch.device) -> None:
        self.scale = torch.as_tensor(layout.scale, device=device)
        self.resolution = torch.as_tensor(layout.resolution, device=device)
        self.size = torch.as_tensor(layout.size, device=device)
        self.offset = torch.as_tensor(layout.offset, device=device)
        self.hashed = torch.as_tensor(layout.hashed, device=device)
        self.n_dense = int((~layout.hashed).sum())
        if layout.hashed[: self.n_dense].any():
            raise ValueError("hash-grid levels must be dense first, then hashed")
        self.index_dtype = torch.int32 if layout.n_entries < 2**31 else torch.int64
        self.hash_mask = int(layout.size[-1]) - 1 if self.n_dense < layout.n_levels else 0
        self.primes = torch.tensor([((p + 2**31) % 2**32) - 2**31 for p in HASH_PRIMES], dtype=self.index_dtype,
                                   device=device)[:, None, None]
        """(3, 1, 1) the hash primes as wrapped ``index_dtype`` integers."""
        self.res_column = self.resolution[:, None].to(self.index_dtype)
        """(L, 1) per-level resolution in ``index_dtype`` (likewise ``size_column``, ``offset_column``)."""
        self.size_column = self.size[:, None].to(self.index_dtype)
        self.offset_column = self.offset[:, None].to(self.index_dtype)


def _axis_pairs(lower: torch.Tensor, step: torch.Tensor | int) -> torch.Tensor:
    """(..., ) lower-corner terms -> (2, ...): the lower and the upper corner's term."""
    return torch.stack([lower, lower + step])


def _dense_rows(cell: torch.Tensor, levels: LevelTensors, out: torch.Tensor) -> None:
    """Rows of the dense levels into ``out`` (2z, 2y, 2x, n_dense, N): ``x + y res + z res^2``, modulo size."""
    nd = levels.n_dense
    res, size, offset = levels.res_column[:nd], levels.size_column[:nd], levels.offset_column[:nd]
    x = _axis_pairs(cell[0, :nd] + offset, 1)
    y = _axis_pairs(cell[1, :nd] * res, res)
    z = _axis_pairs(cell[2, :nd] * (res * res), res * res)
    torch.add(z[:, None, None], (y[:, None] + x[None])[None], out=out)
    # x is clamped, so a corner index stays below twice the level size: one subtraction is the modulo.
    out.sub_(size * (out >= size + offset))


def _hashed_rows(cell: torch.Tensor, levels: LevelTensors, out: torch.Tensor) -> None:
    """Rows of the hashed levels into ``out`` (2z, 2y, 2x, L - n_dense, N): the prime hash, masked."""
    nd, p = levels.n_dense, levels.primes
    scaled = cell[:, nd:] * p
    x = _axis_pairs(scaled[0], p[0])
    y = _axis_pairs(scaled[1], p[1])
    z = _axis_pairs(scaled[2], p[2])
    torch.bitwise_xor(z[:, None, None], (y[:, None] ^ x[None])[None], out=out)
    out.bitwise_and_(levels.hash_mask).add_(levels.offset_column[nd:])


def corner_lookups(x: torch.Tensor, levels: LevelTensors) -> tuple[torch.Tensor, torch.Tensor]:
    """Table rows and trilinear weights of the 8 corners around each sample at every level.

    ``x`` (N, 3) float32, clamped to [0, 1]^3 (samples always lie in the training aabb; the clamp
    keeps rounding at its faces from indexing past a dense level). Returns ``(rows, weights)``,
    both (8, L, N), corner-major: ``levels.index_dtype`` global table rows and float32 weights, in
    tiny-cuda-nn's corner order (bit d of the corner number selects the upper neighbour along
    axis d). Every level and corner comes from a few batched operations: per axis first (the
    lower and upper neighbour), then combined over the corners, samples innermost (contiguous).
    """
    n_levels, n = levels.scale.shape[0], x.shape[0]
    pos = levels.scale[:, None] * x.clamp(0.0, 1.0).t()[:, None, :] + 0.5
    base = torch.floor(pos)
    frac = pos - base
    cell = base.to(levels.index_dtype)
    rows = torch.empty(2, 2, 2, n_levels, n, dtype=levels.index_dtype, device=x.device)
    if levels.n_dense > 0:
        _dense_rows(cell, levels, rows[:, :, :, : levels.n_dense])
    if levels.n_dense < n_levels:
        _hashed_rows(cell, levels, rows[:, :, :, levels.n_dense:])
    w = torch.stack([1.0 - frac, frac], dim=1)
    weights = (w[1][:, None] * w[0][None])[None] * w[2][:, None, None]
    return rows.view(8, n_levels, n), weights.reshape(8, n_levels, n)


class _WeightedGather(torch.autograd.Function):
    """``out[l, n] = sum_c weights[c, l, n] * table[rows[c, l, n]]``: (L, N, F), one fused gather.

    Forward: ``embedding_bag`` (gather and weighted sum without materialising the corner features).
    Backward: one ``index_add_`` into the table gradient (int64 rows: its int32 path is many times
    slower on CPU), and the weights' gradient (only when positions require it).
    """

    @staticmethod
    def forward(ctx: Any, table: torch.Tensor, rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        n_corners, n_levels, n = rows.shape
        bags = rows.permute(1, 2, 0).reshape(-1, n_corners)
        bag_weights = weights.permute(1, 2, 0).reshape(-1, n_corners).to(table.dtype)
        out = F.embedding_bag(bags, table, per_sample_weights=bag_weights, mode="sum")
        ctx.save_for_backward(table, rows, weights)
        return out.view(n_levels, n, table.shape[1])

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None, torch.Tensor | None]:
        table, rows, weights = ctx.saved_tensors
        grad = grad.contiguous()
        grad_table = grad_weights = None
        if ctx.needs_input_grad[0]:
            contrib = (weights.to(grad.dtype)[..., None] * grad[None]).reshape(-1, table.shape[1])
            grad_table = torch.zeros_like(table).index_add_(0, rows.reshape(-1).long(), contrib.to(table.dtype))
        if ctx.needs_input_grad[2]:
            features = table[rows.long()].to(grad.dtype)
            grad_weights = (features * grad[None]).sum(-1).to(weights.dtype)
        return grad_table, None, grad_weights


def hash_encode(x: torch.Tensor, table: torch.Tensor, levels: LevelTensors) -> torch.Tensor:
    """Torch reference encoding (differentiable in ``table``, and in ``x`` through the weights).

    ``x`` (N, 3) float32 in [0, 1]^3; ``table`` (n_entries, F). Returns (N, L*F) in the table's
    dtype, level-major then feature (tiny-cuda-nn's output order).
    """
    rows, weights = corner_lookups(x, levels)
    by_level = _WeightedGather.apply(table, rows, weights)
    return by_level.permute(1, 0, 2).reshape(x.shape[0], rows.shape[1] * table.shape[1])
