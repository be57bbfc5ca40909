"""Per node, per frame: inner pixels of each canvas, counts, launch rectangles and the DoD crop.

This is the planner's entry point::

    frusta = StageFrustum(stage)                       # once per stage (static caches)
    nf = frusta.node("node1", camera, settings, scene_bounds, placement)   # every frame, every node
    nf.canvases["wall-left"].inner_rect                # launch rectangle [x0, y0, x1, y1)
    nf.dod.box                                         # OrientedBox crop in scene space

``compute_node_frustum(stage, ...)`` does the same through a per-stage context kept while the
Stage object lives. Per-frame work is O(cabinet rows) and reads no pixel maps; dense maps
(``mask``, ``uv``, ``weights``, ``rays``) are computed on request. Caches fill lazily and are
meant for one planner thread; a race between threads only computes an entry twice.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.canvas import CanvasFrustum, canvas_frustum
from vpstage.frustum.dod import DodCrop, ImageBounds, dod_crop
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.frustum.geometry import CanvasGeometry, Rect, canvas_geometry
from vpstage.frustum.kooima import InnerPinhole, inner_pinhole
from vpstage.frustum.rays import CanvasRays, canvas_rays, outer_directions, placement_matrix
from vpstage.geometry import OrientedBox
from vpstage.stage import Stage
from vpstage.stage.model import Placement
from vpstage.tracking.camera import CameraState

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class NodeFrustum:
    """One node's inner-frustum result for one camera state."""

    node: str
    frustum: CameraFrustum
    canvases: dict[str, CanvasFrustum]
    image_bounds: ImageBounds | None
    """8-sided image-plane bounds of all the node's inner pixel centres (no margin), or None."""
    stage_to_scene: F64
    scene_bounds: OrientedBox | None
    dod: DodCrop | None
    """The DoD crop for ``scene_bounds`` and the placement; None when no inner pixel can show
    scene content (no inner pixels, or the cone misses the scene bounds)."""

    @property
    def inner_pixels(self) -> int:
        return sum(c.inner_pixels for c in self.canvases.values())

    @property
    def outer_pixels(self) -> int:
        return sum(c.outer_pixels for c in self.canvases.values())

    @property
    def inner_rects(self) -> dict[str, Rect | None]:
        return {name: c.inner_rect for name, c in self.canvases.items()}

    @property
    def uv_window(self) -> tuple[float, float, float, float] | None:
        """(u0, v0, u1, v1): inner-window UV bounds of the node's inner pixel centres, or None."""
        if self.image_bounds is None:
            return None
        x0, x1, y0, y1 = self.image_bounds.window
        xl, xr, yt, yb = self.frustum.window
        return ((x0 - xl) / (xr - xl), (y0 - yt) / (yb - yt), (x1 - xl) / (xr - xl), (y1 - yt) / (yb - yt))

    def pinhole(self, width: int | None = None, height: int | None = None) -> InnerPinhole:
        """The inner window as a scene-frame pinhole with this node's UV window (see kooima.py)."""
        return inner_pinhole(self.frustum, width, height, self.stage_to_scene, self.uv_window)

    def canvas_crop(self, canvas: str) -> DodCrop | None:
        """The DoD crop of one canvas's inner pixels (same bounds and placement as ``dod``).

        Tighter than ``dod`` when the node's canvases see separate parts of the image (a wall and
        the ceiling): a renderer that renders canvas by canvas can crop each with its own box.
        """
        bounds = self.canvases[canvas].image_bounds
        if bounds is None:
            return None
        return dod_crop(self.frustum, dod_image_bounds(bounds, self.frustum), self.stage_to_scene, self.scene_bounds)

    def crop_for(self, scene_bounds: OrientedBox | None, placement: Placement | F64 | None) -> DodCrop | None:
        """The DoD crop for another asset (its bounds in its own frame, its placement)."""
        if self.image_bounds is None:
            return None
        return dod_crop(self.frustum, dod_image_bounds(self.image_bounds, self.frustum),
                        placement_matrix(placement), scene_bounds)


def dod_image_bounds(bounds: ImageBounds, frustum: CameraFrustum) -> ImageBounds:
    """Image bounds grown by the settings' DoD margin (camera-image pixels at the camera's size)."""
    k = frustum.camera.intrinsics()
    return bounds.grown(frustum.settings.dod_margin_px / min(k.fx, k.fy))


def full_frustum_crop(frustum: CameraFrustum, scene_bounds: OrientedBox | None,
                      placement: Placement | F64 | None) -> DodCrop | None:
    """The crop of the whole inner window (every node together at most): the tightness reference."""
    return dod_crop(frustum, ImageBounds.from_window(frustum.window), placement_matrix(placement), scene_bounds)


