"""Rotations in the stage frame.

Stage frame: right-handed, metres, +Z up, +Y toward the main wall, +X to the right when facing +Y.

Pan/tilt/roll follow FreeD and OpenTrackIO (see the protocol reference §1.5, §2.4):

* pan: heading from +Y, positive turns right (clockwise seen from above);
* tilt: elevation of the optical axis, positive looks up;
* roll: about the optical axis, positive is clockwise seen from behind the camera.

The *body* frame of a camera at zero pan/tilt/roll is x right, y forward, z up, aligned with the
stage axes. ``body_rotation`` returns the matrix whose columns are the body axes in the stage
frame: ``R = Rz(-pan) @ Rx(tilt) @ Ry(roll)`` (intrinsic Z, X, Y), which gives the forward vector
``(sin pan cos tilt, cos pan cos tilt, sin tilt)``.

Renderers use the OpenCV camera frame (x right, y down, z forward). ``camera_rotation`` returns
the camera-to-stage rotation for that frame.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Mat3 = NDArray[np.float64]

# Columns: the OpenCV camera axes (x right, y down, z forward) expressed in the body frame.
CV_FROM_BODY: Mat3 = np.array(
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], dtype=np.float64
)


def _rx(deg: float) -> Mat3:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _ry(deg: float) -> Mat3:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rz(deg: float) -> Mat3:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def body_rotation(pan_deg: float, tilt_deg: float, roll_deg: float) -> Mat3:
    """Body-to-stage rotation (columns: right, forward, up) for FreeD/OpenTrackIO angles."""
    return _rz(-pan_deg) @ _rx(tilt_deg) @ _ry(roll_deg)


def camera_rotation(pan_deg: float, tilt_deg: float, roll_deg: float) -> Mat3:
    """OpenCV-camera-to-stage rotation (columns: image right, image down, optical axis)."""
    return body_rotation(pan_deg, tilt_deg, roll_deg) @ CV_FROM_BODY


def pan_tilt_roll_from_rotation(body: Mat3) -> tuple[float, float, float]:
    """Inverse of :func:`body_rotation` (degrees). Pan is in (-180, 180], tilt in [-90, 90]."""
    forward = body[:, 1]
    tilt = math.degrees(math.asin(max(-1.0, min(1.0, float(forward[2])))))
    if abs(forward[2]) < 1.0 - 1e-9:
        pan = math.degrees(math.atan2(float(forward[0]), float(forward[1])))
        # roll from the right vector's elevation relative to the horizontal right vector
        level = body_rotation(pan, tilt, 0.0)
        rel = level.T @ body
        roll = math.degrees(math.atan2(float(rel[0, 2]), float(rel[0, 0])))
    else:  # looking straight up or down: fold roll into pan
        right = body[:, 0]
        pan = math.degrees(math.atan2(-float(right[1]), float(right[0])))
        roll = 0.0
    return pan, tilt, roll


def look_at_rotation(eye: NDArray[np.float64], target: NDArray[np.float64],
                     up: NDArray[np.float64] | None = None) -> Mat3:
    """OpenCV-camera-to-world rotation for a camera at ``eye`` looking at ``target``.

    ``up`` is the world up direction (default +Z). Image "down" is opposite to ``up``.
    """
    up_vec = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up_vec)
    if np.linalg.norm(right) < 1e-9:  # looking along up: pick any right vector
        right = np.cross(forward, np.array([1.0, 0.0, 0.0]))
        if np.linalg.norm(right) < 1e-9:
            right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward], axis=1)


def quat_to_matrix(q: NDArray[np.float64]) -> Mat3:
    """Unit quaternion (w, x, y, z) to a rotation matrix (normalises first)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def matrix_to_quat(m: Mat3) -> NDArray[np.float64]:
    """Rotation matrix to a unit quaternion (w, x, y, z) with w >= 0."""
    m = np.asarray(m, dtype=np.float64)
    trace = float(np.trace(m))
    if trace > 0:
        s = math.sqrt(trace + 1.0) * 2
        q = np.array([0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s])
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2
        q = np.array([(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s])
    elif m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2
        q = np.array([(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s])
    else:
        s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2
        q = np.array([(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s])
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q
