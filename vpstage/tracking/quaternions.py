"""Unit quaternions as plain float tuples (w, x, y, z): cheap enough to run per sample and per frame.

A quaternion here rotates camera *body* axes (right, forward, up) into the tracker or stage frame,
the same rotation as ``vpstage.geometry.rotations.body_rotation``.
"""

from __future__ import annotations

import math

import numpy as np

from vpstage.geometry.rotations import pan_tilt_roll_from_rotation, quat_to_matrix

Quat = tuple[float, float, float, float]


def quat_mul(a: Quat, b: Quat) -> Quat:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw)


def quat_from_pan_tilt_roll(pan_deg: float, tilt_deg: float, roll_deg: float) -> Quat:
    """``Rz(-pan) Rx(tilt) Ry(roll)`` as a quaternion (matches ``body_rotation``)."""
    hp, ht, hr = math.radians(-pan_deg) / 2, math.radians(tilt_deg) / 2, math.radians(roll_deg) / 2
    qz = (math.cos(hp), 0.0, 0.0, math.sin(hp))
    qx = (math.cos(ht), math.sin(ht), 0.0, 0.0)
    qy = (math.cos(hr), 0.0, math.sin(hr), 0.0)
    return quat_mul(quat_mul(qz, qx), qy)


def normalized(q: Quat) -> Quat:
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def same_hemisphere(reference: Quat, q: Quat) -> Quat:
    """``q`` or ``-q`` (the same rotation), whichever is closer to ``reference``."""
    dot = reference[0] * q[0] + reference[1] * q[1] + reference[2] * q[2] + reference[3] * q[3]
    return q if dot >= 0 else (-q[0], -q[1], -q[2], -q[3])


def slerp(a: Quat, b: Quat, t: float) -> Quat:
    """Spherical interpolation along the short arc; ``t`` outside [0, 1] extrapolates."""
    b = same_hemisphere(a, b)
    dot = min(1.0, a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3])
    if dot > 1.0 - 1e-12:  # (nearly) equal: sin(theta) ~ 0, and linear blending is exact to ~1e-6 deg
        return normalized(tuple(x + t * (y - x) for x, y in zip(a, b, strict=True)))  # type: ignore[arg-type]
    theta = math.acos(dot)
    sin_theta = math.sin(theta)
    wa, wb = math.sin((1 - t) * theta) / sin_theta, math.sin(t * theta) / sin_theta
    return normalized((wa * a[0] + wb * b[0], wa * a[1] + wb * b[1], wa * a[2] + wb * b[2], wa * a[3] + wb * b[3]))


def quat_matrix(q: Quat) -> np.ndarray:
    """3x3 rotation matrix (columns: the body axes)."""
    return quat_to_matrix(np.asarray(q, dtype=np.float64))


def pan_tilt_roll(q: Quat) -> tuple[float, float, float]:
    """Pan, tilt, roll (degrees) of a body quaternion; the inverse of ``quat_from_pan_tilt_roll``.

    Closed form from the forward and right axes (a few microseconds); within 1e-6 of straight up
    or down it defers to ``pan_tilt_roll_from_rotation``, which folds roll into pan there.
    """
    w, x, y, z = q
    fx, fy, fz = 2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)
    if abs(fz) > 1.0 - 1e-6:
        return pan_tilt_roll_from_rotation(quat_matrix(q))
    pan = math.atan2(fx, fy)
    tilt = math.asin(fz)
    rx, ry, rz = 1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)
    level_right = rx * math.cos(pan) - ry * math.sin(pan)  # right axis . the level right direction
    roll = math.atan2(-rz / math.cos(tilt), level_right)
    return math.degrees(pan), math.degrees(tilt), math.degrees(roll)


def angle_between_deg(a: Quat, b: Quat) -> float:
    dot = abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3])
    return math.degrees(2 * math.acos(min(1.0, dot)))
