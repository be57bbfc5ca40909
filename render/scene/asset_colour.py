"""Scene assets in their own colour spaces, rendered into the project's working space.

The project's ``colour`` section may declare an asset's colour space (an sRGB-encoded splat
capture, an ACEScg NeRF) apart from the working space every canvas's output transform starts
from. A render node then wraps each such asset in :class:`AssetInWorkingSpace`: whatever the asset
renders (camera views for inner pixels, rays, cube-map faces for the outer frustum) is converted
(asset space -> working space, an OCIO colour-space transform) before it is composited with the
other assets, so assets of different origins meet in one space. Renders are premultiplied by
coverage (over black): the conversion applies to the unpremultiplied colour and coverage is kept.

A conversion OCIO reduces to matrices (between linear spaces: Linear Rec.709, ACES2065-1, ACEScg)
is applied as that exact 3x4 matrix; any other is baked to a shaper + 3D LUT (``render.colour``).
Measured against OCIO (docs/colour.md): an sRGB-encoded asset into ACEScg, 65³: max error 8e-5; a
conversion from a linear space into an encoded working space bends too sharply near zero for a
LUT (errors up to 0.6 near black): keep the working space scene-linear when assets differ.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from render.assets import Color, PinholeCamera, Rect, RenderOutput, SceneAsset
from render.colour.apply import apply_lut
from render.colour.bake import BakedLut, bake_canvas_lut
from render.colour.canvas_luts import device_lut
from render.scene.loaded import LoadedAsset
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.plan import colour_plan
from vpstage.colour.transforms import CanvasTransform, canvas_processor
from vpstage.geometry import OrientedBox
from vpstage.nodes.failures import failure_text
from vpstage.stage.model import Project

COVERED = 1e-6
"""Coverage below which a pixel counts as empty (its colour is left at 0)."""


Conversion = BakedLut | np.ndarray
"""A baked LUT, or an exact (3, 4) matrix (linear part and offset)."""


class AssetInWorkingSpace:
    """``asset`` whose renders come out in the working space (see the module docstring)."""

    def __init__(self, asset: SceneAsset, conversion: Conversion) -> None:
        self.asset, self.conversion = asset, conversion
        device = asset.device
        self.lut = device_lut(conversion, device) if isinstance(conversion, BakedLut) else None
        matrix = torch.as_tensor(np.asarray(conversion, dtype=np.float32)) if self.lut is None else None
        self.matrix = None if matrix is None else matrix[:, :3].T.contiguous().to(device)
        self.offset = None if matrix is None else matrix[:, 3].to(device)
        self.name, self.kind, self.supports_rays = asset.name, asset.kind, asset.supports_rays

    @property
    def device(self) -> torch.device:
        return self.asset.device

    def to(self, device: str | torch.device) -> AssetInWorkingSpace:
        return AssetInWorkingSpace(self.asset.to(device), self.conversion)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.asset.bounds()

    def content_hash(self) -> str:
        return self.asset.content_hash()

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None,
                       crop: OrientedBox | None = None, background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        out = self.asset.render_pinhole(camera, rect=rect, crop=crop, background=(0.0, 0.0, 0.0))
        return self._converted(out, background)

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        out = self.asset.render_rays(origins, directions, crop=crop, background=(0.0, 0.0, 0.0))
        return self._converted(out, background)

    def _converted(self, out: RenderOutput, background: Color) -> RenderOutput:
        alpha = out.alpha.unsqueeze(-1)
        covered = alpha > COVERED
        straight = torch.where(covered, out.rgb / alpha.clamp_min(COVERED), torch.zeros_like(out.rgb)).contiguous()
        if self.lut is not None:
            apply_lut(straight, self.lut, straight)
        else:
            assert self.matrix is not None and self.offset is not None
            straight = straight @ self.matrix + self.offset
        rgb = torch.where(covered, straight * alpha, torch.zeros_like(straight))
        if any(background):
            rgb = rgb + (1.0 - alpha) * torch.tensor(background, dtype=rgb.dtype, device=rgb.device)
        return replace(out, rgb=rgb)


def in_working_space(assets: dict[str, LoadedAsset], project: Project, base_dir: str | Path
                     ) -> dict[str, LoadedAsset]:
    """``assets`` with every asset whose declared colour space is not the working space wrapped in
    its conversion; an asset whose conversion cannot be built is marked failed, with the reason."""
    settings = project.colour
    if settings is None or settings.working_space is None or not settings.assets:
        return assets
    working = settings.working_space
    plan = colour_plan(settings, Path(base_dir))
    out = dict(assets)
    for name, loaded in assets.items():
        space = settings.asset_space(name)
        if loaded.asset is None or space == working:
            continue
        try:
            spec = CanvasTransform(space, OutputTarget(colour_space=working))
            matrix = conversion_matrix(plan.config, spec)
            conversion = matrix if matrix is not None else bake_canvas_lut(plan.config, spec, settings.lut_size)
            out[name] = replace(loaded, asset=AssetInWorkingSpace(loaded.asset, conversion))
        except Exception as exc:
            out[name] = replace(loaded, asset=None, error=f"colour space {space} -> {working}: {failure_text(exc)}")
    return out


def conversion_matrix(config: Any, spec: CanvasTransform) -> np.ndarray | None:
    """The (3, 4) matrix (linear part, offset) OCIO's optimised ``spec`` reduces to, or None when
    it is not matrices only."""
    import PyOpenColorIO as ocio

    processor = canvas_processor(config, spec).getOptimizedProcessor(
        ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_F32, ocio.OPTIMIZATION_DEFAULT)
    total = np.eye(4)
    for step in processor.createGroupTransform():
        if not isinstance(step, ocio.MatrixTransform):
            return None
        affine = np.asarray(step.getMatrix(), dtype=np.float64).reshape(4, 4)
        affine[:, 3] += np.asarray(step.getOffset(), dtype=np.float64)
        total = affine @ total
    return total[:3]
