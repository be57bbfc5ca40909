"""Triton hash-grid encoding: shared device helpers, forward and backward kernels.

Same indexing as render/nerf/field_components/hash_encoding.py (the reference): per level, the
8 corners around ``x * scale + 0.5``, dense index while the level is dense, else the coherent
prime hash, modulo the level size. Levels are vectorised: every tensor inside is (BLOCK, L).
Positions are clamped to [0, 1]^3 (the reference does the same), so dense indices stay below
twice the level size and one conditional subtraction is the modulo; hashed levels have
power-of-two sizes, so the modulo is a mask.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from render.nerf.field_components.hash_encoding import LevelLayout

BLOCK_ENCODE = 64


@triton.jit
def load_xyz(ptr, rows, mask):
    """Components of rows of an (N, 3) float32 array: three (B,) tensors (0 where masked)."""
    x = tl.load(ptr + rows * 3 + 0, mask=mask, other=0.0)
    y = tl.load(ptr + rows * 3 + 1, mask=mask, other=0.0)
    z = tl.load(ptr + rows * 3 + 2, mask=mask, other=0.0)
    return x, y, z


@triton.jit
def level_positions(x, y, z, scale):
    """Grid positions of (B,) coordinates at every level: integer corners and fractions, (B, L) each."""
    px = tl.minimum(tl.maximum(x, 0.0), 1.0)[:, None] * scale[None, :] + 0.5
    py = tl.minimum(tl.maximum(y, 0.0), 1.0)[:, None] * scale[None, :] + 0.5
    pz = tl.minimum(tl.maximum(z, 0.0), 1.0)[:, None] * scale[None, :] + 0.5
    fx, fy, fz = tl.floor(px), tl.floor(py), tl.floor(pz)
    return fx.to(tl.int32), fy.to(tl.int32), fz.to(tl.int32), px - fx, py - fy, pz - fz


@triton.jit
def corner_row(gx, gy, gz, fx, fy, fz, res, size, offset, hashed, CORNER: tl.constexpr):
    """Table row and trilinear weight of one corner (bit d of CORNER: upper neighbour on axis d)."""
    if CORNER & 1:
        cx = gx + 1
        w = fx
    else:
        cx = gx
        w = 1.0 - fx
    if CORNER & 2:
        cy = gy + 1
        w = w * fy
    else:
        cy = gy
        w = w * (1.0 - fy)
    if CORNER & 4:
        cz = gz + 1
        w = w * fz
    else:
        cz = gz
        w = w * (1.0 - fz)
    r = res[None, :]
    s = size[None, :]
    dense = cx + cy * r + cz * r * r
    dense = tl.where(dense >= s, dense - s, dense)
    h = cx.to(tl.uint32) ^ (cy.to(tl.uint32) * 2654435761) ^ (cz.to(tl.uint32) * 805459861)
    h = (h & (s.to(tl.uint32) - 1)).to(tl.int32)
    index = tl.where(hashed[None, :] != 0, h, dense)
    return offset[None, :] + index, w


@triton.jit
def load_features(table_ptr, row, mask, F: tl.constexpr, f: tl.constexpr):
    """Feature ``f`` of table rows (B, L) as float32 (table: fp16/fp32, row-major (entries, F))."""
    return tl.load(table_ptr + row.to(tl.int64) * F + f, mask=mask, other=0.0).to(tl.float32)


@triton.jit
def _half(bits, k: tl.constexpr):
    """fp16 number ``k`` packed in an integer (k = 0: lowest 16 bits), as float32."""
    return (bits >> (16 * k)).to(tl.int16).to(tl.float16, bitcast=True).to(tl.float32)


@triton.jit
def encode_block(table_ptr, x, y, z, mask, scale, res, size, offset, hashed, F: tl.constexpr,
                 PACKED: tl.constexpr = False):
    """Interpolated features of a block of samples: F tensors (B, L) float32 (unused ones are 0).

    ``PACKED``: the table is fp16 with each row's F (2 or 4) features read as one int32 / int64
    (one load per corner instead of F).
    """
    gx, gy, gz, fx, fy, fz = level_positions(x, y, z, scale)
    m = mask[:, None]
    a0 = tl.zeros(fx.shape, tl.float32)
    a1 = tl.zeros(fx.shape, tl.float32)
    a2 = tl.zeros(fx.shape, tl.float32)
    a3 = tl.zeros(fx.shape, tl.float32)
    for c in tl.static_range(8):
        row, w = corner_row(gx, gy, gz, fx, fy, fz, res, size, offset, hashed, c)
        if PACKED and F > 1:
            bits = tl.load(table_ptr + row.to(tl.int64), mask=m, other=0)
            a0 += w * _half(bits, 0)
            a1 += w * _half(bits, 1)
            if F > 2:
                a2 += w * _half(bits, 2)
                a3 += w * _half(bits, 3)
        else:
            a0 += w * load_features(table_ptr, row, m, F, 0)
            if F > 1:
                a1 += w * load_features(table_ptr, row, m, F, 1)
            if F > 2:
                a2 += w * load_features(table_ptr, row, m, F, 2)
                a3 += w * load_features(table_ptr, row, m, F, 3)
    return a0, a1, a2, a3


@triton.jit
def interleave_features(a0, a1, a2, a3, B: tl.constexpr, L: tl.constexpr, F: tl.constexpr):
    """(B, L*F) encoding in tiny-cuda-nn order (level-major, feature-minor)."""
    if F == 1:
        return a0
    elif F == 2:
        return tl.reshape(tl.join(a0, a1), (B, L * 2))
    else:
        return tl.reshape(tl.join(tl.join(a0, a2), tl.join(a1, a3)), (B, L * 4))


@triton.jit
def _encode_forward_kernel(x_ptr, table_ptr, out_ptr, n, scale_ptr, res_ptr, size_ptr, offset_ptr, hashed_ptr,
                           B: tl.constexpr, L: tl.constexpr, F: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * B + tl.arange(0, B)
    mask = rows < n
    x, y, z = load_xyz(x_ptr, rows, mask)
    lv = tl.arange(0, L)
    a0, a1, a2, a3 = encode_block(table_ptr, x, y, z, mask, tl.load(scale_ptr + lv), tl.load(res_ptr + lv),
                                  tl.load(size_ptr + lv), tl.load(offset_ptr + lv), tl.load(hashed_ptr + lv), F)
    enc = interleave_features(a0, a1, a2, a3, B, L, F)
    cols = tl.arange(0, L * F)
    tl.store(out_ptr + rows[:, None] * (L * F) + cols[None, :], enc, mask=mask[:, None])


@triton.jit
def _encode_backward_kernel(x_ptr, grad_out_ptr, grad_table_ptr, n, scale_ptr, res_ptr, size_ptr, offset_ptr,
                            hashed_ptr, B: tl.constexpr, L: tl.constexpr, F: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * B + tl.arange(0, B)
    mask = rows < n
    x, y, z = load_xyz(x_ptr, rows, mask)
    lv = tl.arange(0, L)
    gx, gy, gz, fx, fy, fz = level_positions(x, y, z, tl.load(scale_ptr + lv))
    res, size = tl.load(res_ptr + lv), tl.load(size_ptr + lv)
    offset, hashed = tl.load(offset_ptr + lv), tl.load(hashed_ptr + lv)
    m = mask[:, None]
    g_base = grad_out_ptr + rows[:, None] * (L * F) + lv[None, :] * F
    for c in tl.static_range(8):
        row, w = corner_row(gx, gy, gz, fx, fy, fz, res, size, offset, hashed, c)
        for f in tl.static_range(F):
            g = tl.load(g_base + f, mask=m, other=0.0)
            tl.atomic_add(grad_table_ptr + row.to(tl.int64) * F + f, w * g, mask=m)


class LevelBuffers:
    """Per-level constants as small device tensors (int32 / float32) for the kernels."""

    def __init__(self, layout: LevelLayout, device: torch.device) -> None:
        self.scale = torch.as_tensor(layout.scale, dtype=torch.float32, device=device)
        self.res = torch.as_tensor(layout.resolution, dtype=torch.int32, device=device)
        self.size = torch.as_tensor(layout.size, dtype=torch.int32, device=device)
        self.offset = torch.as_tensor(layout.offset, dtype=torch.int32, device=device)
        self.hashed = torch.as_tensor(layout.hashed, dtype=torch.int32, device=device)
        self.n_levels = layout.n_levels
        self.n_features = layout.n_features

    def args(self) -> tuple[torch.Tensor, ...]:
        return (self.scale, self.res, self.size, self.offset, self.hashed)


def encode_forward(x: torch.Tensor, table: torch.Tensor, levels: LevelBuffers) -> torch.Tensor:
    """(N, 3) float32 unit-cube positions -> (N, L*F) float32 encoding."""
    n = x.shape[0]
    out = torch.empty(n, levels.n_levels * levels.n_features, dtype=torch.float32, device=x.device)
    if n:
        grid = (triton.cdiv(n, BLOCK_ENCODE),)
        _encode_forward_kernel[grid](x.contiguous(), table.contiguous(), out, n, *levels.args(),
                                     B=BLOCK_ENCODE, L=levels.n_levels, F=levels.n_features)
    return out


def encode_backward(x: torch.Tensor, grad_out: torch.Tensor, n_entries: int, levels: LevelBuffers) -> torch.Tensor:
    """Gradient of the encoding w.r.t. the table: (n_entries, F) float32 (atomic scatter)."""
    grad = torch.zeros(n_entries, levels.n_features, dtype=torch.float32, device=x.device)
    n = x.shape[0]
    if n:
        grid = (triton.cdiv(n, BLOCK_ENCODE),)
        _encode_backward_kernel[grid](x.contiguous(), grad_out.contiguous().float(), grad, n, *levels.args(),
                                      B=BLOCK_ENCODE, L=levels.n_levels, F=levels.n_features)
    return grad


class HashEncodeFunction(torch.autograd.Function):
    """Differentiable (in the table) hash encoding backed by the Triton kernels."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, table: torch.Tensor, levels: LevelBuffers) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.levels = levels
        ctx.n_entries = table.shape[0]
        ctx.table_dtype = table.dtype
        return encode_forward(x, table, levels)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> tuple[None, torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        grad = encode_backward(x, grad_out, ctx.n_entries, ctx.levels)
        return None, grad.to(ctx.table_dtype), None
