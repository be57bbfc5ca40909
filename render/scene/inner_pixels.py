"""A canvas's inner pixels for one camera, on the render device: where they are, UV, weights.

Built from the exact per-row spans of :mod:`vpstage.frustum` (``CanvasFrustum``), expanded per
cabinet block in torch (one bilinear form per cabinet, as ``CanvasFrustum.uv_coefficients``
describes), so no canvas-sized numpy map is ever built on the CPU:

* ``index`` (N,) int64: flat canvas pixel index ``y * width + x`` of every inner pixel;
* ``camera`` (N, 3) float32: the LED pixel centre in the camera frame (OpenCV, metres);
* ``uv`` (N, 2): inner-window UV (what the camera-view render is sampled at);
* ``weight`` (N,): soft-edge weight (1 in the core, ramping to 0 at the window edge).

The mask equals ``CanvasFrustum.mask`` and the UV ``CanvasFrustum.uv`` (to float32 rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from render.host_to_device import upload
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.frustum import CameraFrustum


@dataclass(kw_only=True)
class InnerPixels:
    index: torch.Tensor
    camera: torch.Tensor
    uv: torch.Tensor
    weight: torch.Tensor
    window: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """(u0, v0, u1, v1) bounds of ``uv``, known on the host (no device round trip)."""

    def __len__(self) -> int:
        return int(self.index.numel())

    def uv_window(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) bounds of the UV of these pixels."""
        return self.window


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
        coef = block.coef[cabinet].copy()                                  # (R, 4, 3) stage positions
        coef[:, 0] -= frustum.eye
        k = coef @ frustum.rotation                                        # camera frame
        y = row[:, None] + 0.5
        base = (block.y0[cabinet] + row) * canvas.geometry.width + block.x0[cabinet] + start
        parts.append((base.astype(np.int64), length))
        floats.append((start + 0.5, k[:, 0] + y * k[:, 2], k[:, 1] + y * k[:, 3]))
    if not parts:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        return PixelRuns(base=empty_i, x0=empty_f, length=empty_i, a=np.zeros((0, 3)), b=np.zeros((0, 3)))
    return PixelRuns(base=np.concatenate([p[0] for p in parts]), x0=np.concatenate([f[0] for f in floats]),
                     length=np.concatenate([p[1] for p in parts]), a=np.concatenate([f[1] for f in floats]),
                     b=np.concatenate([f[2] for f in floats]))


def inner_pixels(canvas: CanvasFrustum, device: torch.device) -> InnerPixels:
    """The inner pixels of ``canvas`` (which carries its camera frustum) on ``device``.

    The runs go to the device in two asynchronous copies and are expanded there with sizes known
    on the host: building a canvas's inner pixels never waits for the device."""
    runs = pixel_runs(canvas)
    count = runs.pixels
    if not count:
        empty = torch.zeros(0, device=device)
        return InnerPixels(index=torch.zeros(0, dtype=torch.int64, device=device), camera=empty.reshape(0, 3),
                           uv=empty.reshape(0, 2), weight=empty)
    offset = np.cumsum(runs.length) - runs.length
    ints = upload(np.stack([runs.base, runs.length, offset]), torch.int64, device)
    floats = upload(np.concatenate([runs.x0[:, None], runs.a, runs.b], axis=1), torch.float32, device)
    run = torch.repeat_interleave(torch.arange(len(runs.length), device=device), ints[1], output_size=count)
    step = torch.arange(count, device=device) - ints[2][run]
    x = floats[run, 0] + step.to(torch.float32)
    camera = floats[run, 1:4] + x[:, None] * floats[run, 4:7]
    uv = window_uv(camera, canvas.frustum)
    return InnerPixels(index=ints[0][run] + step, camera=camera, uv=uv,
                       weight=edge_weight(uv, canvas.frustum.soft_edge), window=runs_uv_window(runs, canvas.frustum))


def runs_uv_window(runs: PixelRuns, frustum: CameraFrustum) -> tuple[float, float, float, float]:
    """UV bounds of every pixel of ``runs``: along a run the image point moves monotonically (a
    line's projection), so the extremes are at the runs' first and last pixels."""
    ends = np.concatenate([runs.a + runs.x0[:, None] * runs.b,
                           runs.a + (runs.x0 + runs.length - 1)[:, None] * runs.b])
    xl, xr, yt, yb = frustum.window
    u = (ends[:, 0] / ends[:, 2] - xl) / (xr - xl)
    v = (ends[:, 1] / ends[:, 2] - yt) / (yb - yt)
    return float(u.min()), float(v.min()), float(u.max()), float(v.max())


def window_uv(camera: torch.Tensor, frustum: CameraFrustum) -> torch.Tensor:
    """Inner-window UV (N, 2) of camera-frame points (N, 3) in front of the camera."""
    xl, xr, yt, yb = frustum.window
    x = camera[:, 0] / camera[:, 2]
    y = camera[:, 1] / camera[:, 2]
    return torch.stack([(x - xl) / (xr - xl), (y - yt) / (yb - yt)], dim=1)


def edge_weight(uv: torch.Tensor, soft_edge: float) -> torch.Tensor:
    """Soft-edge weights (N,) as ``CameraFrustum.edge_weight``: ramp(u) * ramp(v), 0 outside."""
    inside = ((uv >= 0) & (uv <= 1)).all(dim=1)
    if soft_edge <= 0:
        return inside.to(torch.float32)
    ramp = (torch.minimum(uv, 1 - uv) / float(soft_edge)).clamp(0, 1)
    return torch.where(inside, ramp[:, 0] * ramp[:, 1], torch.zeros_like(ramp[:, 0]))
