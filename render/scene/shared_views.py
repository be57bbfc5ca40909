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

Tiles (``cluster.assign_tiles``, ``render.node.tiles``): the job may give bands of a view to other
nodes. The owner then renders only the bands it keeps, takes the others from its
:class:`~render.node.tiles.TileExchange` (rendering any that do not come in time itself) and
assembles the same window; a helper renders the bands it was given of another node's view with
:meth:`SharedCameraViews.render_tile`, from the same geometry (:meth:`SharedCameraViews.geometry`:
the owner's canvases' exact inner pixels for the camera, computed on the helper).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from render.assets import RenderOutput, SceneAsset
from render.node.tiles import TileExchange
from render.scene.inner import placement_scale
from render.scene.inner_pixels import InnerPixels, inner_pixels
from render.scene.window_source import WindowSource
from vpstage.frustum.camera_view import SharedCameraView, shared_camera_view
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.node import StageFrustum
from vpstage.geometry import OrientedBox
from vpstage.nodes.jobs import CanvasJob, FrameJob, InnerView, SceneContent, TileJob
from vpstage.nodes.tiles import Rect, band_rects, runs, span


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
        self.exchange: TileExchange | None = None
        """Where bands given to other nodes come back (None: this node never splits its views)."""
        self._frame = 0
        self._remote: dict[tuple[str, str], list[TileJob]] = {}
        """(camera, asset) -> this frame's bands of that view other nodes render."""

    def begin(self, job: FrameJob, exchange_tiles: bool = True) -> None:
        """A new frame: the canvases of ``job`` share. ``exchange_tiles`` False: the frame again
        (after a pair-buffer overflow): its bands from other nodes were used up by the first
        render, so this node renders its views whole, without waiting for anyone."""
        self._start([(c, c.content) for c in job.canvases])
        self._frame = job.frame
        if self.exchange is not None and exchange_tiles:
            self.exchange.open_frame(job.frame)
            for tile in job.tiles:
                if tile.owner == job.node and tile.helper != job.node:
                    self._remote.setdefault((tile.camera, tile.asset), []).append(tile)

    def begin_alone(self, canvas: CanvasJob, content: SceneContent) -> None:
        """``canvas`` rendered on its own with ``content``: it shares with nobody."""
        self._start([(canvas, content)])

    def _start(self, canvases: list[tuple[CanvasJob, object]]) -> None:
        self._pixels, self._renders, self._members, self._remote = {}, {}, {}, {}
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
            self._renders[key] = self._render(view, asset, asset_name, stage_to_scene, bounds_of, inner_scale)
        return self._renders[key]

    def _render(self, view: InnerView, asset: SceneAsset, asset_name: str, stage_to_scene: np.ndarray,
                bounds_of: Callable[[], OrientedBox | None], inner_scale: float) -> WindowSource | None:
        members = self._members[view.camera]
        geometry = self.geometry(members, stage_to_scene, bounds_of, inner_scale)
        if geometry is None:
            return None
        remote = self._remote.get((view.camera, asset_name), [])
        if remote and {frozenset(t.canvases) for t in remote} != {frozenset(name for name, _ in members)}:
            assert self.exchange is not None
            self.exchange.count("mismatch", len(remote))  # planned for other canvases: render it all here
            remote = []
        out = self._render_split(geometry, asset, remote) if remote else self._render_rect(geometry, asset,
                                                                                           geometry.rect)
        self.renders += 1
        return WindowSource(out=out, rect=geometry.rect, size=geometry.size, scale=placement_scale(stage_to_scene))

    def geometry(self, members: list[tuple[str, InnerView]], stage_to_scene: np.ndarray,
                 bounds_of: Callable[[], OrientedBox | None], inner_scale: float) -> SharedCameraView | None:
        """The view shared by ``members`` (canvas, its view of one camera): over the union of their
        inner windows, at the finest LED density among them, cropped to their DoD together."""
        parts = [(frustum, pixels.runs) for frustum, pixels in (self.pixels(name, member) for name, member in members)]
        if not any(runs.pixels for _, runs in parts):
            return None  # nothing to see: the asset's bounds are not worked out
        return shared_camera_view(parts, stage_to_scene, bounds_of(), inner_scale)

    @staticmethod
    def _render_rect(geometry: SharedCameraView, asset: SceneAsset, rect: Rect) -> RenderOutput:
        return asset.render_pinhole(geometry.pinhole.camera, rect=rect, crop=geometry.crop.box,
                                    background=(0.0, 0.0, 0.0))

    def _render_split(self, geometry: SharedCameraView, asset: SceneAsset, remote: list[TileJob]) -> RenderOutput:
        """The view assembled from the bands this node keeps and those other nodes rendered (any
        band that does not come back in time is rendered here)."""
        exchange = self.exchange
        assert exchange is not None
        count = remote[0].count
        bands = band_rects(geometry.rect, count)
        given = {t.index: t for t in remote if t.count == count}
        x0, y0, x1, y1 = geometry.rect
        rgb = torch.zeros((y1 - y0, x1 - x0, 3), dtype=torch.float32, device=self.device)
        alpha = torch.zeros((y1 - y0, x1 - x0), dtype=torch.float32, device=self.device)
        depth = torch.zeros_like(alpha)

        def paste(rect: Rect, out: RenderOutput) -> None:
            rows, cols = slice(rect[1] - y0, rect[3] - y0), slice(rect[0] - x0, rect[2] - x0)
            rgb[rows, cols] = out.rgb.to(device=self.device, dtype=torch.float32)
            alpha[rows, cols] = out.alpha.to(device=self.device, dtype=torch.float32)
            depth[rows, cols] = out.depth.to(device=self.device, dtype=torch.float32)

        for first, end in runs(i for i in range(count) if i not in given):
            rect = span(bands, first, end)
            if rect[3] > rect[1]:
                paste(rect, self._render_rect(geometry, asset, rect))
        for index in sorted(given):
            rect = bands[index]
            if rect[3] <= rect[1]:
                continue
            out = exchange.wait(self._frame, given[index], rect, self.device)
            if out is None:
                exchange.count("local_fallback")
                out = self._render_rect(geometry, asset, rect)
            paste(rect, out)
        return RenderOutput(rgb=rgb, alpha=alpha, depth=depth)

    def render_tile(self, tile: TileJob, asset: SceneAsset, stage_to_scene: np.ndarray,
                    bounds_of: Callable[[], OrientedBox | None]) -> tuple[Rect, RenderOutput] | None:
        """Band ``tile`` of another node's view (its rectangle and render), or None when that view
        shows nothing of the asset or the band is empty (the owner computes the same and does not
        wait for it)."""
        if tile.view is None:
            return None
        geometry = self.geometry([(name, tile.view) for name in tile.canvases], stage_to_scene, bounds_of,
                                 tile.inner_scale)
        if geometry is None:
            return None
        rect = band_rects(geometry.rect, tile.count)[tile.index]
        if rect[3] <= rect[1]:
            return None
        return rect, self._render_rect(geometry, asset, rect)
