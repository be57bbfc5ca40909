"""Triton texture marcher: the fast version of render/nerf/baked/texture_march.py, same rules.

One lane per ray; a program loops until all its rays have ended. Per iteration a lane looks at
its next sample (the middle of segment ``k``, cut at ``t_end``): in an occupied texture cell it
composites it (trilinear density from 8 fp16 corners of its brick) and moves to ``k + 1``; in an
empty brick it jumps past the largest empty cell of the occupancy pyramid, in an empty cell of
an occupied brick past that cell, to the first lattice midpoint beyond (as the reference does).
The reference takes several samples per round instead of one, so both composite the same
non-zero samples. Outputs are the reference's accumulators (transmittance, opacity crossing,
weighted depth) and the per-ray sample count; ``texture_march.finish`` turns them into hits.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from render.nerf.baked.config import MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.texture_march import MAX_ROUNDS, MarchState, TextureHits, finish

BLOCK_RAYS = 128


class TextureBuffers:
    """The texture as flat device buffers for the kernel (built once per texture and device)."""

    def __init__(self, texture: DensityTexture) -> None:
        dev = texture.device
        self.index = texture.index.to(torch.int32).contiguous()
        self.bricks = texture.bricks.reshape(-1).contiguous()
        self.cells = texture.cells.reshape(-1).to(torch.uint8).contiguous()
        levels = texture.pyramid
        self.pyramid = torch.cat([lv.reshape(-1).to(torch.uint8) for lv in levels]).contiguous()
        sizes = [lv.numel() for lv in levels]
        offsets = [sum(sizes[:i]) for i in range(len(levels))]
        self.level_offsets = torch.tensor(offsets, dtype=torch.int64, device=dev)
        self.level_dims = torch.tensor([[lv.shape[2], lv.shape[1], lv.shape[0]] for lv in levels], dtype=torch.int32,
                                       device=dev).reshape(-1).contiguous()
        self.n_levels = len(levels)


@triton.jit
def _trilinear(bricks_ptr, slot, fx, fy, fz, bx, by, bz, mask, R: tl.constexpr):
    """Trilinear density in brick ``slot`` at brick coordinates f (brick b); 0 where masked."""
    V = R + 1
    lx = tl.minimum(tl.maximum((fx - bx.to(tl.float32)) * R, 0.0), R * 1.0)
    ly = tl.minimum(tl.maximum((fy - by.to(tl.float32)) * R, 0.0), R * 1.0)
    lz = tl.minimum(tl.maximum((fz - bz.to(tl.float32)) * R, 0.0), R * 1.0)
    cx = tl.minimum(tl.floor(lx), R - 1.0)
    cy = tl.minimum(tl.floor(ly), R - 1.0)
    cz = tl.minimum(tl.floor(lz), R - 1.0)
    wx, wy, wz = lx - cx, ly - cy, lz - cz
    base = tl.maximum(slot, 0).to(tl.int64) * (V * V * V) + (cz.to(tl.int64) * V + cy.to(tl.int64)) * V \
        + cx.to(tl.int64)
    v000 = tl.load(bricks_ptr + base, mask=mask, other=0.0).to(tl.float32)
    v001 = tl.load(bricks_ptr + base + 1, mask=mask, other=0.0).to(tl.float32)
    v010 = tl.load(bricks_ptr + base + V, mask=mask, other=0.0).to(tl.float32)
    v011 = tl.load(bricks_ptr + base + V + 1, mask=mask, other=0.0).to(tl.float32)
    v100 = tl.load(bricks_ptr + base + V * V, mask=mask, other=0.0).to(tl.float32)
    v101 = tl.load(bricks_ptr + base + V * V + 1, mask=mask, other=0.0).to(tl.float32)
    v110 = tl.load(bricks_ptr + base + V * V + V, mask=mask, other=0.0).to(tl.float32)
    v111 = tl.load(bricks_ptr + base + V * V + V + 1, mask=mask, other=0.0).to(tl.float32)
    lo = (v000 * (1.0 - wx) + v001 * wx) * (1.0 - wy) + (v010 * (1.0 - wx) + v011 * wx) * wy
    hi = (v100 * (1.0 - wx) + v101 * wx) * (1.0 - wy) + (v110 * (1.0 - wx) + v111 * wx) * wy
    return tl.where(mask & (slot >= 0), lo * (1.0 - wz) + hi * wz, 0.0)


@triton.jit
def _axis_exit(f, d, size):
    """Distance (in the units of f) along one axis to the border of the cell of side ``size``."""
    lo = tl.floor(f / size) * size
    target = tl.where(d > 0, lo + size, lo)
    safe = tl.where(d == 0, 1.0, d)
    return tl.where(d == 0, 1e30, (target - f) / safe)


@triton.jit
def _brick_of(px, py, pz, ox, oy, oz, inv_brick, nx, ny, nz):
    """Brick coordinates f, clamped integer brick b and whether the point is inside the box."""
    fx, fy, fz = (px - ox) * inv_brick, (py - oy) * inv_brick, (pz - oz) * inv_brick
    bx, by, bz = tl.floor(fx).to(tl.int32), tl.floor(fy).to(tl.int32), tl.floor(fz).to(tl.int32)
    inside = (bx >= 0) & (bx < nx) & (by >= 0) & (by < ny) & (bz >= 0) & (bz < nz)
    bx = tl.minimum(tl.maximum(bx, 0), nx - 1)
    by = tl.minimum(tl.maximum(by, 0), ny - 1)
    bz = tl.minimum(tl.maximum(bz, 0), nz - 1)
    return fx, fy, fz, bx, by, bz, inside


@triton.jit
def _march_kernel(o_ptr, d_ptr, ts_ptr, te_ptr, index_ptr, bricks_ptr, cells_ptr, pyr_ptr, lvl_off_ptr,
                  lvl_dims_ptr, trans_ptr, cross_ptr, depth_ptr, count_ptr, n, ox, oy, oz, brick_size, nx, ny, nz,
                  dt, min_transmittance, level_left, max_iterations,
                  B: tl.constexpr, R: tl.constexpr, N_LEVELS: tl.constexpr):
    rays = tl.program_id(0) * B + tl.arange(0, B)
    in_range = rays < n
    rox = tl.load(o_ptr + rays * 3, mask=in_range, other=0.0)
    roy = tl.load(o_ptr + rays * 3 + 1, mask=in_range, other=0.0)
    roz = tl.load(o_ptr + rays * 3 + 2, mask=in_range, other=0.0)
    rdx = tl.load(d_ptr + rays * 3, mask=in_range, other=0.0)
    rdy = tl.load(d_ptr + rays * 3 + 1, mask=in_range, other=0.0)
    rdz = tl.load(d_ptr + rays * 3 + 2, mask=in_range, other=0.0)
    ts = tl.load(ts_ptr + rays, mask=in_range, other=0.0)
    te = tl.load(te_ptr + rays, mask=in_range, other=0.0)
    inv_brick = 1.0 / brick_size
    cell = brick_size / R
    trans = tl.zeros([B], tl.float32) + 1.0
    t_cross = tl.zeros([B], tl.float32) - 1.0
    depth = tl.zeros([B], tl.float32)
    step = tl.zeros([B], tl.float32)
    count = tl.zeros([B], tl.int32)
    active = in_range & (ts < te)
    iteration = 0
    while (tl.max(active.to(tl.int32), axis=0) > 0) & (iteration < max_iterations):
        # the next sample's segment (cut at t_end) and where it reads: occupied cell, empty cell or brick
        seg = ts + step * dt
        length = tl.maximum(tl.minimum(seg + dt, te) - seg, 0.0)
        st = seg + 0.5 * length
        px, py, pz = rox + st * rdx, roy + st * rdy, roz + st * rdz
        fx, fy, fz, bx, by, bz, inside = _brick_of(px, py, pz, ox, oy, oz, inv_brick, nx, ny, nz)
        slot = tl.load(index_ptr + (bx + nx * (by + ny * bz)), mask=active, other=-1)
        in_brick = active & inside & (slot >= 0)
        cx = tl.minimum(tl.floor(tl.minimum(tl.maximum((fx - bx.to(tl.float32)) * R, 0.0), R * 1.0)), R - 1.0)
        cy = tl.minimum(tl.floor(tl.minimum(tl.maximum((fy - by.to(tl.float32)) * R, 0.0), R * 1.0)), R - 1.0)
        cz = tl.minimum(tl.floor(tl.minimum(tl.maximum((fz - bz.to(tl.float32)) * R, 0.0), R * 1.0)), R - 1.0)
        cell_index = tl.maximum(slot, 0).to(tl.int64) * (R * R * R) + ((cz * R + cy) * R + cx).to(tl.int64)
        in_cell = in_brick & (tl.load(cells_ptr + cell_index, mask=in_brick, other=0) != 0)
        sigma = _trilinear(bricks_ptr, slot, fx, fy, fz, bx, by, bz, in_cell, R)
        alpha = 1.0 - tl.exp(-sigma * length)
        after = trans * (1.0 - alpha)
        crosses = in_cell & (t_cross < 0) & (trans > level_left) & (after <= level_left)
        within = tl.log(tl.maximum(trans / level_left, 1.0)) / tl.maximum(sigma, 1e-12)
        t_cross = tl.where(crosses, seg + tl.minimum(within, length), t_cross)
        depth += tl.where(in_cell, trans * alpha * st, 0.0)
        trans = tl.where(in_cell, after, trans)
        count += in_cell.to(tl.int32)
        # skips: the largest empty pyramid cell around an empty brick, else the empty texture cell
        brick_skip = active & (in_brick == 0)
        climbing = brick_skip & (slot < 0)
        size = tl.zeros([B], tl.float32) + 1.0
        for k in tl.static_range(1, N_LEVELS):
            lx = tl.load(lvl_dims_ptr + 3 * k)
            ly = tl.load(lvl_dims_ptr + 3 * k + 1)
            off = tl.load(lvl_off_ptr + k)
            occ = tl.load(pyr_ptr + off + ((bx >> k) + lx * ((by >> k) + ly * (bz >> k))).to(tl.int64),
                          mask=climbing, other=1)
            climbing = climbing & (occ == 0)
            size = tl.where(climbing, size * 2.0, size)
        brick_far = tl.minimum(tl.minimum(_axis_exit(fx, rdx, size), _axis_exit(fy, rdy, size)),
                               _axis_exit(fz, rdz, size))
        qx, qy, qz = (px - ox) / cell, (py - oy) / cell, (pz - oz) / cell
        cell_far = tl.minimum(tl.minimum(_axis_exit(qx, rdx, 1.0), _axis_exit(qy, rdy, 1.0)),
                              _axis_exit(qz, rdz, 1.0))
        far = tl.where(brick_skip, tl.maximum(brick_far, 0.0) * brick_size, tl.maximum(cell_far, 0.0) * cell)
        skip_to = tl.maximum(step + 1.0, tl.ceil(step + far / dt))
        step = tl.where(in_cell, step + 1.0, tl.where(active, skip_to, step))
        active = active & (trans >= min_transmittance) & (ts + step * dt < te)
        iteration += 1
    tl.store(trans_ptr + rays, trans, mask=in_range)
    tl.store(cross_ptr + rays, t_cross, mask=in_range)
    tl.store(depth_ptr + rays, depth, mask=in_range)
    tl.store(count_ptr + rays, count, mask=in_range)


def march_texture(texture: DensityTexture, buffers: TextureBuffers, origins: torch.Tensor, dirs: torch.Tensor,
                  t_start: torch.Tensor, t_end: torch.Tensor, config: MarchConfig) -> TextureHits:
    """Same contract as ``texture_march.march_texture`` (``rounds`` is 1: one launch)."""
    n, dev = origins.shape[0], origins.device
    state = MarchState.start(n, dev)
    count = torch.zeros(n, dtype=torch.int32, device=dev)
    ts, te = t_start.float().contiguous(), t_end.float().contiguous()
    if n:
        ox, oy, oz = (float(v) for v in texture.origin.tolist())
        nx, ny, nz = texture.dims
        _march_kernel[(triton.cdiv(n, BLOCK_RAYS),)](
            origins.float().contiguous(), dirs.float().contiguous(), ts, te, buffers.index, buffers.bricks,
            buffers.cells, buffers.pyramid, buffers.level_offsets, buffers.level_dims, state.transmittance,
            state.t_cross, state.depth, count, n, ox, oy, oz, texture.brick_size, nx, ny, nz,
            texture.cell_size * config.step_ratio, config.min_transmittance, 1.0 - config.hit_opacity, MAX_ROUNDS * 64,
            B=BLOCK_RAYS, R=texture.brick_res, N_LEVELS=buffers.n_levels)
    hits = finish(state, config)
    hits.live, hits.samples, hits.rounds = int((ts < te).sum()), int(count.sum()), 1
    return hits
