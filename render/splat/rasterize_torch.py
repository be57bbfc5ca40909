"""Pure-torch reference rasterizer (CPU and CUDA): tile binning, depth sort, alpha compositing.

The pipeline (gsplat's, in vectorised torch): project (``project_torch``) -> list every
(tile, splat) pair the splat's extent touches, in depth order, then stably sorted by tile ->
composite each tile's pixels front to back. Compositing follows the standard 3DGS rule exactly:

    alpha = min(0.99, opacity * exp(-sigma));  skipped when sigma < 0 or alpha < 1/255
    stop before a splat that would take the transmittance T below 1e-4
    rgb = sum(c_i alpha_i T_i) + T_final * background;  alpha_out = 1 - T_final

Tiles are processed together, ``chunk`` splats at a time (a cumulative product along each tile's
list gives every pixel's transmittance), and a tile leaves the batch when its list ends or all its
pixels are saturated, so the cost follows what is visible. Depth is the alpha-weighted camera z
normalised by the coverage (0 where nothing was drawn).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from render.cancel import check_cancelled
from render.splat.project_torch import ProjectedSplats, project_splats
from render.splat.raster_inputs import (
    ALPHA_MAX,
    ALPHA_MIN,
    TRANSMITTANCE_MIN,
    RasterCamera,
)

ELEMENT_BUDGET = {"cpu": 1 << 20, "cuda": 1 << 25}
"""Pixel x splat evaluations per compositing step: ~4 MB temporaries on CPU (cache-friendly),
~128 MB on CUDA (fewer, fuller kernel launches)."""


@dataclass
class RasterResult:
    """Window-sized outputs on the input device: rgb (h, w, 3), alpha (h, w), depth (h, w), float32."""

    rgb: torch.Tensor
    alpha: torch.Tensor
    depth: torch.Tensor
    stats: dict[str, int]


@dataclass
class TileBins:
    """Splat lists per tile: ``order[offsets[t]:offsets[t + 1]]`` indexes ``ProjectedSplats`` in depth order."""

    order: torch.Tensor
    offsets: torch.Tensor


def bin_tiles(proj: ProjectedSplats, camera: RasterCamera) -> TileBins:
    """Every (tile, splat) pair, grouped by tile and depth-sorted within each tile."""
    tiles_x, tiles_y = camera.tile_grid
    device = proj.depths.device
    by_depth = torch.argsort(proj.depths, stable=True)
    counts = proj.tile_counts()[by_depth]
    pair_splat = torch.repeat_interleave(by_depth, counts)
    first_pair = torch.cumsum(counts, 0) - counts
    local = torch.arange(pair_splat.numel(), device=device) - torch.repeat_interleave(first_pair, counts)
    span_x = (proj.tiles_max[:, 0] - proj.tiles_min[:, 0] + 1)[pair_splat]
    tile_x = proj.tiles_min[pair_splat, 0] + local % span_x
    tile_y = proj.tiles_min[pair_splat, 1] + local // span_x
    tile = tile_y * tiles_x + tile_x
    tile_sorted, perm = torch.sort(tile, stable=True)
    per_tile = torch.bincount(tile_sorted, minlength=tiles_x * tiles_y)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long, device=device), torch.cumsum(per_tile, 0)])
    return TileBins(pair_splat[perm], offsets)


def _tile_pixels(tiles: torch.Tensor, camera: RasterCamera) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre image coordinates (T, S*S) x and y of each tile's pixels (row-major in the tile)."""
    tiles_x, _ = camera.tile_grid
    size = camera.tile_size
    local = torch.arange(size * size, device=tiles.device)
    lx, ly = (local % size).float(), (local // size).float()
    ox = (tiles % tiles_x).float() * size + camera.rect[0] + 0.5
    oy = (tiles // tiles_x).float() * size + camera.rect[1] + 0.5
    return ox[:, None] + lx[None, :], oy[:, None] + ly[None, :]


def _composite_step(feats: torch.Tensor, px: torch.Tensor, py: torch.Tensor, trans: torch.Tensor,
                    done: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Blend one chunk: feats (B, K, 10) per tile, pixels (B, P); returns (contrib (B, P, 4), T, done)."""
    dx = px[:, :, None] - feats[:, None, :, 0]
    dy = py[:, :, None] - feats[:, None, :, 1]
    sigma = 0.5 * (feats[:, None, :, 2] * dx * dx + feats[:, None, :, 4] * dy * dy) + feats[:, None, :, 3] * dx * dy
    alpha = (feats[:, None, :, 5] * torch.exp(-sigma)).clamp_max_(ALPHA_MAX)
    alpha.masked_fill_((sigma < 0) | (alpha < ALPHA_MIN) | done[:, :, None], 0.0)
    kept = torch.cumprod(1.0 - alpha, dim=2)
    t_after = trans[:, :, None] * kept
    included = t_after >= TRANSMITTANCE_MIN
    t_before = torch.cat([trans[:, :, None], t_after[:, :, :-1]], dim=2)
    weights = torch.where(included, alpha * t_before, 0.0)
    contrib = torch.bmm(weights, feats[:, :, 6:10])
    stopped = ((alpha > 0) & ~included).any(dim=2)
    new_trans = torch.where(included, t_after, torch.inf).amin(dim=2)
    new_trans = torch.minimum(trans, new_trans)
    return contrib, new_trans, done | stopped


def composite_tiles(proj: ProjectedSplats, bins: TileBins, camera: RasterCamera,
                    element_budget: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-tile accumulations: (T, S*S, 4) weighted [r, g, b, z] sums and (T, S*S) transmittance."""
    tiles_x, tiles_y = camera.tile_grid
    device = proj.depths.device
    element_budget = element_budget or ELEMENT_BUDGET.get(device.type, ELEMENT_BUDGET["cpu"])
    n_tiles, tile_pixels = tiles_x * tiles_y, camera.tile_size**2
    acc = torch.zeros(n_tiles, tile_pixels, 4, device=device)
    trans = torch.ones(n_tiles, tile_pixels, device=device)
    feats = torch.cat([proj.means2d, proj.conics, proj.opacities[:, None], proj.colors, proj.depths[:, None]], dim=1)
    counts = bins.offsets[1:] - bins.offsets[:-1]
    active = (counts > 0).nonzero().squeeze(1)
    done = torch.zeros(n_tiles, tile_pixels, dtype=torch.bool, device=device)
    position = 0
    while active.numel():
        check_cancelled()
        remaining = int((counts[active] - position).max())
        chunk = max(8, min(1024, remaining, element_budget // (active.numel() * tile_pixels)))
        slot = position + torch.arange(chunk, device=device)
        valid = slot[None, :] < counts[active, None]
        pair = (bins.offsets[active, None] + slot[None, :]).clamp_max(max(bins.order.numel() - 1, 0))
        step_feats = feats[bins.order[pair]]
        step_feats[..., 5].masked_fill_(~valid, 0.0)  # opacity 0 -> alpha 0 -> no effect
        px, py = _tile_pixels(active, camera)
        contrib, trans_new, done_new = _composite_step(step_feats, px, py, trans[active], done[active])
        acc[active] += contrib
        trans[active], done[active] = trans_new, done_new
        position += chunk
        alive = (counts[active] > position) & ~(done_new | (trans_new < TRANSMITTANCE_MIN)).all(dim=1)
        active = active[alive]
    return acc, trans


def _untile(values: torch.Tensor, camera: RasterCamera) -> torch.Tensor:
    """(T, S*S, C) tile-major values -> (h, w, C) window image."""
    tiles_x, tiles_y = camera.tile_grid
    w, h = camera.window_size
    c, size = values.shape[-1], camera.tile_size
    image = values.reshape(tiles_y, tiles_x, size, size, c).permute(0, 2, 1, 3, 4)
    return image.reshape(tiles_y * size, tiles_x * size, c)[:h, :w]


def finish_image(acc: torch.Tensor, trans: torch.Tensor, background: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """rgb over ``background``, coverage and normalised depth from (..., 4) sums and transmittance (...)."""
    alpha = 1.0 - trans
    rgb = (acc[..., :3] + trans[..., None] * background).clamp(0.0, 1.0)
    depth = torch.where(alpha > 0, acc[..., 3] / alpha.clamp_min(1e-12), 0.0)
    return rgb, alpha, depth


def rasterize_torch(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                    sh: torch.Tensor, camera: RasterCamera, background: tuple[float, float, float]) -> RasterResult:
    """Render the camera's window of the given splats (see the module docstring); ``background`` RGB."""
    proj = project_splats(means, quats, scales, opacities, sh, camera)
    bins = bin_tiles(proj, camera)
    acc, trans = composite_tiles(proj, bins, camera)
    image = _untile(torch.cat([acc, trans[..., None]], dim=-1), camera)
    bg = torch.tensor(background, dtype=torch.float32).to(acc.device)
    rgb, alpha, depth = finish_image(image[..., :4], image[..., 4], bg)
    stats = {"input": int(means.shape[0]), "visible": len(proj), "pairs": int(bins.order.numel())}
    return RasterResult(rgb, alpha, depth, stats)
