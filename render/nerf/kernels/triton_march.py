"""Triton ray marcher and compositor: the fast versions of model_components/marching.py and
``composite_reference`` in model_components/renderers.py, with the same rules.

The marcher gives each ray one lane; a program loops until all its rays have either emitted
``K`` samples or left their interval. Per iteration a lane either emits the sample at ``t``
(occupied cell) and steps to the next candidate, or skips to the first candidate past the exit of
the coarsest empty cell around it; candidates sit at whole steps of instant-ngp's stepping space
from the ray's start, as in the reference (which tests every candidate instead of skipping). The
occupancy test reads one bit of the packed bitfield (Morton-ordered cascades).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from render.nerf.kernels.triton_encoding import load_xyz
from render.nerf.model_components.marching import MarchParams
from render.nerf.model_components.occupancy import OccupancyGrid

BLOCK_RAYS = 128
BLOCK_COMPOSITE = 128
FAR = 1e10


@triton.jit
def _spread(v):
    v = (v * 0x00010001) & 0xFF0000FF
    v = (v * 0x00000101) & 0x0F00F00F
    v = (v * 0x00000011) & 0xC30C30C3
    v = (v * 0x00000005) & 0x49249249
    return v


@triton.jit
def _occupied(bits_ptr, px, py, pz, mip, RES: tl.constexpr, mask):
    """Occupancy bit of cascade ``mip`` at normalised positions (False outside the cascade)."""
    s = tl.exp2(-mip.to(tl.float32))
    cx = tl.floor(((px - 0.5) * s + 0.5) * RES).to(tl.int32)
    cy = tl.floor(((py - 0.5) * s + 0.5) * RES).to(tl.int32)
    cz = tl.floor(((pz - 0.5) * s + 0.5) * RES).to(tl.int32)
    inside = (cx >= 0) & (cx < RES) & (cy >= 0) & (cy < RES) & (cz >= 0) & (cz < RES)
    cx = tl.minimum(tl.maximum(cx, 0), RES - 1).to(tl.uint32)
    cy = tl.minimum(tl.maximum(cy, 0), RES - 1).to(tl.uint32)
    cz = tl.minimum(tl.maximum(cz, 0), RES - 1).to(tl.uint32)
    code = _spread(cx) | (_spread(cy) << 1) | (_spread(cz) << 2)
    byte_index = mip.to(tl.int64) * (RES * RES * RES // 8) + (code >> 3).to(tl.int64)
    byte = tl.load(bits_ptr + byte_index, mask=mask & inside, other=0).to(tl.uint32)
    return inside & (((byte >> (code & 7)) & 1) == 1)


@triton.jit
def _cascade_at(px, py, pz, N_CASCADES: tl.constexpr):
    extent = tl.maximum(tl.maximum(tl.abs(px - 0.5), tl.abs(py - 0.5)), tl.abs(pz - 0.5))
    exponent = ((extent.to(tl.int32, bitcast=True) >> 23) & 0xFF) - 126
    return tl.minimum(tl.maximum(exponent + 1, 0), N_CASCADES - 1)


@triton.jit
def _exit_distance(p, d, cells):
    """Distance along one axis to the next cell border (cells per unit ``cells``)."""
    q = (p - 0.5) * cells
    target = tl.where(d > 0, tl.floor(q) + 1.0, tl.floor(q))
    safe = tl.where(d == 0, 1.0, d)
    return tl.where(d == 0, 1e10, (target - q) / safe)


@triton.jit
def _to_stepping(t, min_step, max_step, log1p_c, a, b, at, bt, LINEAR: tl.constexpr):
    """instant-ngp's stepping space (marching.to_stepping_space)."""
    if LINEAR:
        s = t / min_step
    else:
        near = (t - at) / min_step + a
        far = (t - bt) / max_step + b
        s = tl.where(t <= at, near, tl.where(t <= bt, tl.log(tl.maximum(t, at)) / log1p_c, far))
    return s


