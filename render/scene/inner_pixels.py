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

import torch

from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.frustum import CameraFrustum


@dataclass
class InnerPixels:
    index: torch.Tensor
    camera: torch.Tensor
    uv: torch.Tensor
    weight: torch.Tensor

    def __len__(self) -> int:
        return int(self.index.numel())

    def uv_window(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) bounds of the UV of these pixels."""
        lo, hi = self.uv.amin(dim=0).tolist(), self.uv.amax(dim=0).tolist()
        return lo[0], lo[1], hi[0], hi[1]


def _block_pixels(cam_coef: torch.Tensor, start: torch.Tensor, stop: torch.Tensor, x0: torch.Tensor,
                  y0: torch.Tensor, width: int, canvas_width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inner pixels of one block's members: (flat canvas indices (n,), camera coords (n, 3))."""
    device = cam_coef.device
    cols = torch.arange(width, device=device)
    mask = (cols[None, None, :] >= start[:, :, None]) & (cols[None, None, :] < stop[:, :, None])   # (m, h, w)
    member, row, col = mask.nonzero(as_tuple=True)
    xl = col.to(torch.float32) + 0.5
    yl = row.to(torch.float32) + 0.5
    k = cam_coef[member]                                                                            # (n, 4, 3)
    camera = k[:, 0] + xl[:, None] * k[:, 1] + yl[:, None] * k[:, 2] + (xl * yl)[:, None] * k[:, 3]
    index = (y0[member] + row) * canvas_width + (x0[member] + col)
    return index, camera


def inner_pixels(canvas: CanvasFrustum, device: torch.device) -> InnerPixels:
    """The inner pixels of ``canvas`` (which carries its camera frustum) on ``device``."""
    frustum = canvas.frustum
    indices, cameras = [], []
    for spans in canvas.spans:
        block = spans.block
        coef = block.coef[spans.members].copy()                     # (m, 4, 3) stage positions
        coef[:, 0] -= frustum.eye
        cam_coef = torch.as_tensor(coef @ frustum.rotation, dtype=torch.float32, device=device)
        index, camera = _block_pixels(
            cam_coef, torch.as_tensor(spans.start, device=device), torch.as_tensor(spans.stop, device=device),
            torch.as_tensor(block.x0[spans.members], device=device),
            torch.as_tensor(block.y0[spans.members], device=device),
            block.width, canvas.geometry.width)
        indices.append(index)
        cameras.append(camera)
    if not indices:
        empty = torch.zeros(0, device=device)
        return InnerPixels(torch.zeros(0, dtype=torch.int64, device=device), empty.reshape(0, 3),
                           empty.reshape(0, 2), empty)
    camera = torch.cat(cameras)
    uv = window_uv(camera, frustum)
    return InnerPixels(torch.cat(indices), camera, uv, edge_weight(uv, frustum.soft_edge))


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
