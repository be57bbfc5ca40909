"""Outer pixels per canvas, cached while the scene, placements and viewpoint stay the same.

The planner's ``OuterView.cache_key`` changes exactly when the outer picture must change. Per
key a node keeps one :class:`~render.scene.cubemap.CubeMap` (faces rendered on demand, as its
canvases need them) and per canvas the sampled outer colour of every LED pixel; a frame then
costs one copy of that colour. A new key drops both and the next frame re-renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from render.assets import SceneAsset
from render.scene.cubemap import CubeMap, face_coordinates, face_size, render_face
from vpstage.frustum.geometry import CanvasGeometry
from vpstage.frustum.rays import outer_directions

PlacedAssets = Sequence[tuple[SceneAsset, np.ndarray, float]]
"""(asset, stage_to_scene, scale) of every enabled, loaded asset."""


class OuterCache:
    """One node's outer pictures (see the module docstring). Not thread-safe: one worker thread."""

    def __init__(self, geometry: Callable[[str], CanvasGeometry], all_canvases: Sequence[str],
                 device: torch.device) -> None:
        self._geometry = geometry
        self._all = tuple(all_canvases)
        self.device = device
        self.key: str | None = None
        self.cube: CubeMap | None = None
        self._images: dict[str, torch.Tensor] = {}
        self.renders = 0
        """Face rectangles rendered since start (tests and stats: a reused cache renders none)."""

    def image(self, canvas: str, key: str, viewpoint: tuple[float, float, float], assets: PlacedAssets,
              outer_scale: float, background: torch.Tensor) -> torch.Tensor:
        """(H * W, 3) float32 outer colour of every pixel of ``canvas`` (0 where no LED is)."""
        if key != self.key:
            point = np.asarray(viewpoint, dtype=np.float64)
            size = face_size([self._geometry(c) for c in self._all], point, outer_scale)
            self.key, self.cube, self._images = key, CubeMap(size), {}
        cached = self._images.get(canvas)
        if cached is None:
            cached = self._sample(canvas, np.asarray(viewpoint, dtype=np.float64), assets, background)
            self._images[canvas] = cached
        return cached

    def _sample(self, canvas: str, viewpoint: np.ndarray, assets: PlacedAssets,
                background: torch.Tensor) -> torch.Tensor:
        assert self.cube is not None
        geometry = self._geometry(canvas)
        directions = torch.as_tensor(outer_directions(geometry, viewpoint, np.eye(4)), device=self.device)
        flat = directions.reshape(-1, 3)
        valid = flat.norm(dim=1) > 0.5
        out = torch.zeros(flat.shape[0], 3, device=self.device)
        if not bool(valid.any()):
            return out
        face, x, y = face_coordinates(flat[valid], self.cube.size)
        for f, rect in self.cube.missing(self.cube.needed(face, x, y)).items():
            self.cube.faces[f] = (rect, render_face(assets, f, rect, self.cube.size, viewpoint, background))
            self.renders += 1
        out[valid] = self.cube.sample(face, x, y)
        return out
