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


def _ray_triangles(origin: F64, directions: F64, a: F64, b: F64, c: F64) -> F64:
    """Möller-Trumbore for K rays from one origin against N triangles (N, 3) each.

    ``directions`` is (K, 3); returns t (K, N), inf for a miss. Both faces count: a cabinet is
    picked from behind as well as from the front.
    """
    d = directions[:, None, :]
    e1, e2 = b - a, c - a
    p = np.cross(d, e2)
    det = np.sum(e1 * p, axis=-1)
    ok = np.abs(det) > _EPS
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origin - a
    u = np.sum(s * p, axis=-1) * inv
    q = np.cross(s, e1)
    v = np.sum(q * d, axis=-1) * inv
    t = np.sum(e2 * q, axis=-1) * inv
    hit = ok & (u >= 0.0) & (v >= 0.0) & (u + v <= 1.0) & (t > 0.0)
    return np.where(hit, t, np.inf)


def nearest_hits(corners: ArrayLike, origin: ArrayLike, directions: ArrayLike) -> tuple[F64, NDArray[np.intp]]:
    """For each ray ``origin + t * directions[k]`` (t > 0): the nearest quad's t and index.

    ``corners`` is (N, 4, 3) ``[tl, tr, br, bl]``, ``directions`` (K, 3), both in the frame of
    ``origin`` (stage metres). Returns t (K,) (inf where a ray hits nothing) and index (K,)
    (-1 there). Each quad is tested as two triangles (tl, tr, br) and (tl, br, bl).
    """
    quads = np.asarray(corners, dtype=np.float64).reshape(-1, 4, 3)
    dirs = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    if len(quads) == 0:
        return np.full(len(dirs), np.inf), np.full(len(dirs), -1, dtype=np.intp)
    o = np.asarray(origin, dtype=np.float64)
    t = np.minimum(_ray_triangles(o, dirs, quads[:, 0], quads[:, 1], quads[:, 2]),
                   _ray_triangles(o, dirs, quads[:, 0], quads[:, 2], quads[:, 3]))
    best = np.argmin(t, axis=1)
    nearest = t[np.arange(len(dirs)), best]
    return nearest, np.where(np.isfinite(nearest), best, -1).astype(np.intp)


def pick_quad(corners: ArrayLike, origin: ArrayLike, direction: ArrayLike) -> Hit | None:
    """The nearest quad hit by the ray ``origin + t * direction`` (t > 0), or None.

    ``corners`` is (N, 4, 3) ``[tl, tr, br, bl]`` in the same frame as the ray (stage metres).
    """
    d = np.asarray(direction, dtype=np.float64)
    t, index = nearest_hits(corners, origin, d[None])
    if index[0] < 0:
        return None
    point = np.asarray(origin, dtype=np.float64) + t[0] * d
    return Hit(int(index[0]), float(t[0]), (float(point[0]), float(point[1]), float(point[2])))
