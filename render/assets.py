"""Engine-agnostic scene assets: the interface every renderer implements, and the loader registry.

Render workers, the ``render`` / ``preview`` commands and take review videos use only this module,
so they do not care whether an asset is a Gaussian splat or a hash-grid NeRF.

Conventions (see docs/architecture.md):

* Cameras are pinholes in the OpenCV convention: ``world_to_camera`` (4x4) maps the asset's own
  frame to camera coordinates (+x right, +y down, +z forward); intrinsics fx, fy, cx, cy in pixels.
* ``rect = (x0, y0, x1, y1)`` (inclusive-exclusive) renders only that window of the image; the
  output then has shape (y1 - y0, x1 - x0). It equals the same window of a full render.
* ``crop`` is an OrientedBox in the asset frame: content outside it is not rendered (the DoD crop).
* Outputs are float32 torch tensors on the asset's device: ``rgb`` (..., 3) in 0..1 already
  composited over ``background``, ``alpha`` (...) coverage in 0..1, ``depth`` (...) the camera-z
  depth (pinhole) or ray distance (rays) of the content, 0 where alpha is 0.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from vpstage.geometry import OrientedBox, PinholeCamera

if TYPE_CHECKING:
    import torch

Rect = tuple[int, int, int, int]
Color = tuple[float, float, float]


@dataclass
class RenderOutput:
    rgb: torch.Tensor
    alpha: torch.Tensor
    depth: torch.Tensor


@runtime_checkable
class SceneAsset(Protocol):
    """What every renderable asset provides."""

    name: str
    kind: str
    """'splat', 'nerf' or 'baked-nerf'."""
    supports_rays: bool
    """True when ``render_rays`` is implemented (NeRF); splats render through pinholes."""

    @property
    def device(self) -> torch.device: ...

    def to(self, device: str | torch.device) -> SceneAsset: ...

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Robust (trimmed) axis-aligned bounds of the content in the asset frame (min, max)."""
        ...

    def content_hash(self) -> str:
        """Stable hash of the asset's content (for take records)."""
        ...

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None,
                       crop: OrientedBox | None = None, background: Color = (0.0, 0.0, 0.0)) -> RenderOutput: ...

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        """Rays (N, 3) in the asset frame, unit directions. Outputs have shape (N, 3) / (N,)."""
        ...


class AssetError(Exception):
    """An asset could not be loaded; the message names the file and what is wrong."""


class RenderUnsupported(Exception):
    """The asset cannot render that way (e.g. ``render_rays`` on an asset whose ``supports_rays``
    is False); callers check the capability flag first."""


# Loader registry: suffix (or 'procedural:' scheme) -> "module:function(path, device) -> SceneAsset".
LOADERS: dict[str, str] = {
    ".ply": "render.splat.io:load_splat_asset",
    ".splat": "render.splat.io:load_splat_asset",
    ".spz": "render.splat.io:load_splat_asset",
    ".ingp": "render.nerf.snapshot:load_nerf_asset",
    ".msgpack": "render.nerf.snapshot:load_nerf_asset",
    ".nerf": "render.nerf.snapshot:load_nerf_asset",
    ".bnerf": "render.nerf.baked.baked_format:load_baked_asset",
    "procedural:demo": "render.splat.procedural:load_demo_scene",
}


def loader_for(path: str) -> str:
    if path.startswith("procedural:"):
        if path not in LOADERS:
            raise AssetError(f"{path}: unknown procedural scene")
        return LOADERS[path]
    suffix = Path(path).suffix.lower()
    if suffix not in LOADERS:
        known = ", ".join(sorted(k for k in LOADERS if k.startswith(".")))
        raise AssetError(f"{path}: unknown asset type {suffix!r} (known: {known})")
    return LOADERS[suffix]


def load_asset(path: str | Path, device: str = "cpu") -> SceneAsset:
    """Load any supported asset onto ``device``; raises AssetError naming the file on failure."""
    module_name, func_name = loader_for(str(path)).split(":")
    loader = getattr(importlib.import_module(module_name), func_name)
    asset: SceneAsset = loader(str(path), device)
    return asset
