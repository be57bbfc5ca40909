"""The inner frustum's footprint on the wall: where the edges of the inner window land on the LEDs.

Rays from the eye through points spaced along the border of the inner window (sensor window, FOV
multiplier and overscan, ``vpstage.frustum.frustum``) are cast against the cabinet quads; each
ray's nearest hit is a footprint point. Consecutive hits form polylines: one closed loop when the
whole border lands on LEDs, else open pieces that end where the border leaves the wall (over the
top of a wall without a ceiling, onto the floor, past the end of an arc). Between two samples the
outline is a straight chord, so ``samples_per_edge`` sets how closely it follows a curved wall.

Only cabinets facing the eye count (as for inner pixels: the eye in front of the cabinet's plane);
occlusion between sections is not modelled (as elsewhere in this package): each ray takes the
nearest facing cabinet it meets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.frustum import CameraFrustum
from vpstage.stage.picking import nearest_hits

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Footprint:
    """Footprint polylines in the stage frame (metres), each (K, 3) with K >= 2."""

    paths: tuple[F64, ...]
    closed: bool
    """True when ``paths`` is one loop around the whole window (its last point joins its first)."""
    cabinets: frozenset[int]
    """Indices of the cabinets the border crosses."""


def window_border(window: tuple[float, float, float, float], samples_per_edge: int) -> F64:
    """Image-plane points (4 * samples_per_edge, 2) around ``(x_left, x_right, y_top, y_bottom)``,
    clockwise on the image from the top-left corner, each corner once."""
    xl, xr, yt, yb = window
    s = np.linspace(0.0, 1.0, samples_per_edge, endpoint=False)
    top = np.stack([xl + s * (xr - xl), np.full_like(s, yt)], axis=1)
    right = np.stack([np.full_like(s, xr), yt + s * (yb - yt)], axis=1)
    bottom = np.stack([xr - s * (xr - xl), np.full_like(s, yb)], axis=1)
    left = np.stack([np.full_like(s, xl), yb - s * (yb - yt)], axis=1)
    return np.concatenate([top, right, bottom, left])


def _runs(hit: NDArray[np.bool_]) -> list[NDArray[np.intp]]:
    """Index runs of consecutive True values around a cyclic mask (a run may wrap past the end)."""
    n = len(hit)
    misses = np.flatnonzero(~hit)
    if len(misses) == 0:
        return [np.arange(n)]
    start = int(misses[0])
    order = (np.arange(n) + start) % n  # begin on a miss, so no run wraps in this order
    runs, current = [], []
    for i in order:
        if hit[i]:
            current.append(i)
        elif current:
            runs.append(np.asarray(current, dtype=np.intp))
            current = []
    if current:
        runs.append(np.asarray(current, dtype=np.intp))
    return runs


def facing_eye(corners: F64, eye: F64) -> NDArray[np.bool_]:
    """Which cabinets (N, 4, 3) ``[tl, tr, br, bl]`` show their LEDs to ``eye``."""
    right = corners[:, 1] - corners[:, 0] + corners[:, 2] - corners[:, 3]
    up = corners[:, 0] - corners[:, 3] + corners[:, 1] - corners[:, 2]
    normals = np.cross(right, up)  # out of the LEDs (vpstage.stage.cabinets.Cabinets.normals)
    return np.asarray(np.einsum("ij,ij->i", normals, eye - corners.mean(axis=1)) > 0, dtype=bool)


def wall_footprint(frustum: CameraFrustum, corners: F64, samples_per_edge: int = 24) -> Footprint:
    """The border of ``frustum``'s inner window traced on the cabinets ``corners`` (N, 4, 3)
    that face the eye."""
    border = window_border(frustum.window, samples_per_edge)
    directions = frustum.image_plane_to_stage(border)
    facing = np.flatnonzero(facing_eye(corners, frustum.eye))
    if len(facing) == 0:
        return Footprint((), False, frozenset())
    t, local = nearest_hits(corners[facing], frustum.eye, directions)
    index = np.where(local >= 0, facing[np.maximum(local, 0)], -1)
    hit = index >= 0
    points = frustum.eye + np.where(hit, t, 0.0)[:, None] * directions
    cabinets = frozenset(int(i) for i in index[hit])
    if hit.all():
        return Footprint((points,), True, cabinets)
    paths = tuple(points[run] for run in _runs(hit) if len(run) >= 2)
    return Footprint(paths, False, cabinets)
