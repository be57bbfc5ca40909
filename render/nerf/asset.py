"""``NerfAsset``: a NeRF behind the engine-agnostic ``SceneAsset`` protocol (render/assets.py).

Rays and cameras are in the asset frame (the training ``transforms.json`` world, see
render/nerf/conventions.py). ``backend`` picks the implementation of the marcher, field and
compositor: ``"torch"`` (reference, any device), ``"triton"`` (fused CUDA kernels), or ``"auto"``
(Triton on CUDA when it is importable and supports the network, else torch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from render.assets import Color, PinholeCamera, Rect, RenderOutput
from render.nerf.model import NerfModel, RayRender
from render.nerf.model_components.renderers import RenderBackend, TorchBackend
from vpstage.geometry import OrientedBox

BackendName = Literal["auto", "torch", "triton"]
BOUNDS_TRIM = 0.005
"""Fraction of occupied cells trimmed from each side for ``bounds()``."""
PINHOLE_CHUNK = 1 << 22


def trimmed_bounds(points: np.ndarray, render_box: OrientedBox | None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of (N, 3) asset-frame ``points`` with ``BOUNDS_TRIM`` of them left out at each end of
    every axis (stray occupied cells), clipped to ``render_box``."""
    lo = np.quantile(points, BOUNDS_TRIM, axis=0)
    hi = np.quantile(points, 1.0 - BOUNDS_TRIM, axis=0)
    if render_box is not None:
        box_lo, box_hi = render_box.aabb()
        lo, hi = np.maximum(lo, box_lo), np.minimum(hi, box_hi)
    return lo, np.maximum(hi, lo)


def make_backend(name: BackendName, model: NerfModel) -> RenderBackend:
    """The render backend for ``model`` on its device; RuntimeError when ``triton`` cannot run there."""
    if name == "torch":
        return TorchBackend()
    from render.nerf.kernels import triton_unavailable_reason

    reason = triton_unavailable_reason(model.device, model.field.config)
    if reason is None:
        from render.nerf.kernels.triton_backend import TritonBackend

        return TritonBackend(model.field)
    if name == "triton":
        raise RuntimeError(f"Triton backend unavailable: {reason}")
    return TorchBackend()


class NerfAsset:
    """A hash-grid NeRF asset (``kind == 'nerf'``, ``supports_rays``)."""

    kind = "nerf"
    supports_rays = True

    def __init__(self, model: NerfModel, name: str, backend: BackendName = "auto") -> None:
        self.model = model
        self.name = name
        self.backend_name: BackendName = backend
        self._backend: RenderBackend | None = None
        self.last_stats = None

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def backend(self) -> RenderBackend:
        if self._backend is None:
            self._backend = make_backend(self.backend_name, self.model)
        return self._backend

    def to(self, device: str | torch.device) -> NerfAsset:
        self.model.to(device)
        self._backend = None
        return self

    def with_backend(self, backend: BackendName) -> NerfAsset:
        """The same model rendered by another backend (shares the tensors)."""
        return NerfAsset(self.model, self.name, backend)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        points = self.model.occupied_points()
        if len(points) == 0:
            box = self.model.box_to_asset(OrientedBox.from_aabb(self.model.aabb_min, self.model.aabb_max))
            return box.aabb()
        return trimmed_bounds(points, self.model.render_box)

    def content_hash(self) -> str:
        return self.model.content_hash()

    # ------------------------------------------------------------------ rendering
    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        """Asset-frame rays (N, 3), unit directions; depth is the distance along the ray (0 where alpha is 0)."""
        result = self._render(origins, directions, crop, background)
        return RenderOutput(result.rgb, result.alpha, torch.where(result.alpha > 0, result.distance, 0.0))

    def _render(self, origins: torch.Tensor, dirs: torch.Tensor, crop: OrientedBox | None,
                background: Color) -> RayRender:
        with torch.no_grad():
            result = self.model.render_rays(origins, dirs, self.backend, crop, background)
        self.last_stats = result.stats
        return result

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None, crop: OrientedBox | None = None,
                       background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        """Render an OpenCV pinhole (or a ``rect`` window of it); depth is camera-z in asset units."""

        def trace(origins: torch.Tensor, dirs: torch.Tensor) -> RenderOutput:
            out = self._render(origins, dirs, crop, background)
            return RenderOutput(out.rgb, out.alpha, torch.where(out.alpha > 0, out.distance, 0.0))

        return render_pinhole_by_rays(camera, rect, self._effective_crop(crop), background, self.device, trace)

    def _effective_crop(self, crop: OrientedBox | None) -> OrientedBox:
        """The smallest box known to hold everything renderable: the caller's crop, else the render box or aabb."""
        if crop is not None:
            return crop
        if self.model.render_box is not None:
            return self.model.render_box
        return self.model.box_to_asset(OrientedBox.from_aabb(self.model.aabb_min, self.model.aabb_max))


