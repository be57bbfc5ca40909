"""Inputs shared by every rasterizer backend: the camera window and the crop-box test.

A render is described by a full pinhole image (``width`` x ``height``, OpenCV intrinsics) and a
window ``rect = (x0, y0, x1, y1)`` of it (inclusive-exclusive pixels). Pixel (row i, column j) of
the window has its centre at image coordinates (x0 + j + 0.5, y0 + i + 0.5). Projection uses the
full image's intrinsics (also for the EWA clamp), so a window render equals the same window of a
full render up to float rounding. Tiles are ``tile_size`` square (16 by default, as in 3DGS and
gsplat) and anchored at the window's top-left corner.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch

from render.assets import PinholeCamera, Rect
from render.host_to_device import upload
from vpstage.geometry import OrientedBox

TILE_SIZE = 16
NEAR_PLANE = 0.01
FAR_PLANE = 1e10
LOW_PASS = 0.3
"""Pixels^2 added to the projected covariance's diagonal (the 3DGS anti-aliasing dilation)."""
ALPHA_MIN = 1.0 / 255.0
ALPHA_MAX = 0.99
TRANSMITTANCE_MIN = 1e-4


@dataclass(frozen=True, kw_only=True)
class RasterCamera:
    """A pinhole camera prepared for the rasterizer: the camera, the device it renders on, the
    window of its image to render and the tile size."""

    camera: PinholeCamera
    device: torch.device
    rect: Rect
    tile_size: int = TILE_SIZE
    """Square tile edge in pixels (any size gives the same image; it only changes the work split)."""

    @staticmethod
    def from_pinhole(camera: PinholeCamera, rect: Rect | None, device: torch.device | str,
                     tile_size: int = TILE_SIZE) -> RasterCamera:
        window = full_rect(camera.width, camera.height) if rect is None else clip_rect(rect, camera)
        view = np.asarray(camera.world_to_camera, dtype=np.float64).reshape(4, 4)
        exact = PinholeCamera(world_to_camera=view, fx=float(camera.fx), fy=float(camera.fy), cx=float(camera.cx),
                              cy=float(camera.cy), width=int(camera.width), height=int(camera.height))
        return RasterCamera(camera=exact, device=torch.device(device), rect=window, tile_size=tile_size)

    @property
    def world_to_camera(self) -> np.ndarray:
        """(4, 4) float64 world (asset frame) -> OpenCV camera, on the host."""
        return self.camera.world_to_camera

    @property
    def fx(self) -> float:
        return self.camera.fx

    @property
    def fy(self) -> float:
        return self.camera.fy

    @property
    def cx(self) -> float:
        return self.camera.cx

    @property
    def cy(self) -> float:
        return self.camera.cy

    @property
    def width(self) -> int:
        return self.camera.width

    @property
    def height(self) -> int:
        return self.camera.height

    @functools.cached_property
    def viewmat(self) -> torch.Tensor:
        """(4, 4) float32 world -> camera on the device (made on first use)."""
        return upload(self.world_to_camera, torch.float32, self.device)

    @property
    def window_size(self) -> tuple[int, int]:
        """(width, height) of the window in pixels."""
        return self.rect[2] - self.rect[0], self.rect[3] - self.rect[1]

    @property
    def tile_grid(self) -> tuple[int, int]:
        """(tiles_x, tiles_y) covering the window."""
        w, h = self.window_size
        return math.ceil(w / self.tile_size), math.ceil(h / self.tile_size)

    def camera_position(self) -> np.ndarray:
        """Camera centre (3,) float64 in the asset frame."""
        rot, trans = self.world_to_camera[:3, :3], self.world_to_camera[:3, 3]
        return np.asarray(-(rot.T @ trans), dtype=np.float64)

    def clamp_limits(self) -> tuple[float, float, float, float]:
        """(x_pos, x_neg, y_pos, y_neg) limits of x/z and y/z for the EWA Jacobian (full image)."""
        tan_x, tan_y = 0.5 * self.width / self.fx, 0.5 * self.height / self.fy
        return ((self.width - self.cx) / self.fx + 0.3 * tan_x, self.cx / self.fx + 0.3 * tan_x,
                (self.height - self.cy) / self.fy + 0.3 * tan_y, self.cy / self.fy + 0.3 * tan_y)


def full_rect(width: int, height: int) -> Rect:
    return 0, 0, int(width), int(height)


def clip_rect(rect: Rect, camera: PinholeCamera) -> Rect:
    """``rect`` as ints, checked to be a non-empty window inside the image."""
    x0, y0, x1, y1 = (int(v) for v in rect)
    if not (0 <= x0 < x1 <= camera.width and 0 <= y0 < y1 <= camera.height):
        raise ValueError(f"rect {rect} is not a non-empty window of a {camera.width}x{camera.height} image")
    return x0, y0, x1, y1


def support_radius(scales: torch.Tensor, opacities: torch.Tensor) -> torch.Tensor:
    """(N,) radius of each splat's support: beyond it (along any axis, so anywhere) its alpha is
    below 1/255, the level at which the rasterizers drop a splat: ``max scale * sqrt(2 ln(255 o))``."""
    level = 2.0 * torch.log((opacities * 255.0).clamp_min(1.0))
    return scales.amax(dim=1) * torch.sqrt(level)


def crop_mask(means: torch.Tensor, crop: OrientedBox, radii: torch.Tensor | None = None) -> torch.Tensor:
    """Bool (N,): splats that reach into the oriented box (same frame, closed box).

    Without ``radii`` a splat is in when its centre is; with them (``support_radius``) when its
    support reaches the box (the box grown by the radius per axis, a slight over-estimate at the
    edges and corners), so a splat centred outside that still covers a ray through the box is kept.
    """
    center = upload(crop.center, means.dtype, means.device)
    rotation = upload(crop.rotation, means.dtype, means.device)
    half = upload(crop.half_extents, means.dtype, means.device)
    local = (means - center) @ rotation
    reach = half if radii is None else half + radii[:, None]
    return (local.abs() <= reach).all(dim=1)


def quat_to_rotmat(quats: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (N, 3, 3) for unit quaternions (N, 4) in (w, x, y, z) order."""
    w, x, y, z = quats.unbind(-1)
    return torch.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], dim=-1).reshape(-1, 3, 3)


def grown_grid(needed: tuple[int, int], current: tuple[int, int] | None, bucket: int) -> tuple[int, int]:
    """The tile grid for a runner that must hold ``needed`` tiles: the current grid where it
    suffices, else grown with 25 % headroom and rounded up to whole ``bucket``s, never shrinking, so
    a window that moves and breathes with the camera rebuilds its runner a few times a session,
    not every few frames (a new runner pays an eager frame and a graph capture)."""
    tiles = []
    for axis, need in enumerate(needed):
        have = current[axis] if current is not None else 0
        if need <= have:
            tiles.append(have)
        else:
            tiles.append(max(have, math.ceil(math.ceil(need * 5 / 4) / bucket) * bucket))
    return tiles[0], tiles[1]
