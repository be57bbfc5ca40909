"""How a camera view is cut into tiles that other render nodes render (pure, shared by the frame
master and the nodes).

A tile is a band of rows of the rectangle a node's shared camera view renders
(``render.scene.shared_views``): band ``index`` of ``count`` of ``rect``. The master never knows
that rectangle (it follows from the exact inner pixels, computed on the nodes); it names bands by
index, and owner and helper cut the same rectangle the same way with :func:`band_rects`.
"""

from __future__ import annotations

from collections.abc import Iterable

Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1), inclusive-exclusive pixels."""
MAX_TILES = 64
"""Bands a view may be cut into."""
TILE_BYTES_PER_PIXEL = 20
"""float32 rgb, alpha and depth: what one band pixel costs on the wire."""


def band_rects(rect: Rect, count: int) -> list[Rect]:
    """``rect`` cut into ``count`` bands of rows, top to bottom, as equal as whole rows allow (a
    rectangle with fewer rows than ``count`` gives empty bands at the end). Every row belongs to
    exactly one band."""
    if not 1 <= count <= MAX_TILES:
        raise ValueError(f"{count} bands (1 to {MAX_TILES})")
    x0, y0, x1, y1 = rect
    rows = max(0, y1 - y0)
    edges = [y0 + (rows * i) // count for i in range(count + 1)]
    return [(x0, edges[i], x1, edges[i + 1]) for i in range(count)]


def runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ``indices`` as (first, end) runs of consecutive bands: a node renders each run of
    the bands it keeps as one rectangle."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def span(rects: list[Rect], first: int, end: int) -> Rect:
    """The rectangle covering bands ``first`` .. ``end - 1`` of :func:`band_rects`."""
    return rects[first][0], rects[first][1], rects[end - 1][2], rects[end - 1][3]
