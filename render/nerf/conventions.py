"""Frames of a NeRF asset and instant-ngp's conventions.

* **Asset frame**: the world frame of the ``transforms.json`` the NeRF was trained from (instant-ngp
  calls it "nerf space"). Cameras, crop boxes, ``bounds()`` and depths use it.
* **Normalised frame** (instant-ngp's "ngp space"): where the field, the occupancy grid and the
  marcher live. ``p_ngp = P (scale * p_asset + offset)`` with P the axis cycle
  ``(x, y, z) -> (y, z, x)`` (no cycle for Mitsuba-style datasets). The training aabb is the cube of
  side ``aabb_scale`` centred on (0.5, 0.5, 0.5).
* instant-ngp camera matrices (camera-to-world 3x4, snapshot ``camera.matrix`` and dataset
  ``xforms``) are in the normalised frame with OpenCV camera axes; ``transforms.json`` matrices
  are OpenGL camera-to-world in the asset frame (columns 1 and 2 negated).
"""

from __future__ import annotations

import numpy as np

from vpstage.geometry import OrientedBox

AXIS_CYCLE = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
"""P with P @ (x, y, z) = (y, z, x): instant-ngp's ``nerf_matrix_to_ngp`` row cycle."""
NGP_DEFAULT_SCALE = 0.33
NGP_DEFAULT_OFFSET = (0.5, 0.5, 0.5)
OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


def asset_to_field_matrix(scale: float, offset: np.ndarray | tuple[float, float, float],
                          from_mitsuba: bool = False) -> np.ndarray:
    """4x4 similarity taking asset-frame points to the normalised frame."""
    p = np.eye(3) if from_mitsuba else AXIS_CYCLE
    m = np.eye(4)
    m[:3, :3] = p * scale
    m[:3, 3] = p @ np.asarray(offset, dtype=np.float64)
    return m


def similarity_scale(matrix: np.ndarray) -> float:
    """Uniform scale of a similarity (the length of its first column: exact for scaled permutations)."""
    return float(np.linalg.norm(np.asarray(matrix, dtype=np.float64)[:3, 0]))


def nerf_matrix_to_ngp(c2w_opengl: np.ndarray, asset_to_field: np.ndarray) -> np.ndarray:
    """transforms.json camera-to-world (4x4 or 3x4, OpenGL, asset frame) -> instant-ngp 3x4."""
    c2w = np.asarray(c2w_opengl, dtype=np.float64)[:3, :4] @ OPENGL_TO_OPENCV
    s = similarity_scale(asset_to_field)
    rot = asset_to_field[:3, :3] / s
    out = np.zeros((3, 4))
    out[:, :3] = rot @ c2w[:, :3]
    out[:, 3] = asset_to_field[:3, :3] @ c2w[:, 3] + asset_to_field[:3, 3]
    return out


def ngp_matrix_to_nerf(c2w_ngp: np.ndarray, asset_to_field: np.ndarray) -> np.ndarray:
    """instant-ngp 3x4 camera-to-world -> transforms.json 4x4 (OpenGL, asset frame)."""
    m = np.asarray(c2w_ngp, dtype=np.float64)[:3, :4]
    s = similarity_scale(asset_to_field)
    rot = asset_to_field[:3, :3] / s
    out = np.eye(4)
    out[:3, :3] = rot.T @ m[:, :3]
    out[:3, 3] = np.linalg.solve(asset_to_field[:3, :3], m[:, 3] - asset_to_field[:3, 3])
    return out @ OPENGL_TO_OPENCV


def box_from_ngp(aabb_min: np.ndarray, aabb_max: np.ndarray, to_local: np.ndarray) -> OrientedBox:
    """instant-ngp crop box (``render_aabb`` in local coordinates ``to_local @ p``) as a normalised-frame box."""
    lo, hi = np.asarray(aabb_min, dtype=np.float64), np.asarray(aabb_max, dtype=np.float64)
    rot = np.asarray(to_local, dtype=np.float64).T
    return OrientedBox(rot @ ((lo + hi) / 2), rot, np.maximum(hi - lo, 0.0) / 2)


def box_to_ngp(box: OrientedBox) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised-frame box -> (render_aabb min, max, render_aabb_to_local)."""
    to_local = box.rotation.T
    center = to_local @ box.center
    return center - box.half_extents, center + box.half_extents, to_local


def field_to_asset_matrix(asset_to_field: np.ndarray) -> np.ndarray:
    return np.linalg.inv(asset_to_field)
