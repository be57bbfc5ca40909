"""Snapping for the layout editors: section ends to neighbouring sections, rectangles to neighbours.

Plan snapping works on the stage floor plan (x, y metres). A section's *snap points* are the plan
positions of its outer edges: the left edge of its first column and the right edge of its last
column for grid walls, every outer corner for ceilings, the bounding-box corners for meshes.
Dragging a section by an offset snaps it so that one of its snap points lands on a neighbour's
snap point when one is within ``radius``; otherwise the first snap point lands on the grid.

Pixel-map snapping works in canvas pixels: a dragged rectangle's edges stick to the edges of
other rectangles on the same canvas and to the canvas border within ``radius``; otherwise its
top-left corner lands on the grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from vpstage.stage.layout import StageLayout

F64 = NDArray[np.float64]


def section_snap_points(layout: StageLayout, section: int) -> F64:
    """Plan points (K, 2) of section ``section``'s outer edges (see the module docstring)."""
    cab = layout.cabinets
    mask = np.asarray(cab.section, dtype=np.int64) == section
    if not mask.any():
        return np.zeros((0, 2))
    corners = cab.corners[mask][:, :, :2]
    columns = np.asarray(cab.column, dtype=np.int64)[mask]
    if columns.min() < 0:  # mesh: bounding-box corners
        lo, hi = corners.reshape(-1, 2).min(axis=0), corners.reshape(-1, 2).max(axis=0)
        return np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    left = corners[columns == columns.min()][:, [0, 3]].reshape(-1, 2)
    right = corners[columns == columns.max()][:, [1, 2]].reshape(-1, 2)
    points = np.concatenate([left, right])
    # Walls stack rows on the same plan points; ceilings keep their distinct corners.
    return np.unique(np.round(points, 4), axis=0)


def plan_snap_points(layout: StageLayout, sections: Iterable[int]) -> F64:
    chunks = [section_snap_points(layout, s) for s in sections]
    return np.concatenate(chunks) if chunks else np.zeros((0, 2))


def snap_plan_offset(moving: F64, fixed: F64, offset: Sequence[float], *, radius: float,
                     grid: float | None) -> tuple[float, float]:
    """Snap a drag ``offset`` (dx, dy) of the points ``moving`` (M, 2) against ``fixed`` (S, 2).

    Returns the neighbour-snapped offset when some moved point comes within ``radius`` of a fixed
    point (the closest pair wins), else the grid-snapped offset (first moving point on the grid),
    else ``offset`` unchanged.
    """
    d = np.asarray(offset, dtype=np.float64)[:2]
    if len(moving) and len(fixed):
        moved = moving + d
        gaps = fixed[None, :, :] - moved[:, None, :]
        dist = np.linalg.norm(gaps, axis=2)
        m, s = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if dist[m, s] <= radius:
            snapped = d + gaps[m, s]
            return float(snapped[0]), float(snapped[1])
    if grid and len(moving):
        target = np.round((moving[0] + d) / grid) * grid
        snapped = target - moving[0]
        return float(snapped[0]), float(snapped[1])
    return float(d[0]), float(d[1])


def _snap_axis(start: float, size: float, lows: F64, highs: F64, limit: float, radius: float,
               grid: int | None) -> int:
    """Best position of an interval [start, start + size) along one axis."""
    candidates = np.concatenate([highs, lows - size, lows, highs - size, [0.0, limit - size]])
    if len(candidates):
        best = candidates[np.argmin(np.abs(candidates - start))]
        if abs(best - start) <= radius:
            return max(0, round(float(best)))
    if grid:
        return max(0, round(start / grid) * grid)
    return max(0, round(start))


def snap_rect(position: Sequence[float], size: Sequence[int], others: F64, canvas_size: Sequence[int], *,
              radius: float, grid: int | None = None) -> tuple[int, int]:
    """Snap a rectangle's top-left ``position`` (x, y) on a canvas, in canvas pixels.

    ``others`` (K, 4) holds the other rectangles as ``[x0, y0, x1, y1]`` (exclusive ends). Only
    rectangles that overlap the dragged one's span on the other axis (within ``radius``) attract
    an edge, so rectangles far away in a different row do not pull it sideways.
    """
    x, y = float(position[0]), float(position[1])
    w, h = int(size[0]), int(size[1])
    rects = np.asarray(others, dtype=np.float64).reshape(-1, 4)
    near_rows = rects[(rects[:, 1] < y + h + radius) & (rects[:, 3] > y - radius)]
    near_cols = rects[(rects[:, 0] < x + w + radius) & (rects[:, 2] > x - radius)]
    sx = _snap_axis(x, w, near_rows[:, 0], near_rows[:, 2], float(canvas_size[0]), radius, grid)
    sy = _snap_axis(y, h, near_cols[:, 1], near_cols[:, 3], float(canvas_size[1]), radius, grid)
    return sx, sy
