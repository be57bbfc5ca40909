"""DoD crop: a scene-space box around the part of the camera frustum a node's inner pixels can show.

Construction (all cheap, no pixel maps):

1. **Image bounds.** Along an LED row the pixel centres project onto a straight segment of the
   image plane, so extremes of any linear function of (x, y) sit at the row's end pixels. The
   8-sided bounds (k-DOP: x, y, x + y, x - y) of a node's inner pixel centres are therefore exact
   from two points per inner row, and are grown by ``dod_margin_px``.
2. **Cone.** Each bound is a plane through the eye: the cone of all rays from the eye through
   the node's inner pixels lies inside those 8 planes (and c_z > 0 follows from them).
3. **Clip.** Cone ∩ {camera depth <= far} ∩ scene bounds (an oriented box, taken into the camera
   frame) is a convex polytope; its vertices come from every triple of bounding planes (at most
   15 planes, 455 small solves) that satisfies all constraints.
4. **Box.** The polytope's axis-aligned bounds in scene space, and an oriented box: the smallest
   by volume among boxes aligned with the camera, the node's sub-cone, the scene axes, the scene
   bounds and the vertices' principal axes.

Every point an inner ray (from the eye, through an inner pixel, up to ``far`` deep) reaches
inside the scene bounds lies in the polytope, hence in both boxes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.spans import BlockSpans
from vpstage.geometry import OrientedBox
from vpstage.tracking.image_window import Window

F64 = NDArray[np.float64]

KDOP_DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])
"""Image-plane directions of the 8-sided bounds: x, y, x + y, x - y."""


@dataclass(frozen=True)
class ImageBounds:
    """8-sided bounds of a set of image-plane points: ``lo <= KDOP_DIRECTIONS @ (x, y) <= hi``."""

    lo: F64
    hi: F64

    @staticmethod
    def from_points(xy: F64) -> ImageBounds:
        proj = np.asarray(xy, dtype=np.float64).reshape(-1, 2) @ KDOP_DIRECTIONS.T
        return ImageBounds(proj.min(axis=0), proj.max(axis=0))

    @staticmethod
    def from_window(window: Window) -> ImageBounds:
        xl, xr, yt, yb = window
        return ImageBounds(np.array([xl, yt, xl + yt, xl - yb]), np.array([xr, yb, xr + yb, xr - yt]))

    def union(self, other: ImageBounds) -> ImageBounds:
        return ImageBounds(np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    def grown(self, margin: float) -> ImageBounds:
        """Grown by ``margin`` (tangent units) in every image-plane direction."""
        reach = margin * np.linalg.norm(KDOP_DIRECTIONS, axis=1)
        return ImageBounds(self.lo - reach, self.hi + reach)

    @property
    def window(self) -> Window:
        """The axis-aligned part: (x_left, x_right, y_top, y_bottom)."""
        return (float(self.lo[0]), float(self.hi[0]), float(self.lo[1]), float(self.hi[1]))

    def cone_planes(self) -> F64:
        """(8, 3) inward normals, camera frame, of planes through the eye bounding the cone."""
        d = np.concatenate([KDOP_DIRECTIONS, np.zeros((4, 1))], axis=1)
        lower = d - np.outer(self.lo, [0.0, 0.0, 1.0])
        upper = np.outer(self.hi, [0.0, 0.0, 1.0]) - d
        return np.concatenate([lower, upper])


def spans_image_points(spans: BlockSpans, frustum: CameraFrustum) -> F64:
    """Image-plane points (N, 2) whose 8-sided bounds are those of every inner pixel centre.

    Partly inner cabinets contribute the first and last inner pixel of each inner row. A wholly
    inner parallelogram cabinet contributes its four corner pixel centres only: the convex hull
    of its pixel centres is theirs, and projection keeps convex hulls.
    """
    cam = spans.block.coef[spans.members].copy()
    cam[:, 0] -= frustum.eye
    cam = cam @ frustum.rotation  # camera-frame coefficients (m, 4, 3)
    w, h = spans.block.width, spans.block.height
    corner_only = spans.full & (not spans.block.twisted)
    rowwise = ~corner_only
    yl = np.arange(h, dtype=np.float64)[None, :, None] + 0.5
    xl = np.stack([spans.start[rowwise] + 0.5, spans.stop[rowwise] - 0.5], axis=-1)  # (p, rows, 2)
    rows = np.broadcast_to(spans.rows_with_pixels()[rowwise][..., None], xl.shape)
    points = [_project(cam[rowwise], xl, yl)[rows]]
    if corner_only.any():
        cx = np.array([[0.5, w - 0.5, 0.5, w - 0.5]])[:, None, :]
        cy = np.array([[0.5, 0.5, h - 0.5, h - 0.5]])[:, None, :]
        points.append(_project(cam[corner_only], cx, cy).reshape(-1, 2))
    return np.concatenate(points)


def _project(cam: F64, xl: F64, yl: F64) -> F64:
    """Image-plane points (..., 2) of local coords (broadcast to (m, ...)) under camera coefficients (m, 4, 3)."""
    k = cam.reshape(cam.shape[:1] + (1,) * (xl.ndim - 1) + cam.shape[1:])
    c = [k[..., 0, j] + xl * k[..., 1, j] + yl * (k[..., 2, j] + xl * k[..., 3, j]) for j in range(3)]
    return np.stack([c[0] / c[2], c[1] / c[2]], axis=-1)


@lru_cache(maxsize=8)
def _triples(count: int) -> NDArray[np.intp]:
    return np.array(list(itertools.combinations(range(count), 3)), dtype=np.intp)


def polytope_vertices(normals: F64, offsets: F64) -> F64:
    """Vertices (m, 3) of ``{c : normals @ c <= offsets}`` (bounded), by enumerating plane triples."""
    tri = _triples(len(normals))
    a, d = normals[tri], offsets[tri]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # singular triples are dropped
        det = np.linalg.det(a)
    scale = np.prod(np.linalg.norm(a, axis=2), axis=1)
    ok = np.abs(det) > 1e-12 * scale
    points = np.linalg.solve(a[ok], d[ok][..., None])[..., 0]
    tol = 1e-9 * max(1.0, float(np.abs(offsets).max()))
    feasible = np.all(points @ normals.T <= offsets + tol * np.linalg.norm(normals, axis=1), axis=1)
    # several triples meet at one vertex (the eye lies on all eight cone planes): keep one of each
    found = points[feasible]
    keys = np.round(found / tol)
    order = np.lexsort(keys.T)
    distinct = np.ones(len(order), dtype=bool)
    distinct[1:] = np.any(np.diff(keys[order], axis=0) != 0, axis=1)
    return np.asarray(found[np.sort(order[distinct])], dtype=np.float64)


def _box_halfspaces(box: OrientedBox) -> tuple[F64, F64]:
    axes = box.rotation.T  # rows: the box axes
    along = axes @ box.center
    return np.concatenate([axes, -axes]), np.concatenate([along + box.half_extents, box.half_extents - along])


@dataclass(frozen=True, kw_only=True)
class DodCrop:
    """A node's DoD crop in scene space (scene units)."""

    box: OrientedBox
    """Oriented box (what renderers pass as ``crop``)."""
    aabb_min: F64
    aabb_max: F64
    """Axis-aligned bounds of the clipped cone (tighter than ``box.aabb()``)."""
    vertices: F64 = field(repr=False)
    """(m, 3) vertices of the clipped cone (a convex polytope), scene frame."""
    plane_normals: F64 = field(repr=False)
    plane_offsets: F64 = field(repr=False)
    """The clipped cone itself, scene frame: ``plane_normals @ p <= plane_offsets`` (P planes: 8
    through the eye, far, and the scene bounds' 6). Renderers may cull against it exactly."""

    def in_cone(self, points: F64, tol: float = 1e-9) -> NDArray[np.bool_]:
        """True for scene points (N, 3) inside the clipped cone (exact, tighter than the boxes)."""
        p = np.asarray(points, dtype=np.float64)
        slack = tol * np.linalg.norm(self.plane_normals, axis=1) * max(1.0, float(np.abs(p).max(initial=0.0)))
        return np.asarray(np.all(p @ self.plane_normals.T <= self.plane_offsets + slack, axis=-1), dtype=bool)

    def contains(self, points: F64, tol: float = 1e-6) -> NDArray[np.bool_]:
        """True for scene points (N, 3) inside both the oriented box and the axis-aligned bounds."""
        p = np.asarray(points, dtype=np.float64)
        in_aabb = np.all((p >= self.aabb_min - tol) & (p <= self.aabb_max + tol), axis=-1)
        return np.asarray(self.box.contains(p, tol) & in_aabb, dtype=bool)


