"""A canvas's inner pixels as runs along pixel rows, on the host (no canvas-sized arrays).

Along one footprint row of a cabinet the inner pixels are a contiguous run (``vpstage.frustum.spans``)
and the LED position is linear in the column, so a run is its first flat canvas index, its first
footprint-local ``x``, its length and two camera-frame vectors ``a`` and ``b`` (position
``a + x * b``). Renderers expand the runs into per-pixel data on their device
(``render.scene.inner_pixels``) or read them directly (the fused inner blend).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.canvas import CanvasFrustum


@dataclass(frozen=True, kw_only=True)
class PixelRuns:
    """A canvas's inner pixels as runs along footprint rows (host side, from the exact spans).

    Along a run the LED position is linear in the column: ``a + x * b`` (``x`` the footprint-local
    pixel centre), so a run is its first flat canvas index, its first ``x``, its length and its
    ``a``/``b`` (camera frame).
    """

    base: NDArray[np.int64]
    """(R,) flat canvas index of each run's first pixel."""
    x0: NDArray[np.float64]
    length: NDArray[np.int64]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    window: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """(u0, v0, u1, v1): bounds of the inner-window UV of every pixel of the runs."""

    @property
    def pixels(self) -> int:
        return int(self.length.sum())


def pixel_runs(canvas: CanvasFrustum) -> PixelRuns:
    """The inner pixels of ``canvas`` as row runs, in the order of ``CanvasFrustum.mask``'s pixels
    per cabinet block (member, row, column)."""
    frustum = canvas.frustum
    parts: list[tuple[NDArray[np.int64], ...]] = []
    floats: list[tuple[NDArray[np.float64], ...]] = []
    for spans in canvas.spans:
        block = spans.block
        member, row = np.nonzero(spans.stop > spans.start)
        start = spans.start[member, row].astype(np.int64)
        length = spans.stop[member, row].astype(np.int64) - start
        cabinet = spans.members[member]
        coef = block.coef[spans.members]                                   # (m, 4, 3) stage positions
        coef[:, 0] -= frustum.eye
        k = (coef @ frustum.rotation)[member]                              # camera frame, per run
        y = row[:, None] + 0.5
        base = (block.y0[cabinet] + row) * canvas.geometry.width + block.x0[cabinet] + start
        parts.append((base.astype(np.int64), length))
        x0 = np.asarray(start + 0.5, dtype=np.float64)
        floats.append((x0, k[:, 0] + y * k[:, 2], k[:, 1] + y * k[:, 3]))
    if not parts:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        return PixelRuns(base=empty_i, x0=empty_f, length=empty_i, a=np.zeros((0, 3)), b=np.zeros((0, 3)))
    runs = PixelRuns(base=np.concatenate([p[0] for p in parts]), x0=np.concatenate([f[0] for f in floats]),
                     length=np.concatenate([p[1] for p in parts]), a=np.concatenate([f[1] for f in floats]),
                     b=np.concatenate([f[2] for f in floats]))
    return dataclasses.replace(runs, window=bounds_uv_window(canvas))


def bounds_uv_window(canvas: CanvasFrustum) -> tuple[float, float, float, float]:
    """UV bounds of every inner pixel of ``canvas``, from its image bounds (computed once with the
    spans: exact bounds of every inner pixel centre's image point)."""
    assert canvas.image_bounds is not None
    x0, x1, y0, y1 = canvas.image_bounds.window
    xl, xr, yt, yb = canvas.frustum.window
    us = ((x0 - xl) / (xr - xl), (x1 - xl) / (xr - xl))
    vs = ((y0 - yt) / (yb - yt), (y1 - yt) / (yb - yt))
    return min(us), min(vs), max(us), max(vs)
