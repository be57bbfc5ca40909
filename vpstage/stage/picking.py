"""Ray picking against cabinet quads (what the 3D stage view calls on a click)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

_EPS = 1e-12


@dataclass(frozen=True)
class Hit:
    index: int
    """Cabinet index (row of the corners array)."""
    distance: float
    """Distance along the ray (units of the ray direction; metres for a unit direction)."""
    point: tuple[float, float, float]


def _ray_triangles(origin: F64, direction: F64, a: F64, b: F64, c: F64) -> F64:
    """Möller-Trumbore for many triangles (N, 3) each; returns t per triangle (inf for a miss).

    Both faces count: a cabinet is picked from behind as well as from the front.
    """
    e1, e2 = b - a, c - a
    p = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > _EPS
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - a
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = (q @ direction) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    hit = ok & (u >= 0.0) & (v >= 0.0) & (u + v <= 1.0) & (t > 0.0)
    return np.where(hit, t, np.inf)


def pick_quad(corners: ArrayLike, origin: ArrayLike, direction: ArrayLike) -> Hit | None:
    """The nearest quad hit by the ray ``origin + t * direction`` (t > 0), or None.

    ``corners`` is (N, 4, 3) ``[tl, tr, br, bl]`` in the same frame as the ray (stage metres).
    Each quad is tested as two triangles (tl, tr, br) and (tl, br, bl).
    """
    quads = np.asarray(corners, dtype=np.float64).reshape(-1, 4, 3)
    if len(quads) == 0:
        return None
    o = np.asarray(origin, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    t_first = _ray_triangles(o, d, quads[:, 0], quads[:, 1], quads[:, 2])
    t_second = _ray_triangles(o, d, quads[:, 0], quads[:, 2], quads[:, 3])
    t = np.minimum(t_first, t_second)
    best = int(np.argmin(t))
    if not np.isfinite(t[best]):
        return None
    point = o + t[best] * d
    return Hit(best, float(t[best]), (float(point[0]), float(point[1]), float(point[2])))
