"""What the 3D stage view draws, as plain arrays (Qt-free, GL-free, testable anywhere).

A view is a set of named layers. Each layer is a :class:`LineLayer` (segments) or a
:class:`QuadLayer` (filled quads); positions are stage metres (float32), colours RGBA 0..1
(float32). Backends (OpenGL or QPainter) only turn layers into pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ui import palette
from ui.palette import RGBA
from vpstage.geometry import OrientedBox
from vpstage.stage.layout import StageLayout
from vpstage.tracking.camera import CameraState

F32 = NDArray[np.float32]

# Edges of OrientedBox.corners() (x fastest, then y, then z).
_BOX_EDGES = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7],
                       [0, 4], [1, 5], [2, 6], [3, 7]])


@dataclass(frozen=True)
class LineLayer:
    points: F32
    """(2S, 3): segment k runs from points[2k] to points[2k + 1]."""
    colors: F32
    """(2S, 4): one colour per point (both ends of a segment share it)."""
    width: float = 1.0

    @staticmethod
    def empty() -> LineLayer:
        return LineLayer(np.zeros((0, 3), np.float32), np.zeros((0, 4), np.float32))

    def __len__(self) -> int:
        return len(self.points) // 2


@dataclass(frozen=True)
class QuadLayer:
    corners: F32
    """(N, 4, 3) quads, corners in order around the quad."""
    colors: F32
    """(N, 4) one colour per quad."""

    def __len__(self) -> int:
        return len(self.corners)


Layer = LineLayer | QuadLayer


def _segments(starts: NDArray[np.float64], ends: NDArray[np.float64], colors: NDArray[np.float64],
              width: float = 1.0) -> LineLayer:
    """Segments from parallel (S, 3) arrays and per-segment colours (S, 4)."""
    points = np.stack([starts, ends], axis=1).reshape(-1, 3)
    return LineLayer(points.astype(np.float32), np.repeat(colors, 2, axis=0).astype(np.float32), width)


def concat(layers: Sequence[LineLayer], width: float = 1.0) -> LineLayer:
    if not layers:
        return LineLayer.empty()
    return LineLayer(np.concatenate([x.points for x in layers]), np.concatenate([x.colors for x in layers]), width)


# ----------------------------------------------------------------------------- cabinets


def cabinet_node_index(layout: StageLayout) -> NDArray[np.int64]:
    """Render-node index (project order) of each cabinet; -1 when unmapped or the node is unknown."""
    project, pm = layout.project, layout.pixel_map
    nodes = {n.name: i for i, n in enumerate(project.nodes)}
    canvas_node = np.array([nodes.get(c.node, -1) for c in project.canvases] + [-1], dtype=np.int64)
    return canvas_node[np.where(pm.canvas >= 0, pm.canvas, -1)]


def cabinet_colors(layout: StageLayout) -> NDArray[np.float64]:
    """Node-ownership colour of each cabinet (N, 4)."""
    palette_rows = np.array([palette.node_colour(i) for i in range(len(palette.NODE_COLOURS))] + [palette.UNMAPPED])
    node = cabinet_node_index(layout)
    return np.asarray(palette_rows[np.where(node >= 0, node % len(palette.NODE_COLOURS), -1)], dtype=np.float64)


def _quad_edges(corners: NDArray[np.float64], colors: NDArray[np.float64], width: float) -> LineLayer:
    starts = corners.reshape(-1, 3)
    ends = np.roll(corners, -1, axis=1).reshape(-1, 3)
    return _segments(starts, ends, np.repeat(colors, 4, axis=0), width)


def _empty_quads() -> QuadLayer:
    return QuadLayer(np.zeros((0, 4, 3), np.float32), np.zeros((0, 4), np.float32))


def cabinet_layers(layout: StageLayout, fill_alpha: float = 0.22) -> dict[str, Layer]:
    """``fills`` (node tint) and ``outlines`` (node colour) of every cabinet: what changes only
    with the project. Outlines are pulled a millimetre toward the LED side of each cabinet so a
    depth-tested backend does not hide them behind the fills."""
    cab = layout.cabinets
    if len(cab) == 0:
        return {"fills": _empty_quads(), "outlines": LineLayer.empty()}
    colors = cabinet_colors(layout)
    fills = colors.copy()
    fills[:, 3] = fill_alpha
    lifted = cab.corners + cab.normals()[:, None, :] * 0.001
    return {"fills": QuadLayer(cab.corners.astype(np.float32), fills.astype(np.float32)),
            "outlines": _quad_edges(lifted, colors, 1.0)}


def mark_layers(layout: StageLayout, selection: frozenset[str], problem_ids: frozenset[str]) -> dict[str, Layer]:
    """``mark_fills`` and ``marks``: cabinets with problems (red) and selected ones (white), drawn
    over the base layers; the only layers a selection change rebuilds."""
    cab = layout.cabinets
    ids = np.asarray(cab.ids)
    problem = np.isin(ids, list(problem_ids)) if problem_ids and len(ids) else np.zeros(len(ids), bool)
    selected = np.isin(ids, list(selection)) if selection and len(ids) else np.zeros(len(ids), bool)
    if not (problem.any() or selected.any()):
        return {"mark_fills": _empty_quads(), "marks": LineLayer.empty()}
    normals = cab.normals()[:, None, :]
    outlines, quads, tints = [], [], []
    # Selection is lifted further than problem marks so its white outline wins the depth test.
    kinds = ((problem, palette.PROBLEM, 0.003, 0.45), (selected, palette.SELECTED, 0.006, 0.3))
    for mask, colour, lift, alpha in kinds:
        if mask.any():
            corners = cab.corners[mask] + normals[mask] * lift
            outlines.append(_quad_edges(corners, np.tile(colour, (int(mask.sum()), 1)), 3.0))
            quads.append(corners)
            tints.append(np.tile(palette.with_alpha(colour, alpha), (int(mask.sum()), 1)))
    return {"mark_fills": QuadLayer(np.concatenate(quads).astype(np.float32),
                                    np.concatenate(tints).astype(np.float32)),
            "marks": concat(outlines, 3.0)}


# ----------------------------------------------------------------------------- helpers


def floor_grid(half_size: float, step: float = 1.0) -> LineLayer:
    """A floor grid centred on the stage origin with brighter X (red) and Y (green) axes."""
    n = int(np.ceil(half_size / step))
    ticks = np.arange(-n, n + 1) * step
    starts, ends, colors = [], [], []
    for t in ticks:
        colour = palette.GRID_MAJOR if t == 0 else palette.GRID
        starts += [(t, -n * step, 0.0), (-n * step, t, 0.0)]
        ends += [(t, n * step, 0.0), (n * step, t, 0.0)]
        colors += [colour, colour]
    starts += [(0.0, 0.0, 0.001), (0.0, 0.0, 0.001)]
    ends += [(1.0, 0.0, 0.001), (0.0, 1.0, 0.001)]
    colors += [palette.AXIS_X, palette.AXIS_Y]
    return _segments(np.array(starts), np.array(ends), np.array(colors))


def marker(point: Sequence[float], size: float, colour: RGBA) -> LineLayer:
    """A 3-axis cross at ``point`` (e.g. the outer-frustum viewpoint)."""
    p = np.asarray(point, dtype=np.float64)
    axes = np.eye(3) * size / 2
    return _segments(p - axes, p + axes, np.tile(colour, (3, 1)))


def box_lines(boxes: Sequence[OrientedBox], colors: Sequence[RGBA], width: float = 1.5) -> LineLayer:
    """The 12 edges of each box (stage frame)."""
    if not boxes:
        return LineLayer.empty()
    corners = np.stack([b.corners() for b in boxes])
    starts = corners[:, _BOX_EDGES[:, 0]].reshape(-1, 3)
    ends = corners[:, _BOX_EDGES[:, 1]].reshape(-1, 3)
    return _segments(starts, ends, np.repeat(np.asarray(colors, dtype=np.float64), 12, axis=0), width)


def scene_bounds(layout: StageLayout) -> list[OrientedBox]:
    """Stage-frame boxes of the enabled scene assets that declare bounds in the project."""
    boxes = []
    for asset in layout.project.scene:
        if asset.enabled and asset.bounds_min is not None and asset.bounds_max is not None:
            box = OrientedBox.from_aabb(np.asarray(asset.bounds_min), np.asarray(asset.bounds_max))
            boxes.append(box.transformed(asset.placement.scene_to_stage()))
    return boxes


def polylines(paths: Sequence[NDArray[np.float64]], colour: RGBA, closed: bool = True, width: float = 2.0) -> LineLayer:
    """Segments along each (K, 3) path (e.g. the inner-frustum footprint on each wall section)."""
    chunks = []
    for path in paths:
        p = np.asarray(path, dtype=np.float64).reshape(-1, 3)
        if len(p) < 2:
            continue
        ends = np.roll(p, -1, axis=0) if closed else p[1:]
        starts = p if closed else p[:-1]
        chunks.append(_segments(starts, ends, np.tile(colour, (len(starts), 1)), width))
    return concat(chunks, width)


def frustum_lines(camera: CameraState, far_m: float, colour: RGBA = palette.CAMERA) -> LineLayer:
    """The camera's viewing pyramid out to ``far_m`` metres (eye to the four image corners, the
    far rectangle, and a short up tick showing which way is image-up)."""
    k = camera.intrinsics()
    pixels = np.array([[0.0, 0.0], [k.width, 0.0], [k.width, k.height], [0.0, k.height]])
    rays = np.stack([(pixels[:, 0] - k.cx) / k.fx, (pixels[:, 1] - k.cy) / k.fy, np.ones(4)], axis=1)
    far = camera.eye + (rays * far_m) @ camera.rotation.T
    eye = np.tile(camera.eye, (4, 1))
    top_mid = (far[0] + far[1]) / 2
    up_tick = top_mid - camera.rotation[:, 1] * far_m * 0.08
    starts = np.concatenate([eye, far, top_mid[None]])
    ends = np.concatenate([far, np.roll(far, -1, axis=0), up_tick[None]])
    return _segments(starts, ends, np.tile(colour, (len(starts), 1)), 2.0)


def stage_extent(layout: StageLayout) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounding box (lo, hi) of every cabinet and the floor origin (metres)."""
    pts = layout.cabinets.corners.reshape(-1, 3)
    pts = np.concatenate([pts, np.zeros((1, 3))])
    return pts.min(axis=0), pts.max(axis=0)
