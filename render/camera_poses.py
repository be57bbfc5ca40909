"""Pinhole camera helpers shared by previews, tests and tools (OpenCV convention, any asset)."""

from __future__ import annotations

import math

import numpy as np

from render.assets import PinholeCamera
from vpstage.geometry import look_at_rotation

AXIS_VECTORS: dict[str, tuple[float, float, float]] = {
    "x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0),
    "-x": (-1.0, 0.0, 0.0), "-y": (0.0, -1.0, 0.0), "-z": (0.0, 0.0, -1.0),
}


def axis_vector(name: str) -> np.ndarray:
    """Unit vector for an axis name 'x', 'y', 'z', '-x', '-y', '-z' (also accepts a leading '+')."""
    key = name.strip().lower().lstrip("+")
    if key not in AXIS_VECTORS:
        raise ValueError(f"unknown axis {name!r} (use x, y, z, -x, -y or -z)")
    return np.array(AXIS_VECTORS[key])


def world_to_camera_from_pose(rotation: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """4x4 world -> camera for an OpenCV camera-to-world ``rotation`` (columns right, down, forward)."""
    view = np.eye(4)
    view[:3, :3] = rotation.T
    view[:3, 3] = -rotation.T @ np.asarray(eye, dtype=np.float64)
    return view


def focal_for_fov(fov_deg: float, pixels: int) -> float:
    """Focal length in pixels giving a field of view of ``fov_deg`` across ``pixels``."""
    return pixels / (2.0 * math.tan(math.radians(fov_deg) / 2.0))


def look_at_camera(eye: np.ndarray, target: np.ndarray, up: np.ndarray, *, width: int, height: int,
                   vertical_fov_deg: float) -> PinholeCamera:
    """A centred pinhole at ``eye`` looking at ``target`` with image-up along ``up`` (square pixels)."""
    rotation = look_at_rotation(np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64),
                                np.asarray(up, dtype=np.float64))
    f = focal_for_fov(vertical_fov_deg, height)
    return PinholeCamera(world_to_camera=world_to_camera_from_pose(rotation, eye), fx=f, fy=f, cx=width / 2.0,
                         cy=height / 2.0, width=width, height=height)
