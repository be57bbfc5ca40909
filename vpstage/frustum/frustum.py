"""The film camera's inner frustum: its window in the image plane, overscan, FOV multiplier, soft edge.

Coordinates used throughout ``vpstage.frustum``:

* **Camera frame**: OpenCV (x right, y down, z forward), ``c = R^T (p - eye)`` for a stage point p.
* **Image plane** (tangent space, undistorted): ``x = c_x / c_z``, ``y = c_y / c_z``. The
  camera's sensor as a pinhole covers ``x in [-cx/fx, (W - cx)/fx]``, ``y in [-cy/fy, (H - cy)/fy]``
  (principal offset included): :func:`sensor_window`.
* **Image window** (``vpstage.tracking.image_window``): what the lens actually brings onto the
  sensor. Its distortion bends the sensor's straight edges in the undistorted image plane, so the window is
  the bounding box of the sensor border (sampled, undistorted with
  :func:`vpstage.tracking.distortion.undistort_points` about the distortion centre), together with
  the sensor window itself and the sensor window scaled by the lens's overscan factor about the
  optical axis. The inner frustum is rendered as an undistorted pinhole over this window, so the
  distorted image's corners see inner content at every zoom and focus. The window never shrinks
  below the sensor window (a pincushion lens sees a little less than its pinhole). Border points
  a U-D polynomial cannot reach (it folds back before the sensor's edge: a calibration used past
  its range) are left out; the lens's overscan factor still applies.
* **Inner window**: the image window widened by the FOV multiplier (each side's angle from the
  optical axis is multiplied), then grown by the overscan: ``left`` percent of the window's width
  is added on the left, and so on for right (width), top and bottom (height).
* **UV**: position in the inner window, origin top-left, ``u = (x - x_left) / (x_right - x_left)``,
  ``v = (y - y_top) / (y_bottom - y_top)``; inner points have UV in [0, 1]². This is where the
  inner-frustum render (:mod:`vpstage.frustum.kooima`'s pinhole) is sampled. ``camera_uv`` is the
  same in the camera's own image (it leaves [0, 1] in the overscan band).

A stage point is *inner* when it lies inside the four side planes through the eye and the window
edges, which also puts it in front of the camera. Whether an LED faces the camera is a property
of the LED, not of the frustum; :mod:`vpstage.frustum.spans` applies it per cabinet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from vpstage.stage.model import Camera
from vpstage.tracking.camera import CameraState
from vpstage.tracking.image_window import Window, image_window, sensor_window

F64 = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class FrustumSettings:
    """How the inner frustum is grown around the camera's view, and how the DoD is clipped."""

    overscan_pct: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    """Extra window on each side (left, right, top, bottom): percent of the window's width
    (left, right) or height (top, bottom), measured in the image plane after the FOV multiplier."""
    fov_multiplier: float = 1.0
    """Multiplies each window edge's angle from the optical axis (1 = the lens's own view)."""
    soft_edge_pct: float = 0.0
    """Width of the blend band just inside the inner window, percent of its width / height."""
    far_m: float = 100.0
    """DoD clip: camera depth (metres along the optical axis) beyond which nothing is kept."""
    dod_margin_px: float = 1.0
    """The DoD cone is grown by this many camera-image pixels around the node's inner pixel
    centres, so a renderer that resamples its inner image (bilinear) has its footprint covered."""

    def __post_init__(self) -> None:
        if len(self.overscan_pct) != 4 or any(not math.isfinite(v) or v < 0 for v in self.overscan_pct):
            raise ValueError(f"overscan_pct must be four percentages >= 0, got {self.overscan_pct}")
        if not (math.isfinite(self.fov_multiplier) and self.fov_multiplier > 0):
            raise ValueError(f"fov_multiplier must be > 0, got {self.fov_multiplier}")
        if not 0 <= self.soft_edge_pct <= 50:
            raise ValueError(f"soft_edge_pct must be within 0..50, got {self.soft_edge_pct}")
        if not (math.isfinite(self.far_m) and self.far_m > 0):
            raise ValueError(f"far_m must be > 0, got {self.far_m}")
        if not (math.isfinite(self.dod_margin_px) and self.dod_margin_px >= 0):
            raise ValueError(f"dod_margin_px must be >= 0, got {self.dod_margin_px}")

    @staticmethod
    def uniform(overscan_pct: float = 0.0, **kwargs: float) -> FrustumSettings:
        """The same overscan on all four sides."""
        o = float(overscan_pct)
        return FrustumSettings(overscan_pct=(o, o, o, o), **kwargs)

    @staticmethod
    def for_camera(camera: Camera, **kwargs: float) -> FrustumSettings:
        """Settings from a project camera's ``overscan_pct`` (all sides) and ``soft_edge_pct``."""
        return FrustumSettings.uniform(camera.overscan_pct, soft_edge_pct=camera.soft_edge_pct, **kwargs)


def _widen(edge: float, multiplier: float) -> float:
    angle = math.atan(edge) * multiplier
    if abs(angle) >= math.pi / 2 - 1e-6:
        raise ValueError(f"fov_multiplier {multiplier} widens an edge past 90 degrees from the optical axis")
    return math.tan(angle)


def inner_window(camera: CameraState, settings: FrustumSettings) -> Window:
    """The inner window: image window (lens distortion and its overscan included), FOV
    multiplier, then the project's overscan (see the module docstring)."""
    xl, xr, yt, yb = (_widen(e, settings.fov_multiplier) for e in image_window(camera))
    left, right, top, bottom = (p / 100.0 for p in settings.overscan_pct)
    width, height = xr - xl, yb - yt
    return (xl - left * width, xr + right * width, yt - top * height, yb + bottom * height)


