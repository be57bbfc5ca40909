"""The pinhole camera, the one camera model of the project (OpenCV convention).

``Intrinsics`` are the image side: focal lengths and principal point in pixels, origin at the
top-left pixel's corner, +x right, +y down, for an image of ``width`` x ``height`` pixels.
``PinholeCamera`` adds the pose: ``world_to_camera`` (4 x 4) maps the frame it was built in (the
stage, or an asset's own frame) to camera coordinates (+x right, +y down, +z forward). The
tracked camera's lens model (``vpstage.tracking.camera``), the inner frustum's render camera
(``vpstage.frustum.kooima``) and every renderer (``render.assets``; the splat rasterizer prepares
one for its device, ``render.splat.raster_inputs.RasterCamera``) use these two types.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class Intrinsics:
    """Pinhole intrinsics in pixels (see the module docstring)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def matrix(self) -> F64:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera at another image size."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(
            fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy, width=width, height=height)


@dataclass(frozen=True, kw_only=True)
class PinholeCamera:
    """A posed pinhole camera (see the module docstring)."""

    world_to_camera: F64
    """(4, 4) float64: the camera's world frame -> OpenCV camera."""
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @staticmethod
    def posed(world_to_camera: F64, intrinsics: Intrinsics) -> PinholeCamera:
        """``intrinsics`` at the pose ``world_to_camera``."""
        k = intrinsics
        return PinholeCamera(world_to_camera=world_to_camera, fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy, width=k.width,
                             height=k.height)

    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics(fx=self.fx, fy=self.fy, cx=self.cx, cy=self.cy, width=self.width, height=self.height)

    def camera_to_world(self) -> F64:
        return np.asarray(np.linalg.inv(self.world_to_camera), dtype=np.float64)
