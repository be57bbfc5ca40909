"""Building the density texture from a trained NeRF.

1. The texture's box is the bounding box of the NeRF's occupied cells (each region from the
   finest cascade covering it), clipped to the training aabb and the render box, padded by one
   texture cell; its longest side gets ``resolution`` cells, ``brick_res`` to a brick.
2. Candidate bricks are those overlapping an occupied NeRF cell (exact, conservative).
3. Every vertex of a candidate brick takes the NeRF's density there times its occupancy bit (the
   NeRF renderer only samples occupied cells, so that product is the density it renders).
4. Vertex densities less than 1e-4 opaque over one marching step become 0 (so texture cells
   around them are empty and rays skip them), and bricks left with no non-zero vertex are dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import FP16_MAX, DensityTexture
from render.nerf.model import NerfModel
from render.nerf.model_components.marching import cascade_at

POINT_CHUNK = 1 << 18
"""Density evaluations per field call."""
EMPTY_STEP_OPACITY = 1e-4
"""Vertex densities less opaque than this over one marching step are set to 0."""


@dataclass(frozen=True, kw_only=True)
class TextureConfig:
    resolution: int = 256
    """Texture cells along the longest side of the content box."""
    brick_res: int = 8
    """Cells per brick side (bricks store (brick_res + 1)^3 vertex densities)."""

    def validate(self) -> None:
        if self.brick_res < 1 or self.resolution < self.brick_res:
            raise ValueError(f"need 1 <= brick_res <= resolution, got {self.brick_res} and {self.resolution}")


def occupied_cells(model: NerfModel) -> tuple[torch.Tensor, torch.Tensor]:
    """Centres (M, 3) and sides (M,) of occupied NeRF grid cells, normalised frame, each region
    from the finest cascade covering it."""
    grid = model.grid
    centres, sides = [], []
    for m in range(grid.n_cascades):
        occ = grid.occupied_cells(m)
        c = grid.cell_centers(m)
        if m > 0:
            occ = occ & ~((c - 0.5).abs() < 2.0 ** (m - 2)).all(dim=-1)
        centres.append(c[occ])
        sides.append(torch.full((int(occ.sum()),), grid.cell_size(m), device=grid.device))
    return torch.cat(centres), torch.cat(sides)


def content_box(model: NerfModel, centres: torch.Tensor, sides: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) normalised frame: occupied cells' bounds within the training aabb and render box."""
    lo, hi = np.asarray(model.aabb_min, dtype=np.float64), np.asarray(model.aabb_max, dtype=np.float64)
    if model.render_box is not None:
        box_lo, box_hi = model.box_to_field(model.render_box).aabb()
        lo, hi = np.maximum(lo, box_lo), np.minimum(hi, box_hi)
    if centres.shape[0] > 0:
        half = sides[:, None] / 2
        lo = np.maximum(lo, (centres - half).min(dim=0).values.double().cpu().numpy())
        hi = np.minimum(hi, (centres + half).max(dim=0).values.double().cpu().numpy())
    return lo, np.maximum(hi, lo + 1e-6)


def candidate_bricks(centres: torch.Tensor, sides: torch.Tensor, origin: torch.Tensor, brick_size: float,
                     dims: tuple[int, int, int]) -> torch.Tensor:
    """(nz, ny, nx) bool: bricks overlapping any of the cells (centres (M, 3), sides (M,))."""
    nx, ny, nz = dims
    upper = torch.tensor([nx - 1, ny - 1, nz - 1], device=centres.device)
    half = sides[:, None] / 2
    lo = torch.floor((centres - half - origin) / brick_size).long().clamp(min=0)
    hi = torch.minimum(torch.floor((centres + half - origin) / brick_size).long(), upper)
    keep = (lo <= hi).all(dim=-1)
    lo, hi = lo[keep], hi[keep]
    marked = torch.zeros(nz * ny * nx, dtype=torch.bool, device=centres.device)
    span = int((hi - lo).max()) + 1 if lo.shape[0] > 0 else 0
    for oz in range(span):
        for oy in range(span):
            for ox in range(span):
                b = lo + torch.tensor([ox, oy, oz], device=lo.device)
                ok = (b <= hi).all(dim=-1)
                marked[(b[ok, 0] + nx * (b[ok, 1] + ny * b[ok, 2]))] = True
    return marked.reshape(nz, ny, nx)