class StageFrustum:
    """Frustum work for one stage, with its static data cached (canvas geometry, outer rays).

    Holds the stage weakly (so the per-stage context cache does not keep stages alive): keep
    your own reference to the Stage while you use this object.
    """

    def __init__(self, stage: Stage) -> None:
        self._stage = weakref.ref(stage)
        self._geometry: dict[int, CanvasGeometry] = {}
        self._outer: dict[int, tuple[bytes, F32]] = {}

    @property
    def stage(self) -> Stage:
        stage = self._stage()
        if stage is None:
            raise ReferenceError("the Stage of this StageFrustum no longer exists")
        return stage

    def geometry(self, canvas: str | int) -> CanvasGeometry:
        index = self.stage.canvas_index(canvas) if isinstance(canvas, str) else canvas
        if index not in self._geometry:
            self._geometry[index] = canvas_geometry(self.stage.layout, index)
        return self._geometry[index]

    def canvas(self, canvas: str | int, frustum: CameraFrustum) -> CanvasFrustum:
        return canvas_frustum(self.geometry(canvas), frustum)

    def node(self, node: str, camera: CameraState, settings: FrustumSettings | None = None,
             scene_bounds: OrientedBox | None = None, placement: Placement | F64 | None = None) -> NodeFrustum:
        """Everything the planner needs for ``node`` this frame (see the module docstring)."""
        names = self.stage.canvases_of_node(node)
        if not names and node not in {n.name for n in self.stage.project.nodes}:
            raise KeyError(f"no node named {node!r}")
        frustum = CameraFrustum.from_camera(camera, settings)
        canvases = {name: self.canvas(name, frustum) for name in names}
        bounds: ImageBounds | None = None
        for c in canvases.values():
            if c.image_bounds is not None:
                bounds = c.image_bounds if bounds is None else bounds.union(c.image_bounds)
        matrix = placement_matrix(placement)
        crop = None if bounds is None else dod_crop(frustum, dod_image_bounds(bounds, frustum), matrix, scene_bounds)
        return NodeFrustum(node=node, frustum=frustum, canvases=canvases, image_bounds=bounds, stage_to_scene=matrix,
                           scene_bounds=scene_bounds, dod=crop)

    def nodes(self, camera: CameraState, settings: FrustumSettings | None = None,
              scene_bounds: OrientedBox | None = None,
              placement: Placement | F64 | None = None) -> dict[str, NodeFrustum]:
        """``node`` for every node of the stage that owns a canvas."""
        names = dict.fromkeys(c.node for c in self.stage.project.canvases)
        return {n: self.node(n, camera, settings, scene_bounds, placement) for n in names}

    def outer_directions(self, canvas: str | int, placement: Placement | F64 | None = None) -> F32:
        """Cached (H, W, 3) unit scene directions from the project's outer viewpoint (see rays.py).

        One map per canvas is kept; it is rebuilt when the viewpoint or placement changes.
        """
        geometry = self.geometry(canvas)
        matrix = placement_matrix(placement)
        viewpoint = np.asarray(self.stage.project.outer_viewpoint, dtype=np.float64)
        key = viewpoint.tobytes() + matrix.tobytes()
        cached = self._outer.get(geometry.index)
        if cached is None or cached[0] != key:
            cached = (key, outer_directions(geometry, viewpoint, matrix))
            self._outer[geometry.index] = cached
        return cached[1]

    def rays(self, frustum: CanvasFrustum, placement: Placement | F64 | None = None,
             rect: Rect | None = None) -> CanvasRays:
        """Rays of every LED pixel in ``rect`` (default: the whole canvas), scene frame."""
        matrix = placement_matrix(placement)
        outer = self.outer_directions(frustum.geometry.index, matrix)
        viewpoint = np.asarray(self.stage.project.outer_viewpoint, dtype=np.float64)
        return canvas_rays(frustum, outer, viewpoint, matrix, rect)


_CONTEXTS: weakref.WeakKeyDictionary[Stage, StageFrustum] = weakref.WeakKeyDictionary()


def frustum_context(stage: Stage) -> StageFrustum:
    """The StageFrustum kept for ``stage`` while the Stage object lives."""
    context = _CONTEXTS.get(stage)
    if context is None:
        context = StageFrustum(stage)
        _CONTEXTS[stage] = context
    return context


def compute_node_frustum(stage: Stage, node: str, camera: CameraState, settings: FrustumSettings | None = None,
                         scene_bounds: OrientedBox | None = None,
                         placement: Placement | F64 | None = None) -> NodeFrustum:
    """One node's frustum result (``StageFrustum.node`` through the stage's cached context)."""
    return frustum_context(stage).node(node, camera, settings, scene_bounds, placement)
