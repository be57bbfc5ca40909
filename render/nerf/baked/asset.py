"""``BakedNerfAsset``: a baked NeRF behind the engine-agnostic ``SceneAsset`` protocol.

A drop-in for ``NerfAsset`` (render/nerf/asset.py): rays and cameras in the asset frame (the
source NeRF's), ``rect`` windows, the DoD launch window of a crop, depth as ray distance
(``render_rays``) or camera z (``render_pinhole``). Depth is the hit point's (where the coarse
opacity crosses one half), not the expected depth the NeRF reports: on opaque surfaces they agree.
"""

from __future__ import annotations

import numpy as np
import torch

from render.assets import Color, PinholeCamera, Rect, RenderOutput
from render.nerf.asset import render_pinhole_by_rays, trimmed_bounds
from render.nerf.baked.model import BakedNerfModel, BakedRender, BakedStats
from vpstage.geometry import OrientedBox


class BakedNerfAsset:
    """A baked one-query-per-ray NeRF (``kind == 'baked-nerf'``, ``supports_rays``)."""

    kind = "baked-nerf"
    supports_rays = True

    def __init__(self, model: BakedNerfModel, name: str) -> None:
        self.model = model
        self.name = name
        self.last_stats: BakedStats | None = None

    @property
    def device(self) -> torch.device:
        return self.model.device

    def to(self, device: str | torch.device) -> BakedNerfAsset:
        self.model.to(device)
        return self

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Trimmed bounds of the occupied bricks' centres, clipped to the render box (asset frame)."""
        centers = self.model.texture.brick_centers().double().cpu().numpy()
        if len(centers) == 0:
            return self.model.texture_box_asset().aabb()
        inv = np.linalg.inv(self.model.asset_to_field)
        points = centers @ inv[:3, :3].T + inv[:3, 3]
        return trimmed_bounds(points, self.model.render_box)

    def content_hash(self) -> str:
        return self.model.content_hash()

    # ------------------------------------------------------------------ rendering
    def _render(self, origins: torch.Tensor, dirs: torch.Tensor, crop: OrientedBox | None,
                background: Color) -> BakedRender:
        result = self.model.render_rays(origins, dirs, crop, background)
        self.last_stats = result.stats
        return result

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        """Asset-frame rays (N, 3), unit directions; depth is the distance to the hit point (0 where alpha is 0)."""
        out = self._render(origins, directions, crop, background)
        return RenderOutput(out.rgb, out.alpha, out.distance)

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None, crop: OrientedBox | None = None,
                       background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        """Render an OpenCV pinhole (or a ``rect`` window of it); depth is camera-z in asset units."""
        return render_pinhole_by_rays(camera, rect, self._effective_crop(crop), background, self.device,
                                      lambda origins, dirs: self.render_rays(origins, dirs, crop=crop,
                                                                             background=background))

    def _effective_crop(self, crop: OrientedBox | None) -> OrientedBox:
        """The smallest box known to hold everything renderable: the caller's crop, else the render
        box, else the texture's box."""
        if crop is not None:
            return crop
        if self.model.render_box is not None:
            return self.model.render_box
        return self.model.texture_box_asset()
