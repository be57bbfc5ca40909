"""A canvas's inner frustum in one GPU kernel: expand its pixel runs, sample every asset's camera
view, composite them by depth over the background and blend the result into the canvas.

One program per pixel run (``vpstage.frustum.pixel_runs.PixelRuns``); per pixel, the same
arithmetic as the torch reference (``render.scene.inner_blend.blend_reference``): the LED position
``a + x * b`` in the camera frame, its inner-window UV and soft-edge weight, a bilinear sample
(``grid_sample``, border padding, ``align_corners=False``) of each asset's rendered window (colour,
coverage and coverage-weighted depth), the "over" operator nearest first, and
``weight * inner + (1 - weight) * canvas``. The per-pixel tensors of the reference (index, camera
position, UV, weight, one layer per asset, the sort) are never built: about sixty small kernel
launches and their Python become one. Layers are ordered without a sort: each one is dimmed by the
transmittance of the layers in front of it (ties broken by asset order).

Imports Triton at import: import this module only where ``render.splat.backends.has_triton``.
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

from render.host_to_device import upload
from render.scene.inner_pixels import InnerPixels, RunsOnDevice
from render.scene.window_source import WindowSource

MAX_SOURCES = 4
"""Asset windows one launch samples (more: the torch reference)."""
BLOCK = 128
PARAMS = 8
"""Floats per source: rect x0, y0, window width, height (pixels), image width, height, placement scale, 0."""
STRIDES = 6
"""Ints per source: row and pixel strides of its colour, coverage and depth tensors (elements)."""
FAR: tl.constexpr = tl.constexpr(3.0e38)
"""Depth of a layer where it covers nothing (behind every real depth)."""


@triton.jit
def _tap(ptr, row_stride, px_stride, x, y, w, h, ok):
    inside = ok & (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return tl.load(ptr + y * row_stride + x * px_stride, mask=inside, other=0.0)


@triton.jit
def _bilinear(ptr, row_stride, px_stride, x0, y0, fx, fy, w, h, ok):
    top = _tap(ptr, row_stride, px_stride, x0, y0, w, h, ok) * (1.0 - fx) \
        + _tap(ptr, row_stride, px_stride, x0 + 1, y0, w, h, ok) * fx
    bottom = _tap(ptr, row_stride, px_stride, x0, y0 + 1, w, h, ok) * (1.0 - fx) \
        + _tap(ptr, row_stride, px_stride, x0 + 1, y0 + 1, w, h, ok) * fx
    return top * (1.0 - fy) + bottom * fy


@triton.jit
def _depth_weighted(depth_ptr, alpha_ptr, d_row, d_px, a_row, a_px, x0, y0, fx, fy, w, h, ok):
    """Bilinear sample of depth * coverage (the reference samples the product)."""
    tl_ = _tap(depth_ptr, d_row, d_px, x0, y0, w, h, ok) * _tap(alpha_ptr, a_row, a_px, x0, y0, w, h, ok)
    tr = _tap(depth_ptr, d_row, d_px, x0 + 1, y0, w, h, ok) * _tap(alpha_ptr, a_row, a_px, x0 + 1, y0, w, h, ok)
    bl = _tap(depth_ptr, d_row, d_px, x0, y0 + 1, w, h, ok) * _tap(alpha_ptr, a_row, a_px, x0, y0 + 1, w, h, ok)
    br = _tap(depth_ptr, d_row, d_px, x0 + 1, y0 + 1, w, h, ok) \
        * _tap(alpha_ptr, a_row, a_px, x0 + 1, y0 + 1, w, h, ok)
    return (tl_ * (1.0 - fx) + tr * fx) * (1.0 - fy) + (bl * (1.0 - fx) + br * fx) * fy


@triton.jit
def _grid(params, k: tl.constexpr, u, v):
    """Window texel coordinates (border-clamped), their fractions and the window size for source k."""
    rx0 = tl.load(params + k * 8)
    ry0 = tl.load(params + k * 8 + 1)
    w = tl.load(params + k * 8 + 2)
    h = tl.load(params + k * 8 + 3)
    ix = (u * tl.load(params + k * 8 + 4) - rx0) - 0.5
    iy = (v * tl.load(params + k * 8 + 5) - ry0) - 0.5
    ix = tl.minimum(tl.maximum(ix, 0.0), w - 1.0)
    iy = tl.minimum(tl.maximum(iy, 0.0), h - 1.0)
    fx0 = tl.floor(ix)
    fy0 = tl.floor(iy)
    return fx0.to(tl.int32), fy0.to(tl.int32), ix - fx0, iy - fy0, w.to(tl.int32), h.to(tl.int32)


@triton.jit
def _coverage_depth(alpha_ptr, depth_ptr, params, strides, k: tl.constexpr, u, v, ok):
    x0, y0, fx, fy, w, h = _grid(params, k, u, v)
    a_row = tl.load(strides + k * 6 + 2)
    a_px = tl.load(strides + k * 6 + 3)
    d_row = tl.load(strides + k * 6 + 4)
    d_px = tl.load(strides + k * 6 + 5)
    a = _bilinear(alpha_ptr, a_row, a_px, x0, y0, fx, fy, w, h, ok)
    da = _depth_weighted(depth_ptr, alpha_ptr, d_row, d_px, a_row, a_px, x0, y0, fx, fy, w, h, ok)
    depth = tl.where(a > 0, da / tl.maximum(a, 1e-12), 0.0) / tl.load(params + k * 8 + 6)
    return a, tl.where(a > 0, depth, FAR)


@triton.jit
def _colour(rgb_ptr, params, strides, k: tl.constexpr, u, v, ok):
    x0, y0, fx, fy, w, h = _grid(params, k, u, v)
    row = tl.load(strides + k * 6)
    px = tl.load(strides + k * 6 + 1)
    r = _bilinear(rgb_ptr, row, px, x0, y0, fx, fy, w, h, ok)
    g = _bilinear(rgb_ptr + 1, row, px, x0, y0, fx, fy, w, h, ok)
    b = _bilinear(rgb_ptr + 2, row, px, x0, y0, fx, fy, w, h, ok)
    return r, g, b


@triton.jit
def _source(k: tl.constexpr, rgb0, a0, d0, rgb1, a1, d1, rgb2, a2, d2, rgb3, a3, d3):
    if k == 0:  # noqa: SIM116 (resolved at compile time: k is a constant)
        return rgb0, a0, d0
    elif k == 1:
        return rgb1, a1, d1
    elif k == 2:
        return rgb2, a2, d2
    else:
        return rgb3, a3, d3


# No argument may be named ``params`` or ``options`` (Triton's launcher binds those names). The run
# count is not specialised on: a count of 1 or of a multiple of 16 must not compile another kernel.
@triton.jit(do_not_specialize=["runs"])
def inner_blend_kernel(colour, ints, floats, runs, window_params, window_strides, background,
                       rgb0, a0, d0, rgb1, a1, d1, rgb2, a2, d2, rgb3, a3, d3,
                       xl, x_span, yt, y_span, soft_edge,
                       SOURCES: tl.constexpr, SOFT: tl.constexpr, BLOCK_SIZE: tl.constexpr):
    run = tl.program_id(0)
    base = tl.load(ints + run)
    length = tl.load(ints + runs + run)
    x_first = tl.load(floats + run * 7)
    ax, ay, az = tl.load(floats + run * 7 + 1), tl.load(floats + run * 7 + 2), tl.load(floats + run * 7 + 3)
    bx, by, bz = tl.load(floats + run * 7 + 4), tl.load(floats + run * 7 + 5), tl.load(floats + run * 7 + 6)
    bg_r, bg_g, bg_b = tl.load(background), tl.load(background + 1), tl.load(background + 2)
    for start in range(0, length, BLOCK_SIZE):
        step = start + tl.arange(0, BLOCK_SIZE)
        ok = step < length
        x = x_first + step.to(tl.float32)
        cx, cy, cz = ax + x * bx, ay + x * by, az + x * bz
        u = (cx / cz - xl) / x_span
        v = (cy / cz - yt) / y_span
        inside = (u >= 0) & (u <= 1) & (v >= 0) & (v <= 1)
        if SOFT:
            ramp_u = tl.minimum(tl.maximum(tl.minimum(u, 1 - u) / soft_edge, 0.0), 1.0)
            ramp_v = tl.minimum(tl.maximum(tl.minimum(v, 1 - v) / soft_edge, 0.0), 1.0)
            weight = tl.where(inside, ramp_u * ramp_v, 0.0)
        else:
            weight = inside.to(tl.float32)
        acc_r = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
        acc_g = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
        acc_b = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
        clear = tl.full([BLOCK_SIZE], 1.0, dtype=tl.float32)
        for k in tl.static_range(SOURCES):
            rgb_k, a_k, d_k = _source(k, rgb0, a0, d0, rgb1, a1, d1, rgb2, a2, d2, rgb3, a3, d3)
            alpha_k, depth_k = _coverage_depth(a_k, d_k, window_params, window_strides, k, u, v, ok)
            seen = tl.full([BLOCK_SIZE], 1.0, dtype=tl.float32)  # transmittance of the layers in front
            for j in tl.static_range(SOURCES):
                if j != k:
                    _, a_j, d_j = _source(j, rgb0, a0, d0, rgb1, a1, d1, rgb2, a2, d2, rgb3, a3, d3)
                    alpha_j, depth_j = _coverage_depth(a_j, d_j, window_params, window_strides, j, u, v, ok)
                    if j < k:  # noqa: SIM108 (compile-time branch: equal depths keep asset order)
                        front = depth_j <= depth_k
                    else:
                        front = depth_j < depth_k
                    seen = seen * tl.where(front, 1.0 - alpha_j, 1.0)
            r, g, b = _colour(rgb_k, window_params, window_strides, k, u, v, ok)
            acc_r += seen * r
            acc_g += seen * g
            acc_b += seen * b
            clear = clear * (1.0 - alpha_k)
        index = (base + step) * 3
        for c in tl.static_range(3):
            if c == 0:
                inner = acc_r + clear * bg_r
            elif c == 1:
                inner = acc_g + clear * bg_g
            else:
                inner = acc_b + clear * bg_b
            old = tl.load(colour + index + c, mask=ok, other=0.0)
            tl.store(colour + index + c, weight * inner + (1.0 - weight) * old, mask=ok)


def blend_inner_triton(colour: torch.Tensor, pixels: InnerPixels, sources: list[WindowSource],
                       background: torch.Tensor) -> None:
    """``colour`` ((H * W, 3) float32, contiguous, on the GPU) <- the inner frustum of ``pixels``
    over it: ``sources`` (at most ``MAX_SOURCES``) composited by depth over ``background`` (3,),
    blended with the soft-edge weights."""
    if len(pixels):
        frustum = pixels.frustum
        launch(colour, pixels.on_device(), sources, background, frustum.window, frustum.soft_edge)


def launch(colour: torch.Tensor, runs: RunsOnDevice, sources: list[WindowSource], background: torch.Tensor,
           window: tuple[float, float, float, float], soft_edge: float) -> None:
    """One launch over ``runs`` for an inner window ``window`` (xl, xr, yt, yb) with ``soft_edge``."""
    if len(sources) > MAX_SOURCES:
        raise ValueError(f"the fused inner blend samples at most {MAX_SOURCES} asset windows")
    params = np.zeros((MAX_SOURCES, PARAMS), np.float32)
    strides = np.zeros((MAX_SOURCES, STRIDES), np.int64)
    tensors: list[torch.Tensor] = []
    for k, source in enumerate(sources):
        params[k] = source.params()
        rgb, alpha, depth = source.out.rgb, source.out.alpha, source.out.depth
        if rgb.stride(2) != 1:
            rgb = rgb.contiguous()
        strides[k] = (*rgb.stride()[:2], *alpha.stride(), *depth.stride())
        tensors += [rgb, alpha, depth]
    unused = tensors[:3] if tensors else [colour] * 3  # slots past the sources: never read
    tensors += unused * (MAX_SOURCES - len(sources))
    xl, xr, yt, yb = window
    inner_blend_kernel[(runs.count,)](
        colour, runs.ints, runs.floats, runs.count, upload(params, torch.float32, colour.device),
        upload(strides, torch.int64, colour.device), background, *tensors, float(xl), float(xr - xl), float(yt),
        float(yb - yt), float(max(soft_edge, 1e-12)), SOURCES=len(sources), SOFT=soft_edge > 0, BLOCK_SIZE=BLOCK)


def warm_up(sources: list[WindowSource], soft_edges: set[bool], device: torch.device) -> None:
    """Compile every variant live frames can ask for before they do (a compile takes about a
    second): each number of sources up to ``len(sources)`` (asset windows laid out as these, which
    the compiled kernel depends on) with and/or without a soft edge, over one pixel."""
    colour = torch.zeros((4, 3), dtype=torch.float32, device=device)
    background = torch.zeros(3, dtype=torch.float32, device=device)
    runs = RunsOnDevice(ints=upload(np.array([[0], [1], [0]]), torch.int64, device),
                        floats=upload(np.array([[0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]), torch.float32, device))
    for count in range(min(len(sources), MAX_SOURCES) + 1):
        for soft in sorted(soft_edges):
            launch(colour, runs, sources[:count], background, (-1.0, 1.0, -1.0, 1.0), 0.05 if soft else 0.0)
