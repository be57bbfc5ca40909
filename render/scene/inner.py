"""Inner pixels of one canvas, one camera, one asset: a depth-carrying layer of colour.

Two ways, chosen per asset:

* **camera view** (every asset; pinhole-only assets always): render the camera's inner window as
  a pinhole (:func:`vpstage.frustum.kooima.inner_pinhole`, posed in the asset's frame by its
  placement) at the LED density of the canvas's inner cabinets times ``quality.inner_scale``,
  only over the pixel rectangle holding the UV window of this canvas's inner pixels, cropped to
  the canvas's DoD crop in the asset's frame; then sample it bilinearly at each inner pixel's UV.
* **rays** (assets with ``supports_rays`` at ``inner_scale >= 1``): one ray per inner LED pixel
  from the eye through the LED, in the asset frame, cropped the same way.

Depth is returned as camera z in stage metres (the asset's depth divided by its placement scale;
ray distances times the cosine to the optical axis), so all assets of the canvas compare.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from render.assets import SceneAsset
from render.host_to_device import upload
from render.scene.inner_pixels import InnerPixels
from render.scene.layers import Layer
from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.rays import scene_rotation, to_scene
from vpstage.geometry import OrientedBox

F64 = np.ndarray


def placement_scale(stage_to_scene: F64) -> float:
    """Scene units per stage metre of a similarity matrix."""
    return float(np.cbrt(abs(np.linalg.det(stage_to_scene[:3, :3]))))


def sample_window(rgb: torch.Tensor, alpha: torch.Tensor, depth: torch.Tensor, rect: tuple[int, int, int, int],
                  size: tuple[int, int], uv: torch.Tensor) -> Layer:
    """Bilinear samples of a rendered window (h, w, ·) of an image of ``size`` (W, H) at UV (N, 2);
    depth is coverage-weighted so silhouettes keep the depth of what covers them."""
    x0, y0, x1, y1 = rect
    width, height = size
    stack = torch.cat([rgb, alpha[..., None], (depth * alpha)[..., None]], dim=-1).permute(2, 0, 1)[None]
    gx = (uv[:, 0] * width - x0) / (x1 - x0) * 2 - 1
    gy = (uv[:, 1] * height - y0) / (y1 - y0) * 2 - 1
    grid = torch.stack([gx, gy], dim=1)[None, None].to(stack.dtype)
    taps = F.grid_sample(stack, grid, mode="bilinear", padding_mode="border", align_corners=False)[0, :, 0]
    a = taps[3]
    return Layer(taps[:3].T.contiguous(), a, torch.where(a > 0, taps[4] / a.clamp_min(1e-12), torch.zeros_like(a)))


def rays_layer(asset: SceneAsset, canvas: CanvasFrustum, pixels: InnerPixels, stage_to_scene: F64,
               crop: OrientedBox | None) -> Layer:
    """The rays way (module docstring)."""
    device = asset.device
    frustum = canvas.frustum
    rotation = upload(scene_rotation(stage_to_scene) @ frustum.rotation, torch.float32, device)
    camera = pixels.camera.to(device)
    length = camera.norm(dim=1)
    directions = (camera / length[:, None]) @ rotation.T
    origin = upload(to_scene(stage_to_scene, frustum.eye), torch.float32, device)
    out = asset.render_rays(origin.expand_as(directions).contiguous(), directions.contiguous(), crop=crop,
                            background=(0.0, 0.0, 0.0))
    cosine = camera[:, 2] / length
    depth = out.depth / placement_scale(stage_to_scene) * cosine
    target = pixels.uv.device
    return Layer(out.rgb.to(target), out.alpha.to(target), depth.to(target))