def render_pinhole_by_rays(camera: PinholeCamera, rect: Rect | None, box: OrientedBox, background: Color,
                           device: torch.device, trace: Callable[[torch.Tensor, torch.Tensor], RenderOutput]
                           ) -> RenderOutput:
    """A pinhole (or its ``rect`` window) rendered by a ray renderer: ``trace(origins, dirs)`` gives
    colour, coverage and distance per ray; only the part of the window where ``box`` can appear is
    traced, the rest is ``background`` with no coverage. The rays have unit camera-z directions,
    so a ray's distance is its camera-z depth."""
    x0, y0, x1, y1 = rect if rect is not None else (0, 0, camera.width, camera.height)
    h, w = y1 - y0, x1 - x0
    rgb = torch.empty(h, w, 3, device=device)
    rgb[:] = torch.tensor(background, dtype=torch.float32, device=device)
    alpha = torch.zeros(h, w, device=device)
    depth = torch.zeros(h, w, device=device)
    window = crop_window(camera, (x0, y0, x1, y1), box)
    if window is None:
        return RenderOutput(rgb, alpha, depth)
    wx0, wy0, wx1, wy1 = window
    out = trace(*pinhole_rays(camera, window, device))
    sub = (slice(wy0 - y0, wy1 - y0), slice(wx0 - x0, wx1 - x0))
    shape = (wy1 - wy0, wx1 - wx0)
    rgb[sub] = out.rgb.reshape(*shape, 3)
    alpha[sub] = out.alpha.reshape(shape)
    depth[sub] = out.depth.reshape(shape)
    return RenderOutput(rgb, alpha, depth)


def pinhole_rays(camera: PinholeCamera, rect: Rect, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Asset-frame rays through pixel centres of ``rect``, row-major; directions have camera-z = 1."""
    x0, y0, x1, y1 = rect
    c2w = torch.as_tensor(camera.camera_to_world(), dtype=torch.float64, device=device)
    v, u = torch.meshgrid(torch.arange(y0, y1, device=device, dtype=torch.float64),
                          torch.arange(x0, x1, device=device, dtype=torch.float64), indexing="ij")
    cam = torch.stack([(u + 0.5 - camera.cx) / camera.fx, (v + 0.5 - camera.cy) / camera.fy,
                       torch.ones_like(u)], dim=-1).reshape(-1, 3)
    dirs = cam @ c2w[:3, :3].T
    origins = c2w[:3, 3].expand_as(dirs)
    return origins.float().contiguous(), dirs.float().contiguous()


def crop_window(camera: PinholeCamera, rect: Rect, box: OrientedBox) -> Rect | None:
    """The part of ``rect`` that the projected box can cover (the DoD launch rectangle).

    Conservative: when a box corner lies behind the camera the whole ``rect`` is returned.
    None when the box projects outside ``rect``.
    """
    corners = box.corners()
    cam = corners @ camera.world_to_camera[:3, :3].T + camera.world_to_camera[:3, 3]
    if np.any(cam[:, 2] <= 1e-6):
        return rect
    u = camera.fx * cam[:, 0] / cam[:, 2] + camera.cx
    v = camera.fy * cam[:, 1] / cam[:, 2] + camera.cy
    x0 = max(rect[0], int(np.floor(u.min())))
    y0 = max(rect[1], int(np.floor(v.min())))
    x1 = min(rect[2], int(np.ceil(u.max())) + 1)
    y1 = min(rect[3], int(np.ceil(v.max())) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return (x0, y0, x1, y1)