@triton.jit
def _from_stepping(s, min_step, max_step, log1p_c, a, b, at, bt, LINEAR: tl.constexpr):
    """Inverse of ``_to_stepping`` (marching.from_stepping_space)."""
    if LINEAR:
        t = s * min_step
    else:
        near = (s - a) * min_step + at
        far = (s - b) * max_step + bt
        t = tl.where(s <= a, near, tl.where(s <= b, tl.exp(tl.minimum(s, b) * log1p_c), far))
    return t


@triton.jit
def _march_kernel(origins_ptr, dirs_ptr, t_ptr, t_end_ptr, bits_ptr, out_t_ptr, out_dt_ptr, count_ptr, n, K,
                  min_step, max_step, log1p_c, a, b, at, bt, max_iterations,
                  B: tl.constexpr, RES: tl.constexpr, N_CASCADES: tl.constexpr, LINEAR: tl.constexpr):
    pid = tl.program_id(0)
    rays = pid * B + tl.arange(0, B)
    in_range = rays < n
    ox, oy, oz = load_xyz(origins_ptr, rays, in_range)
    dx, dy, dz = load_xyz(dirs_ptr, rays, in_range)
    t = tl.load(t_ptr + rays, mask=in_range, other=0.0)
    t_end = tl.load(t_end_ptr + rays, mask=in_range, other=0.0)
    # Candidates sit at whole steps of stepping space from the start (candidate 0 is the start).
    s = _to_stepping(t, min_step, max_step, log1p_c, a, b, at, bt, LINEAR)
    count = tl.zeros([B], tl.int32)
    active = in_range & (t < t_end)
    iteration = 0
    while (tl.max(active.to(tl.int32), axis=0) > 0) & (iteration < max_iterations):
        px = ox + t * dx
        py = oy + t * dy
        pz = oz + t * dz
        mip = _cascade_at(px, py, pz, N_CASCADES)
        if LINEAR:
            dt = tl.zeros([B], tl.float32) + min_step
        else:
            dt = _from_stepping(s + 1.0, min_step, max_step, log1p_c, a, b, at, bt, LINEAR) - t
        occupied = _occupied(bits_ptr, px, py, pz, mip, RES, active)
        emit = active & occupied
        slot = rays.to(tl.int64) * K + count
        tl.store(out_t_ptr + slot, t, mask=emit)
        tl.store(out_dt_ptr + slot, dt, mask=emit)
        count += emit.to(tl.int32)
        skip = active & (occupied == 0)
        climbing = skip
        for _level in tl.static_range(N_CASCADES - 1):
            coarser = tl.minimum(mip + 1, N_CASCADES - 1)
            occ_c = _occupied(bits_ptr, px, py, pz, coarser, RES, climbing)
            climbing = climbing & (mip < N_CASCADES - 1) & (occ_c == 0)
            mip = tl.where(climbing, coarser, mip)
        cells = RES * tl.exp2(-mip.to(tl.float32))
        exit_t = tl.minimum(tl.minimum(_exit_distance(px, dx, cells), _exit_distance(py, dy, cells)),
                            _exit_distance(pz, dz, cells))
        # Skip to the first candidate past the empty cell's exit (or past the ray's end): whole steps.
        target = tl.minimum(t + tl.maximum(exit_t / cells, 0.0), t_end)
        s_target = _to_stepping(target, min_step, max_step, log1p_c, a, b, at, bt, LINEAR)
        n_steps = tl.ceil(tl.maximum(s_target - s, 0.5))
        s = tl.where(emit, s + 1.0, tl.where(skip, s + n_steps, s))
        moved = emit | skip
        t = tl.where(moved, _from_stepping(s, min_step, max_step, log1p_c, a, b, at, bt, LINEAR), t)
        active = active & (t < t_end) & (count < K)
        iteration += 1
    tl.store(t_ptr + rays, t, mask=in_range)
    tl.store(count_ptr + rays, count, mask=in_range)


