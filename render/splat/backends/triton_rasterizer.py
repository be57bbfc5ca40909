"""The fast rasterizer: Triton kernels for projection, pair emission and blending; torch for sorting.

Pipeline per frame (all on the splats' device, one host sync to size the pair buffers):

1. ``project_kernel``: cull (crop box, frustum, opacity) and project every splat.
2. ``torch.sort`` of the visible splats by depth; exclusive prefix sum of their tile counts.
3. ``emit_pairs_kernel``: (tile, splat) pairs in depth order; a stable ``torch.sort`` by tile key
   (16-bit keys when the window has fewer than 32768 tiles: two radix passes) groups them by tile
   with depth order kept inside each tile; ``searchsorted`` gives each tile's range.
4. ``raster_kernel``: front-to-back blending per tile into the window images.

The result matches the torch reference (``rasterize_torch``) up to float rounding; see
``tests/gpu/test_splat_parity.py``. Runs on CUDA, or on CPU under ``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import numpy as np
import torch

from render.splat.backends.triton_kernels import (
    FEATURES,
    ceil_div,
    emit_pairs_kernel,
    project_kernel,
    raster_kernel,
)
from render.splat.raster_inputs import RasterCamera
from render.splat.rasterize_torch import RasterResult
from vpstage.geometry import OrientedBox

PROJECT_BLOCK = 256
EMIT_BLOCK = 128
RASTER_BATCH = 16
RASTER_WARPS = 4


def _crop_args(crop: OrientedBox | None) -> list[float]:
    if crop is None:
        return [0.0] * 15
    rot = np.asarray(crop.rotation, dtype=np.float64)
    return [*map(float, crop.center), *map(float, rot.reshape(-1)), *map(float, crop.half_extents)]


def project(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
            sh: torch.Tensor, camera: RasterCamera, crop: OrientedBox | None
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(feats (N, 12) float32, tile rects (N, 4) int32, tile counts (N,) int32; 0 = culled)."""
    n = means.shape[0]
    device = means.device
    feats = torch.empty(n, FEATURES, dtype=torch.float32, device=device)
    rects = torch.empty(n, 4, dtype=torch.int32, device=device)
    counts = torch.empty(n, dtype=torch.int32, device=device)
    view = camera.viewmat.detach().to("cpu", torch.float64).numpy()
    campos = camera.camera_position().detach().to("cpu", torch.float64).numpy()
    x0, y0, x1, y1 = camera.rect
    project_kernel[(ceil_div(n, PROJECT_BLOCK),)](
        means, quats, scales, opacities, sh, n,
        *map(float, view[:3, :3].reshape(-1)), *map(float, view[:3, 3]),
        camera.fx, camera.fy, camera.cx, camera.cy, *camera.clamp_limits(),
        *map(float, campos), float(x0), float(y0), float(x1 - x0), float(y1 - y0),
        *_crop_args(crop), feats, rects, counts,
        SH_COEFFS=int(sh.shape[1]), HAS_CROP=crop is not None, TILE=camera.tile_size, BLOCK=PROJECT_BLOCK,
    )
    return feats, rects, counts


def bin_pairs(feats: torch.Tensor, rects: torch.Tensor, counts: torch.Tensor, camera: RasterCamera
              ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(splat ids per pair grouped by tile in depth order, tile offsets (T + 1,), number of pairs)."""
    device = feats.device
    tiles_x, tiles_y = camera.tile_grid
    n_tiles = tiles_x * tiles_y
    depth = torch.where(counts > 0, feats[:, 9], torch.inf)
    order = torch.argsort(depth).to(torch.int32)
    counts_sorted = counts[order.long()]
    ends = torch.cumsum(counts_sorted, 0, dtype=torch.int64)
    total = int(ends[-1]) if ends.numel() else 0
    key_dtype = torch.int16 if n_tiles < 32768 else torch.int32
    keys = torch.empty(total, dtype=key_dtype, device=device)
    ids = torch.empty(total, dtype=torch.int32, device=device)
    if total:
        emit_pairs_kernel[(ceil_div(order.numel(), EMIT_BLOCK),)](
            order, counts_sorted, ends - counts_sorted, rects, order.numel(), tiles_x, keys, ids, BLOCK=EMIT_BLOCK)
    sorted_keys, perm = torch.sort(keys, stable=True)
    boundaries = torch.arange(n_tiles + 1, dtype=key_dtype if n_tiles < 32767 else torch.int32, device=device)
    tile_offsets = torch.searchsorted(sorted_keys, boundaries).to(torch.int32) if total else \
        torch.zeros(n_tiles + 1, dtype=torch.int32, device=device)
    return ids[perm], tile_offsets, total


def rasterize_triton(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                     sh: torch.Tensor, camera: RasterCamera, background: torch.Tensor,
                     crop: OrientedBox | None = None) -> RasterResult:
    """Render the camera's window (see the module docstring); inputs contiguous float32 on one device."""
    device = means.device
    w, h = camera.window_size
    rgb = torch.empty(h, w, 3, dtype=torch.float32, device=device)
    alpha = torch.empty(h, w, dtype=torch.float32, device=device)
    depth = torch.empty(h, w, dtype=torch.float32, device=device)
    n = means.shape[0]
    if n == 0:
        means, quats, scales = (torch.zeros(1, k, device=device) for k in (3, 4, 3))
        opacities, sh = torch.zeros(1, device=device), torch.zeros(1, 1, 3, device=device)
    feats, rects, counts = project(means.contiguous(), quats.contiguous(), scales.contiguous(),
                                   opacities.contiguous(), sh.contiguous(), camera, crop)
    ids, tile_offsets, total = bin_pairs(feats, rects, counts, camera)
    if total == 0:  # keep a valid pointer for the kernel's masked loads
        ids = torch.zeros(1, dtype=torch.int32, device=device)
    bg = background.detach().to("cpu", torch.float64).tolist()
    tiles_x, tiles_y = camera.tile_grid
    raster_kernel[(tiles_x * tiles_y,)](
        feats, ids, tile_offsets, rgb, alpha, depth, tiles_x, camera.rect[0], camera.rect[1], w, h,
        float(bg[0]), float(bg[1]), float(bg[2]), TILE=camera.tile_size, BATCH=RASTER_BATCH, num_warps=RASTER_WARPS)
    stats = {"input": n, "pairs": total}
    return RasterResult(rgb, alpha, depth, stats)
