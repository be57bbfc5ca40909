"""The scene renderer render nodes plug in (``NodeSpec.scene_renderer = "render.scene:build_scene_renderer"``).

Per canvas of a job (on the node's render thread, on its device and its current CUDA stream):

1. **outer**: every LED pixel's outer colour from the node's cube-map cache (``outer.py``),
   re-rendered only when the job's outer cache key changes;
2. **inner**, per inner view (camera): the exact inner pixels, their UV and soft-edge weights
   (``inner_pixels.py``, from the camera state and frustum settings the planner sent), each
   enabled asset's layer over them cropped to this canvas's DoD crop in its own frame
   (``inner.py``), composited by depth (``layers.py``) over the background, and blended over what
   is there with the view's soft-edge weights. Views are blended in the order ``content.inner``
   lists them, bottom first: the node lists them by priority, the active camera last
   (``vpstage.nodes.orders.blend_order``), so where inner frusta overlap the higher camera's inner
   pixels win and its soft edge fades into the lower camera's picture, not into the outer one;
3. left in the canvas's colour buffer on the device ((H, W, 3) float RGB 0..1, no transfer
   function: assets hold display-referred colour); the node packs it into its outputs' format
   (``render.node.pixel_formats``) and copies it to host memory once.

Any SceneAsset works: splats through pinhole cameras, ray-capable assets (NeRF) by rays. An
enabled asset that failed to load makes its canvases show the error card with the reason.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.profiler import record_function

from render.assets import PinholeCamera, RenderOutput, SceneAsset
from render.host_to_device import upload
from render.node.canvas_errors import CanvasError
from render.node.tiles import TileExchange
from render.scene.asset_colour import in_working_space
from render.scene.inner import placement_scale, rays_layer
from render.scene.inner_blend import Source, blend_inner, fused_available
from render.scene.inner_pixels import InnerPixels
from render.scene.loaded import LoadedAsset, SceneBounds, load_scene
from render.scene.outer import OuterCache, PlacedAssets
from render.scene.shared_views import SharedCameraViews
from render.scene.window_source import WindowSource
from vpstage.frame_master.scene_state import SceneState
from vpstage.frustum.camera_view import canvas_crop
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.node import StageFrustum
from vpstage.geometry import OrientedBox
from vpstage.nodes.jobs import AssetPlacement, CanvasJob, FrameJob, InnerView, RenderQuality, SceneContent, TileJob
from vpstage.stage import Stage

Placed = tuple[LoadedAsset, np.ndarray, float]
"""An enabled asset with its stage -> scene matrix and scale."""


class SceneCanvasRenderer:
    """Implements ``render.node.frame_renderer.SceneRenderer`` for any mix of scene assets.

    ``assets`` (name -> LoadedAsset) defaults to loading the project's scene on ``device``.
    Built and used on one render thread; renders on the caller's current CUDA stream.
    """

    def __init__(self, stage: Stage, device: str, assets: dict[str, LoadedAsset] | None = None) -> None:
        self.stage = stage
        self.device = torch.device(device)
        loaded = assets if assets is not None else load_scene(stage, device)
        self.assets = in_working_space(loaded, stage.project, stage.layout.base_dir)
        self.frusta = StageFrustum(stage)
        self.bounds = SceneBounds(stage)
        self.outer = OuterCache(self.frusta.geometry, [c.name for c in stage.project.canvases], self.device)
        self.views = SharedCameraViews(self.frusta, self.device)

    def begin_frame(self, job: FrameJob) -> None:
        """A new frame of the node: its canvases that see the same camera share that camera's view
        of each asset (``render.scene.shared_views``). Bands of other nodes' views the job gives
        this node are rendered now, before its own canvases, and sent back (``render.node.tiles``)."""
        self.views.begin(job)
        exchange = self.views.exchange
        if exchange is not None:
            for tile in job.tiles:
                if tile.helper == job.node and tile.owner != job.node:
                    with record_function("vpstage.tile"):
                        self._render_tile(job.frame, tile, exchange)

    def begin_retry(self, job: FrameJob) -> None:
        """``job``'s frame once more, after a splat layer ran out of pair room
        (``render.splat.pair_checks``): the bands this node rendered for others were sent, and
        those others rendered for it were used, so it renders its own views whole."""
        self.views.begin(job, exchange_tiles=False)

    def attach_tiles(self, exchange: TileExchange) -> None:
        """Take part in the tile exchange (the node runtime calls this once)."""
        self.views.exchange = exchange

    def _render_tile(self, frame: int, tile: TileJob, exchange: TileExchange) -> None:
        loaded = self.assets.get(tile.asset)
        placement = tile.placement
        if loaded is None or loaded.asset is None or placement is None or not placement.enabled \
                or (loaded.asset.supports_rays and tile.inner_scale >= 1.0):
            exchange.count("helper_skipped")  # the owner renders it by rays, or cannot show it
            return
        matrix = np.asarray(placement.stage_to_scene, dtype=np.float64)
        start = time.perf_counter()
        band = self.views.render_tile(tile, loaded.asset, matrix, lambda: self.bounds.of(loaded.model, matrix))
        if band is None:
            exchange.count("helper_empty")
            return
        exchange.send(frame, tile, band[0], band[1], (time.perf_counter() - start) * 1e3)

    def warm_up(self) -> None:
        """Render a view of every loaded asset, so kernel compilation (Triton JIT), buffer
        allocation and graph capture happen before the node reports ready rather than in the first
        frames. On a GPU the view is as large as the stage's largest canvas: the fast rasterizer
        sizes its tile grid by the largest window it has seen (with headroom), and live camera
        views rarely exceed it, so live frames reuse the buffers and the graph built here (a
        grid much larger than the windows costs time every frame: measured, twice the canvas
        made the demo's node1 1.3x slower). Then the fused inner blend is compiled for as many
        assets as there are, with the assets' own output layout."""
        canvases = self.frusta.stage.project.canvases
        size = (max(c.width for c in canvases), max(c.height for c in canvases)) \
            if canvases and self.device.type == "cuda" else (64, 64)
        windows = []
        for loaded in self.assets.values():
            if loaded.asset is not None:
                out = warm_up_asset(loaded.asset, size)
                windows.append(WindowSource(out=out, rect=(0, 0, out.alpha.shape[1], out.alpha.shape[0]),
                                            size=(out.alpha.shape[1], out.alpha.shape[0]), scale=1.0))
        if fused_available(self.device, windows[:1]):
            from render.scene.triton_inner_blend import warm_up as warm_up_blend

            soft = {c.soft_edge_pct > 0 for c in self.stage.project.cameras} or {False}
            warm_up_blend(windows, soft, self.device)

    def warm_outer(self, canvases: list[str]) -> None:
        """Fill the outer cache for ``canvases`` as the first frames will ask for it (the project's
        scene and outer viewpoint at the default quality), so the first frame does not render the
        cube map. A run at another quality or viewpoint renders it in its first frame instead (the
        node calls this on a GPU only: CPU rehearsals run at reduced quality)."""
        state = SceneState.build(self.stage.project.scene, self.stage.project.outer_viewpoint, RenderQuality())
        try:
            placed = self._placed(state.placements)
        except CanvasError:
            return  # an asset failed to load: its canvases show why, there is nothing to cache
        assets: PlacedAssets = [(loaded.asset, matrix, scale) for loaded, matrix, scale in placed
                                if loaded.asset is not None]
        background = upload(state.quality.background, torch.float32, self.device)
        outer = state.outer
        for canvas in canvases:
            self.outer.image(canvas, outer.cache_key, outer.viewpoint, assets, state.quality.outer_scale, background)

    def describe(self) -> dict[str, object]:
        """What this renderer loaded (the node's ``Ready`` info, ``scene``): asset -> path, kind, hash, error."""
        return {"device": str(self.device), "assets": {name: a.describe() for name, a in self.assets.items()}}

    def close(self) -> None:
        self.assets = {}

    # ------------------------------------------------------------------ one canvas

    def render_canvas(self, job: CanvasJob, content: SceneContent, colour: torch.Tensor) -> None:
        """Fill ``colour`` ((H, W, 3) float32 on this device) with the canvas's scene colour."""
        if content is not job.content or not self.views.covers(job):
            self.views.begin_alone(job, content)  # rendered on its own: it shares with nobody
        placed = self._placed(content.placements)
        background = upload(content.quality.background, torch.float32, self.device)
        count = job.width * job.height
        flat = colour.view(count, 3)
        if content.outer is not None:
            assets: PlacedAssets = [(loaded.asset, matrix, scale) for loaded, matrix, scale in placed
                                    if loaded.asset is not None]
            with record_function("vpstage.outer"):
                outer = self.outer.image(job.canvas, content.outer.cache_key, content.outer.viewpoint, assets,
                                         content.quality.outer_scale, background)
                flat.copy_(outer)
        else:
            flat.copy_(background.expand(count, 3))
        for view in content.inner:  # bottom first: each higher camera is blended over the ones below
            self._blend_inner(job.canvas, view, content, placed, background, flat)

    def _placed(self, placements: tuple[AssetPlacement, ...]) -> list[Placed]:
        """Enabled assets with their placement; CanvasError if one of them failed to load."""
        out = []
        for placement in placements:
            if not placement.enabled:
                continue
            loaded = self.assets.get(placement.asset)
            if loaded is None:
                raise CanvasError(f"scene asset {placement.asset} is not loaded on this node")
            if loaded.asset is None:
                raise CanvasError(loaded.error or f"scene asset {placement.asset} failed to load")
            matrix = np.asarray(placement.stage_to_scene, dtype=np.float64)
            out.append((loaded, matrix, placement_scale(matrix)))
        return out

    def _blend_inner(self, canvas: str, view: InnerView, content: SceneContent, placed: list[Placed],
                     background: torch.Tensor, colour: torch.Tensor) -> None:
        if view.state is None:
            raise CanvasError(f"inner view of camera {view.camera} carries no camera state (planner too old?)")
        with record_function("vpstage.inner_pixels"):
            frustum, pixels = self.views.pixels(canvas, view)
        if not len(pixels):
            return
        sources = []
        for loaded, matrix, _ in placed:
            with record_function(f"vpstage.layer.{loaded.model.name}"):
                source = self._asset_source(loaded, matrix, view, frustum, pixels, content.quality.inner_scale)
            if source is not None:
                sources.append(source)
        with record_function("vpstage.composite"):
            blend_inner(colour, pixels, sources, background)

    def _asset_source(self, loaded: LoadedAsset, matrix: np.ndarray, view: InnerView, frustum: CanvasFrustum,
                      pixels: InnerPixels, inner_scale: float) -> Source | None:
        """One asset for the inner pixels (None when nothing of it can appear there): a layer by
        rays, cropped to this canvas's DoD in the asset's frame; or the camera view this frame's
        canvases share (cropped to their DoD together), to be sampled at the pixels."""
        asset = loaded.asset
        assert asset is not None and frustum.image_bounds is not None
        if not (asset.supports_rays and inner_scale >= 1.0):
            return self.views.window(view, asset, loaded.model.name, matrix,
                                     lambda: self.bounds.of(loaded.model, matrix), inner_scale)
        bounds = self.bounds.of(loaded.model, matrix)
        crop = canvas_crop(frustum, matrix, bounds)
        if crop is None:
            return None
        return rays_layer(asset, frustum, pixels, matrix, crop.box)


WARM_DISTANCES = (2.0, 6.0)
"""Distances of the warm-up views from the asset's centre, in bounding radii (at 2 radii the
asset spans three quarters of the view's width)."""


def warm_up_asset(asset: SceneAsset, size: tuple[int, int] = (64, 64)) -> RenderOutput:
    """Renders of ``asset`` looking at the middle of its bounds, ``size`` (W, H) pixels, with and
    without a DoD crop (each is its own compiled kernel and its own set of buffers), so kernels
    compile and buffers are sized before live frames; returns the last render. From near first,
    the asset filling most of the view (``WARM_DISTANCES``), so the buffers for the pairs it makes
    are already as large as a close live view needs: growing them in a live frame rebuilds the
    renderer and captures its graph again (a dropped frame); then from afar."""
    lo, hi = (np.asarray(v, dtype=np.float64) for v in asset.bounds())
    centre, reach = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) / 2 + 1e-3
    width, height = size
    focal = 0.75 * width
    out = None
    for distance in WARM_DISTANCES:
        eye = centre - np.array([0.0, distance * reach, 0.0])
        world_to_camera = np.eye(4)
        world_to_camera[:3, :3] = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # look along +y
        world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ eye
        camera = PinholeCamera(world_to_camera=world_to_camera, fx=focal, fy=focal, cx=width / 2, cy=height / 2,
                               width=width, height=height)
        for crop in (None, OrientedBox.from_aabb(lo, hi)):
            for _ in range(2):  # the second frame captures the fast path's graph (and tunes its launch shape)
                out = asset.render_pinhole(camera, crop=crop)
    if asset.supports_rays:
        origins = torch.as_tensor(np.tile(eye, (64, 1)), dtype=torch.float32, device=asset.device)
        directions = torch.zeros_like(origins)
        directions[:, 1] = 1.0
        asset.render_rays(origins, directions)
    assert out is not None
    return out


def build_scene_renderer(stage: Stage, device: str) -> SceneCanvasRenderer:
    """The worker's factory (``"render.scene:build_scene_renderer"``): loads the project's scene
    assets once on ``device``."""
    return SceneCanvasRenderer(stage, device)


def render_bgrx(renderer: SceneCanvasRenderer, job: CanvasJob, content: SceneContent) -> np.ndarray:
    """One canvas as a host (H, W, 4) uint8 BGRX picture (tests, offline tools)."""
    from render.node.pixel_formats import rgb_to_bgrx

    colour = torch.zeros((job.height, job.width, 3), dtype=torch.float32, device=renderer.device)
    renderer.render_canvas(job, content, colour)
    out = torch.empty((job.height, job.width, 4), dtype=torch.uint8, device=renderer.device)
    return rgb_to_bgrx(colour, out).cpu().numpy()
