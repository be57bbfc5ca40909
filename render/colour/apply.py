"""Apply a baked shaper + 3D LUT to a picture: the torch reference of the colour kernel.

``apply_lut(rgb, lut, out)`` reads (H, W, 3) float32 source values on any device and writes
(H, W, 3) float32 code values (0..1) into the preallocated ``out``. Interpolation is tetrahedral
(what OCIO and Resolve use for 3D LUTs; measured against OCIO in ``tests/colour``) or trilinear.
On a CUDA device with Triton, tetrahedral calls run as one fused kernel
(``render.colour.triton_apply``, compared against this reference in ``tests/gpu``).
On the CPU the picture goes through in chunks of ``chunk_pixels`` so the temporaries stay small
and in cache; on a GPU in one piece.
"""

from __future__ import annotations

import os
from typing import Literal

import torch

from render.colour.device_lut import DeviceLut

Interpolation = Literal["tetrahedral", "trilinear"]
CPU_CHUNK_PIXELS = 1 << 18
FUSED = os.environ.get("VPSTAGE_COLOUR_FUSED", "1") != "0"
"""On CUDA with Triton, apply with the fused kernel (``render.colour.triton_apply``); set
VPSTAGE_COLOUR_FUSED=0 for the torch path."""


def _cell(rgb: torch.Tensor, lut: DeviceLut) -> tuple[torch.Tensor, torch.Tensor]:
    """Flat index of each pixel's cell origin (P,) int64 and its fractions (P, 3) float32."""
    u = lut.shaper.to_grid(rgb)
    base = u.floor().clamp_(max=lut.size - 2)
    frac = u.sub_(base)
    n = lut.size
    index = base.to(torch.int64)
    flat = index[:, 0] + index[:, 1] * n + index[:, 2] * (n * n)
    return flat, frac


def _tetrahedral(flat: torch.Tensor, frac: torch.Tensor, lut: DeviceLut, out: torch.Tensor) -> None:
    """Walk the cell's diagonal along the axes in order of falling fraction (ties: r, g, b)."""
    n = lut.size
    fr, fg, fb = frac.unbind(1)
    r_max = (fr >= fg) & (fr >= fb)
    g_max = ~r_max & (fg >= fb)
    b_min = (fb <= fr) & (fb <= fg)
    g_min = ~b_min & (fg <= fr)
    stride_max = torch.where(r_max, 1, torch.where(g_max, n, n * n))
    stride_min = torch.where(b_min, n * n, torch.where(g_min, n, 1))
    f_max, f_min = frac.amax(1), frac.amin(1)
    f_mid = frac.sum(1).sub_(f_max).sub_(f_min)
    table, corner = lut.table, 1 + n + n * n
    torch.mul(table.index_select(0, flat), (1.0 - f_max).unsqueeze_(1), out=out)
    out.addcmul_(table.index_select(0, flat + stride_max), (f_max - f_mid).unsqueeze_(1))
    out.addcmul_(table.index_select(0, flat + (corner - stride_min)), (f_mid - f_min).unsqueeze_(1))
    out.addcmul_(table.index_select(0, flat + corner), f_min.unsqueeze_(1))


def _trilinear(flat: torch.Tensor, frac: torch.Tensor, lut: DeviceLut, out: torch.Tensor) -> None:
    n = lut.size
    out.zero_()
    for dr in (0, 1):
        wr = frac[:, 0] if dr else 1.0 - frac[:, 0]
        for dg in (0, 1):
            wg = wr * (frac[:, 1] if dg else 1.0 - frac[:, 1])
            for db in (0, 1):
                w = wg * (frac[:, 2] if db else 1.0 - frac[:, 2])
                out.addcmul_(lut.table.index_select(0, flat + (dr + dg * n + db * n * n)), w.unsqueeze_(1))


def _apply_flat(rgb: torch.Tensor, lut: DeviceLut, out: torch.Tensor, interpolation: Interpolation) -> None:
    flat, frac = _cell(rgb, lut)
    if interpolation == "tetrahedral":
        _tetrahedral(flat, frac, lut, out)
    else:
        _trilinear(flat, frac, lut, out)


def _fused(rgb: torch.Tensor, out: torch.Tensor, interpolation: Interpolation, chunk_pixels: int | None) -> bool:
    """Whether the fused Triton kernel takes this call (CUDA, tetrahedral, contiguous, Triton present)."""
    if out.device.type != "cuda" or interpolation != "tetrahedral" or chunk_pixels is not None:
        return False
    if not rgb.is_contiguous() or rgb.dtype != torch.float32 or not FUSED:
        return False
    from render.splat.backends import has_triton

    return has_triton(out.device)


def apply_lut(rgb: torch.Tensor, lut: DeviceLut, out: torch.Tensor, *,
              interpolation: Interpolation = "tetrahedral", chunk_pixels: int | None = None) -> torch.Tensor:
    """``out`` (H, W, 3) float32, contiguous, on ``lut``'s device <- LUT(shaper(``rgb``)); returns ``out``.

    ``rgb``: (H, W, 3) float32 source values (any strides). ``chunk_pixels``: pixels per pass
    (default: ``CPU_CHUNK_PIXELS`` on the CPU, everything at once elsewhere)."""
    if rgb.shape != out.shape or rgb.shape[-1] != 3:
        raise ValueError(f"rgb {tuple(rgb.shape)} and out {tuple(out.shape)} must both be (..., 3)")
    if out.dtype != torch.float32 or not out.is_contiguous() or out.device != lut.table.device:
        raise ValueError("out must be a contiguous float32 tensor on the LUT's device")
    if _fused(rgb, out, interpolation, chunk_pixels):
        from render.colour.triton_apply import apply_lut_triton

        return apply_lut_triton(rgb, lut, out)
    source, target = rgb.reshape(-1, 3), out.view(-1, 3)
    if chunk_pixels is None:
        chunk_pixels = CPU_CHUNK_PIXELS if out.device.type == "cpu" else max(1, source.shape[0])
    for start in range(0, source.shape[0], chunk_pixels):
        stop = start + chunk_pixels
        _apply_flat(source[start:stop], lut, target[start:stop], interpolation)
    return out
