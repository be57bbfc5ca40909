"""Calibrated camera state in the stage frame (what the frustum, planner and renderers consume)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vpstage.geometry.pinhole import Intrinsics
from vpstage.geometry.rotations import camera_rotation
from vpstage.tracking.distortion import NO_DISTORTION, LensDistortion

F64 = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class CameraState:
    """A tracked film camera at one instant, in the stage frame.

    ``eye`` is the entrance pupil (the render eye), metres. ``rotation`` is OpenCV-camera -> stage:
    its columns are the image-right, image-down and optical-axis directions. The sensor size and
    focal length give the intrinsics for any image size; ``principal_offset_mm`` shifts the optical
    centre on the sensor (+x right, +y down). ``distortion`` is the lens's whole distortion model
    (:class:`~vpstage.tracking.distortion.LensDistortion`: model, k1..k6, p1, p2, overscan, centre
    offset); a legacy ``(k1, k2, p1, p2)`` tuple is read as Brown-Conrady D-U.
    """

    eye: F64
    rotation: F64
    focal_length_mm: float
    sensor_width_mm: float
    sensor_height_mm: float
    image_width: int = 3840
    image_height: int = 2160
    principal_offset_mm: tuple[float, float] = (0.0, 0.0)
    distortion: LensDistortion = NO_DISTORTION
    focus_distance_m: float | None = None
    f_stop: float | None = None
    time_ns: int = 0
    """Monotonic time this state describes."""
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.distortion, LensDistortion):  # a legacy (k1, k2, p1, p2) tuple
            object.__setattr__(self, "distortion", LensDistortion.coerce(self.distortion))

    @staticmethod
    def from_pan_tilt_roll(position_m: tuple[float, float, float], pan_deg: float, tilt_deg: float,
                           roll_deg: float, focal_length_mm: float, sensor_width_mm: float,
                           sensor_height_mm: float, image_width: int = 3840, image_height: int = 2160,
                           **kwargs: object) -> CameraState:
        """A camera posed with FreeD/OpenTrackIO angles (see vpstage.geometry.rotations)."""
        return CameraState(eye=np.asarray(position_m, dtype=np.float64),
                           rotation=camera_rotation(pan_deg, tilt_deg, roll_deg), focal_length_mm=focal_length_mm,
                           sensor_width_mm=sensor_width_mm, sensor_height_mm=sensor_height_mm, image_width=image_width,
                           image_height=image_height, **kwargs)  # type: ignore[arg-type]

    def intrinsics(self, width: int | None = None, height: int | None = None) -> Intrinsics:
        w = self.image_width if width is None else width
        h = self.image_height if height is None else height
        fx = self.focal_length_mm * w / self.sensor_width_mm
        fy = self.focal_length_mm * h / self.sensor_height_mm
        cx = w / 2 + self.principal_offset_mm[0] * w / self.sensor_width_mm
        cy = h / 2 + self.principal_offset_mm[1] * h / self.sensor_height_mm
        return Intrinsics(fx=fx, fy=fy, cx=cx, cy=cy, width=w, height=h)

    def distortion_centre(self) -> tuple[float, float]:
        """The distortion centre relative to the principal point, normalized image coordinates
        (x right, y down): what ``vpstage.tracking.distortion.undistort_points`` takes."""
        return self.distortion.centre(self.focal_length_mm)

    def camera_to_world(self) -> F64:
        m = np.eye(4)
        m[:3, :3] = self.rotation
        m[:3, 3] = self.eye
        return m

    def world_to_camera(self) -> F64:
        """Stage -> OpenCV camera (4x4)."""
        m = np.eye(4)
        m[:3, :3] = self.rotation.T
        m[:3, 3] = -self.rotation.T @ self.eye
        return m

    def fov_deg(self) -> tuple[float, float]:
        """Horizontal and vertical field of view of the full sensor (degrees)."""
        h = 2 * math.degrees(math.atan(self.sensor_width_mm / (2 * self.focal_length_mm)))
        v = 2 * math.degrees(math.atan(self.sensor_height_mm / (2 * self.focal_length_mm)))
        return h, v

    @property
    def forward(self) -> F64:
        return np.asarray(self.rotation[:, 2], dtype=np.float64)
