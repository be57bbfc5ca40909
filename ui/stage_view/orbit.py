"""OrbitCamera: the 3D stage view's viewpoint (Qt-free; same conventions as pyqtgraph.opengl).

The camera orbits ``center`` (stage metres) at ``distance``; ``azimuth_deg`` is measured in the
XY plane from +X toward +Y and ``elevation_deg`` up from that plane, so the eye sits at
``center + distance * (cos e cos a, cos e sin a, sin e)``. ``fov_deg`` is the horizontal field of
view. These are exactly pyqtgraph GLViewWidget's ``opts`` (euler mode), so the GL backend can
mirror them and every backend shares one projection, one ray for picking and one interaction.
Matrices follow OpenGL: the camera looks down its -Z axis with +Y up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

NEAR_FRACTION = 0.001  # near clip = distance * this (pyqtgraph's choice)
MAX_ELEVATION = 89.0


def _rx(deg: float) -> F64:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rz(deg: float) -> F64:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True, kw_only=True)
class OrbitCamera:
    center: tuple[float, float, float] = (0.0, 0.0, 1.5)
    distance: float = 14.0
    elevation_deg: float = 28.0
    azimuth_deg: float = -90.0
    """-90 puts the eye on the -Y side, looking toward the main wall (+Y)."""
    fov_deg: float = 60.0

    # ------------------------------------------------------------------ matrices

    def rotation(self) -> F64:
        """World -> camera rotation (3x3)."""
        return _rx(self.elevation_deg - 90.0) @ _rz(-(self.azimuth_deg + 90.0))

    def eye(self) -> F64:
        e, a = math.radians(self.elevation_deg), math.radians(self.azimuth_deg)
        offset = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        return np.asarray(self.center, dtype=np.float64) + self.distance * offset

    def view_matrix(self) -> F64:
        """World -> camera (4x4), as pyqtgraph's ``viewMatrix``."""
        m = np.eye(4)
        m[:3, :3] = self.rotation()
        m[:3, 3] = m[:3, :3] @ -np.asarray(self.center, dtype=np.float64) + [0.0, 0.0, -self.distance]
        return m

    def _half_extent(self, width: float, height: float) -> tuple[float, float]:
        tx = math.tan(math.radians(self.fov_deg) / 2)
        return tx, tx * height / width

    def project(self, points: F64, width: int, height: int) -> tuple[F64, F64]:
        """Widget pixel coordinates (N, 2) (origin top-left, y down) and view depth (N,) of stage
        points (N, 3). Depth is positive in front of the eye; points behind it have depth <= 0."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        cam = p @ self.rotation().T + (self.rotation() @ -np.asarray(self.center)) + [0.0, 0.0, -self.distance]
        depth = -cam[:, 2]
        tx, ty = self._half_extent(width, height)
        safe = np.where(np.abs(depth) < 1e-12, 1e-12, depth)
        ndc_x = cam[:, 0] / safe / tx
        ndc_y = cam[:, 1] / safe / ty
        pixels = np.stack([(ndc_x + 1.0) * width / 2.0, (1.0 - ndc_y) * height / 2.0], axis=1)
        return pixels, depth

    def ray(self, x: float, y: float, width: int, height: int) -> tuple[F64, F64]:
        """Eye and unit direction (stage frame) of the ray through widget pixel (x, y)."""
        tx, ty = self._half_extent(width, height)
        local = np.array([(2.0 * x / width - 1.0) * tx, (1.0 - 2.0 * y / height) * ty, -1.0])
        direction = self.rotation().T @ local
        return self.eye(), direction / np.linalg.norm(direction)

    def near_clip(self) -> float:
        return self.distance * NEAR_FRACTION

    # ------------------------------------------------------------------ interaction

    def orbited(self, d_azimuth: float, d_elevation: float) -> OrbitCamera:
        elevation = max(-MAX_ELEVATION, min(MAX_ELEVATION, self.elevation_deg + d_elevation))
        return replace(self, azimuth_deg=(self.azimuth_deg + d_azimuth) % 360.0, elevation_deg=elevation)

    def panned(self, dx_px: float, dy_px: float, width: int) -> OrbitCamera:
        """Move the centre so the scene follows a mouse drag of (dx, dy) widget pixels."""
        scale = self.distance * 2.0 * math.tan(math.radians(self.fov_deg) / 2) / max(width, 1)
        rot = self.rotation()
        right, up = rot[0], rot[1]  # camera axes in the world frame
        moved = np.asarray(self.center) - right * dx_px * scale + up * dy_px * scale
        return replace(self, center=(float(moved[0]), float(moved[1]), float(moved[2])))

    def zoomed(self, factor: float) -> OrbitCamera:
        return replace(self, distance=max(0.05, self.distance * factor))

    def framing(self, lo: ArrayLike, hi: ArrayLike, width: int = 16, height: int = 9,
                fill: float = 0.9) -> OrbitCamera:
        """Same direction, centred on the box [lo, hi], as close as possible while all eight corners
        stay within ``fill`` of the half-width and half-height of a ``width`` x ``height`` view."""
        lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        centre = (lo_a + hi_a) / 2
        corners = np.array([[x, y, z] for x in (lo_a[0], hi_a[0]) for y in (lo_a[1], hi_a[1])
                            for z in (lo_a[2], hi_a[2])])
        radius = max(float(np.linalg.norm(hi_a - lo_a)) / 2, 0.5)
        tx, ty = self._half_extent(width, height)
        cam = replace(self, center=(float(centre[0]), float(centre[1]), float(centre[2])),
                      distance=radius / math.sin(math.atan(min(tx, ty))))  # bounding sphere: always fits
        for _ in range(8):  # shrink toward the tightest fit; the spread scales about as 1 / distance
            pixels, depth = cam.project(corners, width, height)
            if np.any(depth <= cam.near_clip()):
                break
            ndc = np.abs(pixels / [width / 2, height / 2] - 1.0).max()
            candidate = replace(cam, distance=cam.distance * max(ndc / fill, 0.5))
            if abs(ndc - fill) < 0.01:
                break
            cam = candidate
        return cam