def march(origins: torch.Tensor, dirs: torch.Tensor, t: torch.Tensor, t_end: torch.Tensor, grid: OccupancyGrid,
          params: MarchParams, max_samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Same contract as ``model_components.marching.march``; ``count`` is int32 here."""
    n = origins.shape[0]
    sample_t = torch.zeros(n, max_samples, dtype=torch.float32, device=origins.device)
    sample_dt = torch.zeros_like(sample_t)
    count = torch.zeros(n, dtype=torch.int32, device=origins.device)
    t_out = t.float().contiguous().clone()
    stepping = (0.0, 0.0, 0.0, 0.0, 0.0) if params.linear else params.stepping_constants()
    if n:
        _march_kernel[(triton.cdiv(n, BLOCK_RAYS),)](
            origins.contiguous(), dirs.contiguous(), t_out, t_end.float().contiguous(), grid.bitfield,
            sample_t, sample_dt, count, n, max_samples, params.min_step, params.max_step, *stepping,
            params.max_iterations, B=BLOCK_RAYS, RES=grid.resolution, N_CASCADES=grid.n_cascades,
            LINEAR=params.linear)
    return sample_t, sample_dt, count, t_out


@triton.jit
def _composite_kernel(rays_ptr, sigma_ptr, rgb_ptr, t_ptr, dt_ptr, count_ptr, trans_ptr, acc_ptr, depth_ptr,
                      n, min_transmittance, B: tl.constexpr, K: tl.constexpr):
    pid = tl.program_id(0)
    i = pid * B + tl.arange(0, B)
    mask = i < n
    ray = tl.load(rays_ptr + i, mask=mask, other=0).to(tl.int64)
    count = tl.load(count_ptr + i, mask=mask, other=0)
    trans = tl.load(trans_ptr + ray, mask=mask, other=0.0)
    r = tl.load(acc_ptr + ray * 3 + 0, mask=mask, other=0.0)
    g = tl.load(acc_ptr + ray * 3 + 1, mask=mask, other=0.0)
    b = tl.load(acc_ptr + ray * 3 + 2, mask=mask, other=0.0)
    depth = tl.load(depth_ptr + ray, mask=mask, other=0.0)
    base = i.to(tl.int64) * K
    for k in tl.static_range(K):
        valid = mask & (k < count)
        sig = tl.load(sigma_ptr + base + k, mask=valid, other=0.0)
        dt = tl.load(dt_ptr + base + k, mask=valid, other=0.0)
        ts = tl.load(t_ptr + base + k, mask=valid, other=0.0)
        alpha = tl.where(valid, 1.0 - tl.exp(-sig * dt), 0.0)
        live = valid & (trans >= min_transmittance)
        w = tl.where(live, trans * alpha, 0.0)
        r += w * tl.load(rgb_ptr + (base + k) * 3 + 0, mask=live, other=0.0)
        g += w * tl.load(rgb_ptr + (base + k) * 3 + 1, mask=live, other=0.0)
        b += w * tl.load(rgb_ptr + (base + k) * 3 + 2, mask=live, other=0.0)
        depth += w * ts
        trans = tl.where(live, trans * (1.0 - alpha), trans)
    done = trans < min_transmittance
    norm = tl.where(done, 1.0 / tl.maximum(1.0 - trans, 1e-12), 1.0)
    tl.store(acc_ptr + ray * 3 + 0, r * norm, mask=mask)
    tl.store(acc_ptr + ray * 3 + 1, g * norm, mask=mask)
    tl.store(acc_ptr + ray * 3 + 2, b * norm, mask=mask)
    tl.store(depth_ptr + ray, depth * norm, mask=mask)
    tl.store(trans_ptr + ray, tl.where(done, 0.0, trans), mask=mask)


def composite(rays: torch.Tensor, sigma: torch.Tensor, rgb: torch.Tensor, sample_t: torch.Tensor,
              sample_dt: torch.Tensor, count: torch.Tensor, transmittance: torch.Tensor, acc_rgb: torch.Tensor,
              acc_depth: torch.Tensor, min_transmittance: float) -> None:
    """In-place front-to-back compositing of padded samples into the accumulators at rows ``rays``."""
    n, k = sample_t.shape
    if n == 0:
        return
    _composite_kernel[(triton.cdiv(n, BLOCK_COMPOSITE),)](
        rays.contiguous(), sigma.contiguous(), rgb.contiguous(), sample_t, sample_dt, count.contiguous(),
        transmittance, acc_rgb, acc_depth, n, min_transmittance, B=BLOCK_COMPOSITE, K=k)
