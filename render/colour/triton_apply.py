"""The colour transform as one fused GPU kernel: shaper, cell lookup and tetrahedral interpolation.

Per pixel it reads the three source values, maps each through the shaper to grid coordinates,
finds its LUT cell and walks the cell's diagonal along the axes in order of falling fraction (ties
r, g, b), gathering four of the table's entries: the same arithmetic as the torch reference
(``render.colour.apply``), which CI tests and ``tests/gpu`` compares this kernel against. One read
of the picture and one write; the table (3.3 MB at 65³) stays in the GPU's L2 cache.

Imports Triton at import: import this module only where ``render.splat.backends.has_triton``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from render.colour.device_lut import DeviceLut

BLOCK = 512


@triton.jit
def _grid(x, size, LOG: tl.constexpr, lin_min, lin_scale, log2_min, per_stop, toe, low):
    if LOG:
        u = tl.log2(tl.maximum(x, low))
        u = toe + (u - log2_min) * per_stop
        u = tl.where(x < low, x * (toe / low), u)
    else:
        u = (x - lin_min) * lin_scale
    return tl.minimum(tl.maximum(u, 0.0), size - 1.0)


@triton.jit
def lut_kernel(src, dst, table, pixels, size, lin_min, lin_scale, log2_min, per_stop, toe, low,
               LOG: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    offs = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    ok = offs < pixels
    r = tl.load(src + offs * 3, mask=ok, other=0.0)
    g = tl.load(src + offs * 3 + 1, mask=ok, other=0.0)
    b = tl.load(src + offs * 3 + 2, mask=ok, other=0.0)
    ur = _grid(r, size, LOG, lin_min, lin_scale, log2_min, per_stop, toe, low)
    ug = _grid(g, size, LOG, lin_min, lin_scale, log2_min, per_stop, toe, low)
    ub = _grid(b, size, LOG, lin_min, lin_scale, log2_min, per_stop, toe, low)
    br = tl.minimum(tl.floor(ur), size - 2.0)
    bg = tl.minimum(tl.floor(ug), size - 2.0)
    bb = tl.minimum(tl.floor(ub), size - 2.0)
    fr, fg, fb = ur - br, ug - bg, ub - bb
    n = size
    flat = br.to(tl.int32) + bg.to(tl.int32) * n + bb.to(tl.int32) * (n * n)
    r_max = (fr >= fg) & (fr >= fb)
    g_max = (~r_max) & (fg >= fb)
    b_min = (fb <= fr) & (fb <= fg)
    g_min = (~b_min) & (fg <= fr)
    s_max = tl.where(r_max, 1, tl.where(g_max, n, n * n))
    s_min = tl.where(b_min, n * n, tl.where(g_min, n, 1))
    f_max = tl.maximum(fr, tl.maximum(fg, fb))
    f_min = tl.minimum(fr, tl.minimum(fg, fb))
    f_mid = fr + fg + fb - f_max - f_min
    corner = 1 + n + n * n
    w0, w1, w2, w3 = 1.0 - f_max, f_max - f_mid, f_mid - f_min, f_min
    i0, i1, i2, i3 = flat * 3, (flat + s_max) * 3, (flat + corner - s_min) * 3, (flat + corner) * 3
    for c in tl.static_range(3):
        v = w0 * tl.load(table + i0 + c, mask=ok, other=0.0)
        v += w1 * tl.load(table + i1 + c, mask=ok, other=0.0)
        v += w2 * tl.load(table + i2 + c, mask=ok, other=0.0)
        v += w3 * tl.load(table + i3 + c, mask=ok, other=0.0)
        tl.store(dst + offs * 3 + c, v, mask=ok)


def apply_lut_triton(rgb: torch.Tensor, lut: DeviceLut, out: torch.Tensor) -> torch.Tensor:
    """``out`` <- LUT(shaper(``rgb``)), both (..., 3) contiguous float32 on the LUT's GPU (may be the
    same tensor); returns ``out``."""
    shaper = lut.shaper
    pixels = rgb.numel() // 3
    log = shaper.kind == "log2"
    lin_scale = (shaper.size - 1) / (shaper.linear_max - shaper.linear_min)
    grid = (triton.cdiv(pixels, BLOCK),)
    lut_kernel[grid](rgb, out, lut.table, pixels, shaper.size, float(shaper.linear_min), float(lin_scale),
                     float(shaper.log2_min), float(shaper.log_intervals_per_stop), float(shaper.toe_intervals),
                     float(2.0**shaper.log2_min), LOG=log, BLOCK_SIZE=BLOCK)
    return out
