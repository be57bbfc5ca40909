"""One camera-view render per camera and asset for all of a node's canvases in a frame.

A node renders several canvases that the same tracked camera sees (the demo stage's node1: the
left and centre walls). Rendering the camera's view of an asset once per canvas repeats the
asset's per-splat work (projection, sorting, binning) for every canvas; a splat scene of a few
hundred thousand splats costs about the same whatever the window. So per frame, the first canvas
that needs the camera's view of an asset renders it once over the **union** of the inner windows
of every canvas of the job that camera sees (at the finest LED density among them, cropped to the
union of their DoD image bounds), and every canvas samples its own inner pixels from it.

Used by ``render.scene.renderer.SceneCanvasRenderer``: ``begin`` with the node's job at the start
of a frame; without it (a canvas rendered on its own) a canvas shares with nobody.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch

from render.assets import SceneAsset
from render.scene.inner import camera_view, led_image_size, placement_scale
from render.scene.inner_pixels import InnerPixels, inner_pixels
from render.scene.window_source import WindowSource
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.dod import ImageBounds, dod_crop
from vpstage.frustum.kooima import inner_pinhole
from vpstage.frustum.node import StageFrustum, dod_image_bounds
from vpstage.geometry import OrientedBox
from vpstage.nodes.jobs import CanvasJob, FrameJob, InnerView, SceneContent


class SharedCameraViews:
    """Per-frame caches: each canvas's exact inner pixels per camera, and the shared renders."""

    def __init__(self, frusta: StageFrustum, device: torch.device) -> None:
        self.frusta, self.device = frusta, device
        self._members: dict[str, list[tuple[str, InnerView]]] = {}
        self._pixels: dict[tuple[str, str], tuple[CanvasFrustum, InnerPixels]] = {}
        self._renders: dict[tuple[str, str], WindowSource | None] = {}
        self._jobs: set[int] = set()
        self.renders = 0
        """Camera-view renders made since start (tests: one per camera and asset per frame)."""

    def begin(self, job: FrameJob) -> None:
        """A new frame: the canvases of ``job`` share."""
        self._start([(c, c.content) for c in job.canvases])

    def begin_alone(self, canvas: CanvasJob, content: SceneContent) -> None:
        """``canvas`` rendered on its own with ``content``: it shares with nobody."""
        self._start([(canvas, content)])

    def _start(self, canvases: list[tuple[CanvasJob, object]]) -> None:
        self._pixels, self._renders, self._members = {}, {}, {}
        self._jobs = {id(canvas) for canvas, _ in canvases}
        for canvas, body in canvases:
            if isinstance(body, SceneContent):
                for view in body.inner:
                    self._members.setdefault(view.camera, []).append((canvas.canvas, view))

    def covers(self, canvas: CanvasJob) -> bool:
        """Whether ``canvas`` (this very job) belongs to the frame begun last."""
        return id(canvas) in self._jobs

    def pixels(self, canvas: str, view: InnerView) -> tuple[CanvasFrustum, InnerPixels]:
        """The exact inner pixels of ``canvas`` for ``view``'s camera (computed once a frame)."""
        key = (canvas, view.camera)
        found = self._pixels.get(key)
        if found is None:
            frustum = self.frusta.canvas(canvas, view.frustum())
            found = (frustum, inner_pixels(frustum, self.device))
            self._pixels[key] = found
        return found

    def window(self, view: InnerView, asset: SceneAsset, asset_name: str, stage_to_scene: np.ndarray,
               bounds_of: Callable[[], OrientedBox | None], inner_scale: float) -> WindowSource | None:
        """The frame's shared render of ``asset`` through ``view``'s camera, for the sharing canvases
        to sample at their inner pixels (None when nothing of the asset can appear in any of them)."""
        key = (view.camera, asset_name)
        if key not in self._renders:
            self._renders[key] = self._render(view, asset, stage_to_scene, bounds_of, inner_scale)
        return self._renders[key]

    def _render(self, view: InnerView, asset: SceneAsset, stage_to_scene: np.ndarray,
                bounds_of: Callable[[], OrientedBox | None], inner_scale: float) -> WindowSource | None:
        parts = [part for part in (self.pixels(name, member) for name, member in self._members[view.camera])
                 if len(part[1]) and part[0].image_bounds is not None]
        if not parts:
            return None
        frustum = parts[0][0].frustum
        bounds = functools.reduce(ImageBounds.union, [f.image_bounds for f, _ in parts if f.image_bounds])
        crop = dod_crop(frustum, dod_image_bounds(bounds, frustum), stage_to_scene, bounds_of())
        if crop is None:
            return None
        sizes = [led_image_size(f, inner_scale) for f, _ in parts]
        size = (max(w for w, _ in sizes), max(h for _, h in sizes))
        windows = [p.uv_window() for _, p in parts]
        window = (min(w[0] for w in windows), min(w[1] for w in windows), max(w[2] for w in windows),
                  max(w[3] for w in windows))
        pinhole = inner_pinhole(frustum, size[0], size[1], stage_to_scene, window)
        rect = pinhole.rect_for(window, margin_px=1)
        out = asset.render_pinhole(camera_view(pinhole), rect=rect, crop=crop.box, background=(0.0, 0.0, 0.0))
        self.renders += 1
        return WindowSource(out=out, rect=rect, size=size, scale=placement_scale(stage_to_scene))