def _smallest_box(points: F64, rotations: list[F64]) -> OrientedBox:
    best: OrientedBox | None = None
    for rot in rotations:
        local = points @ rot
        lo, hi = local.min(axis=0), local.max(axis=0)
        box = OrientedBox(rot @ ((lo + hi) / 2), rot, (hi - lo) / 2)
        if best is None or box.volume() < best.volume():
            best = box
    assert best is not None
    return best


def _frame(forward: F64, right_hint: F64) -> F64:
    z = forward / np.linalg.norm(forward)
    x = right_hint - (right_hint @ z) * z
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def _candidate_rotations(points: F64, cam_rot: F64, cone_axis: F64, bounds: OrientedBox | None) -> list[F64]:
    rotations = [cam_rot, _frame(cone_axis, cam_rot[:, 0]), np.eye(3)]
    if bounds is not None:
        rotations.append(bounds.rotation)
    centred = points - points.mean(axis=0)
    if len(points) >= 4:
        _, vecs = np.linalg.eigh(centred.T @ centred)
        if np.linalg.det(vecs) < 0:
            vecs[:, 0] = -vecs[:, 0]
        rotations.append(vecs)
    return rotations


def dod_crop(frustum: CameraFrustum, image: ImageBounds, stage_to_scene: F64,
             scene_bounds: OrientedBox | None = None, far_m: float | None = None) -> DodCrop | None:
    """Crop of the cone through ``image`` (camera frame bounds), depth <= far, within ``scene_bounds``.

    ``stage_to_scene`` is the placement's 4x4 similarity; ``scene_bounds`` is in the scene frame.
    Returns None when the clipped cone is empty (the node can show no scene content).
    """
    far = frustum.settings.far_m if far_m is None else far_m
    normals = [-image.cone_planes(), np.array([[0.0, 0.0, 1.0]])]
    offsets = [np.zeros(8), np.array([far])]
    scene_to_stage = np.asarray(np.linalg.inv(stage_to_scene), dtype=np.float64)
    if scene_bounds is not None:
        stage_box = scene_bounds.transformed(scene_to_stage)
        cam_box = OrientedBox(frustum.to_camera(stage_box.center), frustum.rotation.T @ stage_box.rotation,
                              stage_box.half_extents)
        n, d = _box_halfspaces(cam_box)
        normals.append(n)
        offsets.append(d)
    cam_vertices = polytope_vertices(np.concatenate(normals), np.concatenate(offsets))
    if len(cam_vertices) == 0:
        return None
    linear = stage_to_scene[:3, :3]
    to_scene = linear @ frustum.rotation  # camera frame -> scene frame (scaled)
    vertices = cam_vertices @ to_scene.T + (linear @ frustum.eye + stage_to_scene[:3, 3])
    rot = to_scene / np.cbrt(abs(np.linalg.det(to_scene)))
    x0, x1, y0, y1 = image.window
    box = _smallest_box(vertices, _candidate_rotations(vertices, rot, rot @ [(x0 + x1) / 2, (y0 + y1) / 2, 1.0],
                                                        scene_bounds))
    pad = 1e-9 * max(1.0, float(np.abs(vertices).max()))
    box = OrientedBox(box.center, box.rotation, box.half_extents + pad)
    # half-spaces n . c <= d in the camera frame become (S^-T n) . p <= d + (S^-T n) . t in the scene
    origin = linear @ frustum.eye + stage_to_scene[:3, 3]
    scene_normals = np.concatenate(normals) @ np.linalg.inv(to_scene)
    scene_offsets = np.concatenate(offsets) + scene_normals @ origin
    return DodCrop(box=box, aabb_min=vertices.min(axis=0) - pad, aabb_max=vertices.max(axis=0) + pad, vertices=vertices,
                   plane_normals=scene_normals, plane_offsets=scene_offsets)