@dataclass(frozen=True, kw_only=True)
class CameraFrustum:
    """The inner frustum of one camera state: a pyramid from the eye through ``window``.

    ``eye`` (3,) and ``rotation`` (3, 3, OpenCV camera -> stage) are stage metres; ``planes`` (4, 3)
    are the inward normals of the left, right, top and bottom side planes in the stage frame
    (not unit length): a point p is inside when ``planes @ (p - eye) >= 0`` for all four.
    """

    eye: F64
    rotation: F64
    window: Window
    camera_window: Window
    """The sensor window as a pinhole (:func:`sensor_window`): ``camera_uv`` is measured in it."""
    soft_edge: float
    """Soft-edge band width as a fraction of the window (0: hard edge)."""
    settings: FrustumSettings
    camera: CameraState

    @staticmethod
    def from_camera(camera: CameraState, settings: FrustumSettings | None = None) -> CameraFrustum:
        s = settings or FrustumSettings()
        return CameraFrustum(eye=np.asarray(camera.eye, dtype=np.float64),
                             rotation=np.asarray(camera.rotation, dtype=np.float64), window=inner_window(camera, s),
                             camera_window=sensor_window(camera), soft_edge=s.soft_edge_pct / 100.0, settings=s,
                             camera=camera)

    def core(self) -> CameraFrustum:
        """The frustum of the window less its soft-edge band (where every weight is 1)."""
        xl, xr, yt, yb = self.window
        ex, ey = self.soft_edge * (xr - xl), self.soft_edge * (yb - yt)
        return replace(self, window=(xl + ex, xr - ex, yt + ey, yb - ey))

    @property
    def camera_planes(self) -> F64:
        """Inward side-plane normals in the camera frame (4, 3): left, right, top, bottom."""
        xl, xr, yt, yb = self.window
        return np.array([[1.0, 0.0, -xl], [-1.0, 0.0, xr], [0.0, 1.0, -yt], [0.0, -1.0, yb]])

    @property
    def planes(self) -> F64:
        return np.asarray(self.camera_planes @ self.rotation.T, dtype=np.float64)

    @property
    def uv_rows(self) -> F64:
        """(3, 3) rows mapping camera coords to homogeneous inner-window UV: ``(u w, v w, w) = M @ c``."""
        xl, xr, yt, yb = self.window
        rows = np.array([[1.0, 0.0, -xl], [0.0, 1.0, -yt], [0.0, 0.0, 1.0]])
        return np.asarray(rows / np.array([[xr - xl], [yb - yt], [1.0]]), dtype=np.float64)

    def to_camera(self, points: NDArray[np.floating]) -> F64:
        """Stage points (..., 3) -> camera coordinates (..., 3), float64."""
        return np.asarray((np.asarray(points, dtype=np.float64) - self.eye) @ self.rotation, dtype=np.float64)

    def project(self, points: NDArray[np.floating]) -> F64:
        """Inner-window UV (..., 2) of stage points; NaN where the point is not in front (c_z <= 0)."""
        c = self.to_camera(points)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = c @ self.uv_rows.T
            uv = h[..., :2] / h[..., 2:]
        uv[c[..., 2] <= 0] = np.nan
        return np.asarray(uv, dtype=np.float64)

    def camera_uv(self, points: NDArray[np.floating]) -> F64:
        """UV (..., 2) in the camera's own image (0..1 on the sensor); NaN behind the camera."""
        return self.inner_to_camera_uv(self.project(points))

    def inner_to_camera_uv(self, uv: NDArray[np.floating]) -> F64:
        """Convert inner-window UV to camera-image UV (both origin top-left)."""
        xl, xr, yt, yb = self.window
        cl, cr, ct, cb = self.camera_window
        u = (xl + np.asarray(uv)[..., 0] * (xr - xl) - cl) / (cr - cl)
        v = (yt + np.asarray(uv)[..., 1] * (yb - yt) - ct) / (cb - ct)
        return np.stack([u, v], axis=-1).astype(np.float64)

    def contains(self, points: NDArray[np.floating]) -> NDArray[np.bool_]:
        """True for stage points (..., 3) inside the inner frustum (on the side planes counts)."""
        d = np.asarray(points, dtype=np.float64) - self.eye
        return np.asarray(np.all(d @ self.planes.T >= 0.0, axis=-1) & (d @ self.rotation[:, 2] > 0), dtype=bool)

    def edge_weight(self, uv: NDArray[np.floating]) -> NDArray[np.float32]:
        """Soft-edge weight (...,) for inner-window UV: 1 inside, ramping linearly to 0 across the
        band at each edge (product of the u and v ramps); 0 outside the window."""
        uv = np.asarray(uv, dtype=np.float32)
        inside = np.all((uv >= 0) & (uv <= 1), axis=-1)
        if self.soft_edge <= 0:
            return np.asarray(inside, dtype=np.float32)
        edge = np.minimum(uv, 1 - uv) / np.float32(self.soft_edge)
        ramp = np.clip(edge, 0, 1)
        return np.asarray(np.where(inside, ramp[..., 0] * ramp[..., 1], np.float32(0)), dtype=np.float32)

    def image_plane_to_stage(self, xy: NDArray[np.floating]) -> F64:
        """Unit stage-frame directions (..., 3) of image-plane points (..., 2)."""
        xy = np.asarray(xy, dtype=np.float64)
        c = np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], axis=-1)
        d = c @ self.rotation.T
        return np.asarray(d / np.linalg.norm(d, axis=-1, keepdims=True), dtype=np.float64)
