"""The scene renderer workers plug in (``WorkerSpec.scene_renderer = "render.scene:build_scene_renderer"``).

Per canvas of a job (on the worker's thread, on its device):

1. **outer**: every LED pixel's outer colour from the node's cube-map cache (``outer.py``),
   re-rendered only when the job's outer cache key changes;
2. **inner**, per inner view (camera): the exact inner pixels, their UV and soft-edge weights
   (``inner_pixels.py``, from the camera state and frustum settings the planner sent), each
   enabled asset's layer over them cropped to this canvas's DoD crop in its own frame
   (``inner.py``), composited by depth (``layers.py``) over the background, and blended over the
   outer colour with the soft-edge weights;
3. written into the BGRX canvas (R, G, B in 0..1 -> 8 bits, no transfer function: assets hold
   display-referred colour).

Any SceneAsset works: splats through pinhole cameras, ray-capable assets (NeRF) by rays. An
enabled asset that failed to load makes its canvases show the error card with the reason.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from render.assets import PinholeCamera, SceneAsset
from render.scene.inner import inner_layer, placement_scale
from render.scene.inner_pixels import InnerPixels, inner_pixels
from render.scene.layers import Layer, composite
from render.scene.loaded import LoadedAsset, SceneBounds, load_scene
from render.scene.outer import OuterCache, PlacedAssets
from render.worker import CanvasError
from vpstage.engine.jobs import AssetPlacement, CanvasImage, CanvasJob, InnerView, SceneContent
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.dod import dod_crop
from vpstage.frustum.node import StageFrustum, dod_image_bounds
from vpstage.stage import Stage

Placed = tuple[LoadedAsset, np.ndarray, float]
"""An enabled asset with its stage -> scene matrix and scale."""


class SceneCanvasRenderer:
    """Implements ``render.worker.SceneRenderer`` for any mix of scene assets.

    ``assets`` (name -> LoadedAsset) defaults to loading the project's scene on ``device``.
    Built and used on one worker thread.
    """

    def __init__(self, stage: Stage, device: str, assets: dict[str, LoadedAsset] | None = None) -> None:
        self.stage = stage
        self.device = torch.device(device)
        self.assets = assets if assets is not None else load_scene(stage, device)
        self.frusta = StageFrustum(stage)
        self.bounds = SceneBounds(stage)
        self.outer = OuterCache(self.frusta.geometry, [c.name for c in stage.project.canvases], self.device)
        # Each worker renders on its own stream: workers sharing a process (embedded cluster) then
        # never wait on each other's work, nor on the legacy default stream.
        self.stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None

    def warm_up(self) -> None:
        """Render a small view of every loaded asset once, so kernel compilation (Triton JIT) and
        buffer allocation happen before the worker reports ready rather than in the first frames."""
        with self._on_stream():
            for loaded in self.assets.values():
                if loaded.asset is not None:
                    warm_up_asset(loaded.asset)
            if self.stream is not None:
                self.stream.synchronize()

    def _on_stream(self) -> contextlib.AbstractContextManager[object]:
        return torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()

    def describe(self) -> dict[str, object]:
        """What this renderer loaded (for ``RenderWorker.info``): asset -> path, kind, hash, error."""
        return {"device": str(self.device), "assets": {name: a.describe() for name, a in self.assets.items()}}

    def close(self) -> None:
        self.assets = {}

    # ------------------------------------------------------------------ one canvas

    def render_canvas(self, job: CanvasJob, content: SceneContent, out: CanvasImage) -> None:
        with self._on_stream():
            self._render_canvas(job, content, out)

    def _render_canvas(self, job: CanvasJob, content: SceneContent, out: CanvasImage) -> None:
        placed = self._placed(content.placements)
        background = torch.tensor(content.quality.background, dtype=torch.float32, device=self.device)
        count = job.width * job.height
        if content.outer is not None:
            assets: PlacedAssets = [(loaded.asset, matrix, scale) for loaded, matrix, scale in placed
                                    if loaded.asset is not None]
            colour = self.outer.image(job.canvas, content.outer.cache_key, content.outer.viewpoint, assets,
                                      content.quality.outer_scale, background).clone()
        else:
            colour = background.expand(count, 3).clone()
        for view in content.inner:
            self._blend_inner(job.canvas, view, content, placed, background, colour)
        write_bgrx(colour.reshape(job.height, job.width, 3), out)

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
        frustum = self.frusta.canvas(canvas, view.frustum())
        pixels = inner_pixels(frustum, self.device)
        if not len(pixels):
            return
        layers = [self._asset_layer(loaded, matrix, frustum, pixels, content.quality.inner_scale)
                  for loaded, matrix, _ in placed]
        inner = composite([layer for layer in layers if layer is not None], background, len(pixels))
        weight = pixels.weight[:, None]
        colour[pixels.index] = weight * inner + (1.0 - weight) * colour[pixels.index]

    def _asset_layer(self, loaded: LoadedAsset, matrix: np.ndarray, frustum: CanvasFrustum, pixels: InnerPixels,
                     inner_scale: float) -> Layer | None:
        """One asset over the inner pixels, cropped to this canvas's DoD in its frame (None when the
        crop is empty: nothing of the asset can appear there)."""
        assert loaded.asset is not None and frustum.image_bounds is not None
        bounds = self.bounds.of(loaded.model, matrix)
        crop = dod_crop(frustum.frustum, dod_image_bounds(frustum.image_bounds, frustum.frustum), matrix, bounds)
        if crop is None:
            return None
        return inner_layer(loaded.asset, frustum, pixels, matrix, crop.box, inner_scale)


def write_bgrx(rgb: torch.Tensor, out: CanvasImage) -> None:
    """(H, W, 3) float RGB 0..1 -> ``out`` (H, W, 4) uint8 B G R X (X = 255).

    The BGRX picture is assembled on the render device and copied out once: on a GPU node that is
    one device-to-host copy (torch releases the GIL for it) instead of three strided numpy copies.
    """
    pixels = (rgb.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
    opaque = torch.full((*pixels.shape[:-1], 1), 255, dtype=torch.uint8, device=pixels.device)
    torch.from_numpy(out).copy_(torch.cat([pixels.flip(-1), opaque], dim=-1))


def warm_up_asset(asset: SceneAsset) -> None:
    """Small renders of ``asset`` looking at the middle of its bounds (compile its kernels)."""
    lo, hi = (np.asarray(v, dtype=np.float64) for v in asset.bounds())
    centre, reach = (lo + hi) / 2, float(np.linalg.norm(hi - lo)) / 2 + 1e-3
    eye = centre - np.array([0.0, 2.0 * reach, 0.0])
    world_to_camera = np.eye(4)
    world_to_camera[:3, :3] = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # look along +y
    world_to_camera[:3, 3] = -world_to_camera[:3, :3] @ eye
    camera = PinholeCamera(world_to_camera, 48.0, 48.0, 32.0, 32.0, 64, 64)
    for _ in range(2):  # the second frame captures the fast path's graph (and tunes its launch shape)
        asset.render_pinhole(camera)
    if asset.supports_rays:
        origins = torch.as_tensor(np.tile(eye, (64, 1)), dtype=torch.float32, device=asset.device)
        directions = torch.zeros_like(origins)
        directions[:, 1] = 1.0
        asset.render_rays(origins, directions)


def build_scene_renderer(stage: Stage, device: str) -> SceneCanvasRenderer:
    """The worker's factory (``"render.scene:build_scene_renderer"``): loads the project's scene
    assets once on ``device``."""
    return SceneCanvasRenderer(stage, device)