def rendered_density(model: NerfModel, points: torch.Tensor) -> torch.Tensor:
    """(N, 3) normalised-frame points -> (N,) density the NeRF renders there (0 in empty cells)."""
    inputs = model.field_inputs()
    out = torch.empty(points.shape[0], device=points.device)
    with torch.no_grad():
        for start in range(0, points.shape[0], POINT_CHUNK):
            p = points[start:start + POINT_CHUNK]
            occupied = model.grid.lookup(p, cascade_at(p, model.grid.n_cascades))
            inside = ((p >= inputs.aabb_min) & (p <= inputs.aabb_min + inputs.aabb_size)).all(dim=-1)
            sigma = model.field.density((p - inputs.aabb_min) / inputs.aabb_size).float()
            out[start:start + POINT_CHUNK] = torch.where(occupied & inside, sigma, 0.0)
    return out.clamp(0.0, FP16_MAX)


def brick_vertices(origin: torch.Tensor, brick_size: float, brick_res: int, bricks_zyx: torch.Tensor) -> torch.Tensor:
    """(n, r+1, r+1, r+1, 3) normalised-frame vertex positions of bricks given as (n, 3) (z, y, x)."""
    v = torch.arange(brick_res + 1, device=origin.device, dtype=torch.float32) / brick_res
    gz, gy, gx = torch.meshgrid(v, v, v, indexing="ij")
    local = torch.stack([gx, gy, gz], dim=-1)
    corner = bricks_zyx.flip(-1).float()[:, None, None, None, :]
    return origin + (corner + local[None]) * brick_size


def build_texture(model: NerfModel, config: TextureConfig, march: MarchConfig) -> DensityTexture:
    """The density texture of ``model`` (on the model's device)."""
    config.validate()
    dev = model.device
    centres, sides = occupied_cells(model)
    lo, hi = content_box(model, centres, sides)
    brick_size = float(np.max(hi - lo)) / (config.resolution / config.brick_res)
    pad = brick_size / config.brick_res
    origin_np = lo - pad
    dims_np = np.maximum(1, np.ceil((hi + pad - origin_np) / brick_size - 1e-9)).astype(int)
    dims = (int(dims_np[0]), int(dims_np[1]), int(dims_np[2]))
    origin = torch.as_tensor(origin_np, dtype=torch.float32, device=dev)
    candidates = torch.nonzero(candidate_bricks(centres, sides, origin, brick_size, dims))
    v = config.brick_res + 1
    per_chunk = max(1, POINT_CHUNK // v**3)
    values = [rendered_density(model, brick_vertices(origin, brick_size, config.brick_res,
                                                     candidates[s:s + per_chunk]).reshape(-1, 3)).reshape(-1, v, v, v)
              for s in range(0, candidates.shape[0], per_chunk)]
    bricks = torch.cat(values) if values else torch.zeros(0, v, v, v, device=dev)
    dt = brick_size / config.brick_res * march.step_ratio
    floor = -math.log(1.0 - EMPTY_STEP_OPACITY) / dt
    bricks = torch.where(bricks > floor, bricks, 0.0)
    keep = bricks.reshape(bricks.shape[0], -1).amax(dim=1) > 0 if bricks.shape[0] else candidates[:, 0] > 0
    occupancy = torch.zeros(dims[2], dims[1], dims[0], dtype=torch.bool, device=dev)
    kept = candidates[keep]
    occupancy[kept[:, 0], kept[:, 1], kept[:, 2]] = True
    # storage order is C order of (z, y, x): nonzero() returned candidates in that order already
    return DensityTexture(origin, brick_size, config.brick_res, occupancy, bricks[keep])
