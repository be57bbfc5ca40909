"""Test instruments: scene assets whose pictures are known in closed form.

``PlaneAsset`` is an opaque plane ``z = height`` of the asset frame with a smooth colour of the
hit point; it renders rays (``supports_rays``) and pinholes (one ray per pixel centre), honours
crop boxes and reports ray distance / camera z as depth, as ``render.assets`` specifies. It lets
the scene renderer's ray path and blending be checked against exact values.
``splat_plane`` builds a real splat model of an opaque coloured rectangle for depth tests.
"""

from __future__ import annotations

import numpy as np
import torch

from render.assets import Color, PinholeCamera, Rect, RenderOutput
from render.splat.asset import SplatAsset
from render.splat.model import SH_C0, AssetFrame, SplatModel
from render.splat.procedural import quats_aligning_z
from vpstage.geometry import OrientedBox


def plane_colour(points: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Colour (..., 3) of plane points (..., 3): smooth in x and y."""
    lib = torch if isinstance(points, torch.Tensor) else np
    x, y = points[..., 0], points[..., 1]
    return lib.stack([0.5 + 0.4 * lib.sin(1.3 * x), 0.5 + 0.4 * lib.cos(0.9 * y), 0.2 + 0 * x], -1)


class PlaneAsset:
    kind = "analytic"
    supports_rays = True

    def __init__(self, name: str, height: float) -> None:
        self.name, self.height = name, height
        self.ray_calls = 0

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> PlaneAsset:
        return self

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.array([-50.0, -50.0, self.height]), np.array([50.0, 50.0, self.height])

    def content_hash(self) -> str:
        return f"plane:{self.height}"

    def render_rays(self, origins: torch.Tensor, directions: torch.Tensor, *, crop: OrientedBox | None = None,
                    background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        self.ray_calls += 1
        return self._trace(origins, directions, crop, background)

    def _trace(self, origins: torch.Tensor, directions: torch.Tensor, crop: OrientedBox | None,
               background: Color) -> RenderOutput:
        o, d = origins.double(), directions.double()
        t = (self.height - o[:, 2]) / d[:, 2]
        hit = torch.isfinite(t) & (t > 0)
        points = o + t[:, None].clamp_min(0) * d
        if crop is not None:
            local = (points - torch.as_tensor(crop.center)) @ torch.as_tensor(crop.rotation)
            hit &= (local.abs() <= torch.as_tensor(crop.half_extents) + 1e-9).all(dim=1)
        alpha = hit.double()
        rgb = plane_colour(points) * alpha[:, None] + torch.as_tensor(background) * (1 - alpha[:, None])
        return RenderOutput(rgb.float(), alpha.float(), torch.where(hit, t, 0.0).float())

    def render_pinhole(self, camera: PinholeCamera, *, rect: Rect | None = None, crop: OrientedBox | None = None,
                       background: Color = (0.0, 0.0, 0.0)) -> RenderOutput:
        x0, y0, x1, y1 = rect or (0, 0, camera.width, camera.height)
        xs, ys = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
        local = np.stack([(xs - camera.cx) / camera.fx, (ys - camera.cy) / camera.fy, np.ones_like(xs)], -1)
        to_world = camera.camera_to_world()
        norm = np.linalg.norm(local, axis=-1)
        directions = (local / norm[..., None]) @ to_world[:3, :3].T
        origins = np.broadcast_to(to_world[:3, 3], directions.shape).copy()
        out = self._trace(torch.as_tensor(origins.reshape(-1, 3)), torch.as_tensor(directions.reshape(-1, 3)),
                          crop, background)
        h, w = y1 - y0, x1 - x0
        z = out.depth.reshape(h, w) / torch.as_tensor(norm, dtype=torch.float32)  # ray distance -> camera z
        return RenderOutput(out.rgb.reshape(h, w, 3), out.alpha.reshape(h, w), z)


def splat_plane(colour: tuple[float, float, float], y: float, half_width: float, z_range: tuple[float, float],
                spacing: float) -> SplatAsset:
    """An opaque rectangle of flat splats in the plane ``y = y`` of its own frame, facing -y."""
    xs = np.arange(-half_width, half_width + 1e-9, spacing)
    zs = np.arange(z_range[0], z_range[1] + 1e-9, spacing)
    gx, gz = np.meshgrid(xs, zs)
    positions = np.stack([gx.ravel(), np.full(gx.size, y), gz.ravel()], axis=1)
    normals = np.tile([0.0, -1.0, 0.0], (gx.size, 1))
    scales = np.tile([spacing, spacing, spacing * 0.05], (gx.size, 1))
    dc = (np.tile(colour, (gx.size, 1)) - 0.5) / SH_C0
    model = SplatModel.from_numpy(positions, scales, quats_aligning_z(normals), np.full(gx.size, 0.995),
                                  dc[:, None, :], frame=AssetFrame("stage", "z", "test plane"), source="test")
    return SplatAsset(model, name=f"plane-{colour}", backend="torch")
