"""The splat implementation of :class:`render.assets.SceneAsset`."""

from __future__ import annotations

import numpy as np
import torch

from render.assets import Color, PinholeCamera, Rect, RenderOutput, RenderUnsupported, SceneAsset
from render.splat.model import SplatModel
from render.splat.rasterize import Backend, rasterize_splats
from vpstage.geometry import OrientedBox


class SplatAsset:
    """A Gaussian splat model behind the engine-agnostic asset interface.

    Renders through pinhole cameras only (``supports_rays`` is False). ``backend`` picks the
    rasterizer (see :mod:`render.splat.rasterize`). ``up_axis`` ('x', '-y', ...) orients previews:
    the model's recorded up direction, else '-y' for files in the RDF convention (3DGS scenes come
    out of COLMAP with the camera's y pointing down, so -y is up unless the file says otherwise).
    """

    kind = "splat"
    supports_rays = False

    def __init__(self, model: SplatModel, name: str = "", backend: Backend = "auto") -> None:
        self.model = model
        self.name = name or model.source or "splat"
        self.backend: Backend = backend
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None
        self._hash: str | None = None

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def up_axis(self) -> str | None:
        frame = self.model.frame
        if frame.up is not None:
            return frame.up
        return "-y" if frame.convention == "RDF" else None

    def to(self, device: str | torch.device) -> SplatAsset:
        moved = SplatAsset(self.model.to(device), self.name, self.backend)
        moved._bounds, moved._hash = self._bounds, self._hash
        return moved

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Trimmed (2nd to 98th percentile per axis) bounds of the splat centres, asset frame."""
        if self._bounds is None:
            self._bounds = self.model.trimmed_bounds()
        return self._bounds[0].copy(), self._bounds[1].copy()

    def content_hash(self) -> str:
        if self._hash is None:
            self._hash = self.model.content_hash()
        return self._hash

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None, crop: OrientedBox | None = None,
                       background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        result = rasterize_splats(self.model, camera, rect=rect, crop=crop, background=background,
                                  backend=self.backend)
        return RenderOutput(result.rgb, result.alpha, result.depth)

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        raise RenderUnsupported("splat assets render through pinhole cameras only (supports_rays is False)")


def _protocol_check(asset: SplatAsset) -> SceneAsset:
    return asset  # mypy verifies SplatAsset satisfies the SceneAsset protocol here
