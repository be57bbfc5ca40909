"""A canvas's inner pixels for one camera, on the render device: where they are, UV, weights.

Built from the exact per-row spans of :mod:`vpstage.frustum` (``CanvasFrustum``) as runs along
pixel rows on the host, expanded on the device (one linear form per run), so no canvas-sized numpy
map is ever built on the CPU:

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

from render.host_to_device import upload
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.pixel_runs import PixelRuns, pixel_runs


@dataclass(frozen=True, kw_only=True)
class RunsOnDevice:
    """A canvas's pixel runs on the render device, as two tensors uploaded once per canvas and camera:
    ``ints`` (3, R) int64 (first flat canvas index, length, offset of the run's first pixel in the
    expanded order) and ``floats`` (R, 7) float32 (first ``x``, ``a`` (3), ``b`` (3))."""

    ints: torch.Tensor
    floats: torch.Tensor

    @property
    def count(self) -> int:
        return int(self.floats.shape[0])


class InnerPixels:
    """The inner pixels of one canvas for one camera (see the module docstring).

    Built on the host from the pixel runs; the per-pixel tensors (``index``, ``camera``, ``uv``,
    ``weight``) are expanded on the device the first time one is asked for. A renderer that works
    from the runs themselves (``render.scene.inner_blend``'s fused kernel) never expands them.
    """

    def __init__(self, runs: PixelRuns, frustum: CameraFrustum, device: torch.device) -> None:
        self.runs, self.frustum, self.device = runs, frustum, device
        self.count = runs.pixels
        self.window = runs.window
        """(u0, v0, u1, v1) bounds of ``uv``, known on the host (no device round trip)."""
        self._on_device: RunsOnDevice | None = None
        self._expanded: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        return self.count

    def uv_window(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1) bounds of the UV of these pixels."""
        return self.window

    def on_device(self) -> RunsOnDevice:
        """The runs on the device (two asynchronous copies, made once)."""
        if self._on_device is None:
            runs = self.runs
            offset = np.cumsum(runs.length) - runs.length
            ints = upload(np.stack([runs.base, runs.length, offset]), torch.int64, self.device)
            floats = upload(np.concatenate([runs.x0[:, None], runs.a, runs.b], axis=1), torch.float32, self.device)
            self._on_device = RunsOnDevice(ints=ints, floats=floats)
        return self._on_device

    @property
    def index(self) -> torch.Tensor:
        """(N,) int64 flat canvas pixel index ``y * width + x``."""
        return self._expand()[0]

    @property
    def camera(self) -> torch.Tensor:
        """(N, 3) float32 LED pixel centres in the camera frame (OpenCV, metres)."""
        return self._expand()[1]

    @property
    def uv(self) -> torch.Tensor:
        """(N, 2) float32 inner-window UV."""
        return self._expand()[2]

    @property
    def weight(self) -> torch.Tensor:
        """(N,) float32 soft-edge weights."""
        return self._expand()[3]

    def _expand(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every pixel of the runs, expanded on the device with sizes known on the host: building
        them never waits for the device."""
        if self._expanded is None:
            self._expanded = self._expand_runs() if self.count else self._nothing()
        return self._expanded

    def _expand_runs(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        device, count = self.device, self.count
        runs = self.on_device()
        ints, floats = runs.ints, runs.floats
        run = torch.repeat_interleave(torch.arange(runs.count, device=device), ints[1], output_size=count)
        step = torch.arange(count, device=device) - ints[2][run]
        x = floats[run, 0] + step.to(torch.float32)
        camera = floats[run, 1:4] + x[:, None] * floats[run, 4:7]
        uv = window_uv(camera, self.frustum)
        return ints[0][run] + step, camera, uv, edge_weight(uv, self.frustum.soft_edge)

    def _nothing(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        empty = torch.zeros(0, device=self.device)
        return torch.zeros(0, dtype=torch.int64, device=self.device), empty.reshape(0, 3), empty.reshape(0, 2), empty


def inner_pixels(canvas: CanvasFrustum, device: torch.device) -> InnerPixels:
    """The inner pixels of ``canvas`` (which carries its camera frustum) for ``device``: runs on the
    host now, per-pixel tensors on the device when first asked for."""
    return InnerPixels(pixel_runs(canvas), canvas.frustum, device)


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
