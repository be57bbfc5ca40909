"""One canvas under one camera: inner-pixel counts and rectangles, and dense maps on demand.

``CanvasFrustum`` holds the compact result the planner needs every frame (spans per cabinet row,
counts, launch rectangles, image-plane bounds). The canvas-shaped maps (mask, soft-edge weights,
UV) are computed only when asked, only over the rectangle asked for, and only for cabinets with
inner pixels, from each cabinet's bilinear coefficients (no position map is read). They are
float32 and computed cabinet by cabinet, so temporaries stay cabinet-sized.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.dod import ImageBounds, spans_image_points
from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.geometry import CanvasGeometry, Rect
from vpstage.frustum.spans import BlockSpans, block_spans, corners_inside

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Piece:
    """The part of one inner cabinet inside a requested rectangle."""

    spans: BlockSpans
    member: int
    """Index into ``spans.members`` / ``spans.start``."""
    local: Rect
    """Footprint-local columns and rows (x0, y0, x1, y1)."""
    out: tuple[slice, slice]
    """(rows, columns) of the output array."""


@dataclass(frozen=True, kw_only=True)
class CanvasFrustum:
    """Inner pixels of one canvas for one camera frustum (canvas pixel coordinates throughout)."""

    geometry: CanvasGeometry
    frustum: CameraFrustum
    spans: tuple[BlockSpans, ...]
    inner_pixels: int
    inner_rect: Rect | None
    """Bounding rectangle [x0, y0, x1, y1) of the inner pixels (the launch rectangle), or None."""
    image_bounds: ImageBounds | None
    """8-sided image-plane bounds of the inner pixel centres (no margin), or None."""

    @property
    def name(self) -> str:
        return self.geometry.name

    @property
    def outer_pixels(self) -> int:
        return self.geometry.valid_pixels - self.inner_pixels

    def cabinet_rects(self) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
        """(stage cabinet indices (k,), rectangles (k, 4)) of every cabinet with inner pixels."""
        if not self.spans:
            return np.zeros(0, dtype=np.intp), np.zeros((0, 4), dtype=np.int64)
        cabinets = np.concatenate([s.block.cabinets[s.members] for s in self.spans])
        return cabinets, np.concatenate([s.member_rects() for s in self.spans])

    def uv_coefficients(self) -> tuple[NDArray[np.int64], F64]:
        """Compact per-cabinet UV maps for renderers that expand UV themselves (e.g. on the GPU).

        Returns footprints (k, 4) ``[x0, y0, x1, y1)`` on the canvas of every cabinet with inner
        pixels, and coefficients (k, 4, 3): at footprint-local pixel centre (xl, yl),
        ``(u w, v w, w) = c0 + xl c1 + yl c2 + xl yl c3`` and UV = (u w / w, v w / w). Which pixels
        are inner is ``spans`` (or ``mask``); UV outside them is meaningless.
        """
        rects, coefs = [], []
        rows = self.frustum.uv_rows.T
        for spans in self.spans:
            block = spans.block
            for member in spans.members:
                x0, y0 = int(block.x0[member]), int(block.y0[member])
                rects.append([x0, y0, x0 + block.width, y0 + block.height])
                coefs.append(block.relative_coefficients(int(member), self.frustum.eye, self.frustum.rotation) @ rows)
        if not rects:
            return np.zeros((0, 4), dtype=np.int64), np.zeros((0, 4, 3))
        return np.asarray(rects, dtype=np.int64), np.asarray(coefs, dtype=np.float64)

    def is_inner(self, x: int, y: int) -> bool:
        """True when canvas pixel (x, y) is inner (the same test as ``mask``, for one pixel)."""
        for spans in self.spans:
            block = spans.block
            lx, ly = x - block.x0[spans.members], y - block.y0[spans.members]
            hit = np.flatnonzero((lx >= 0) & (lx < block.width) & (ly >= 0) & (ly < block.height))
            if hit.size:
                k = int(hit[0])
                return bool(spans.start[k, ly[k]] <= lx[k] < spans.stop[k, ly[k]])
        return False

    # ------------------------------------------------------------------ dense maps (on demand)

    def _rect(self, rect: Rect | None) -> Rect:
        x0, y0, x1, y1 = rect or (0, 0, self.geometry.width, self.geometry.height)
        if not (0 <= x0 <= x1 <= self.geometry.width and 0 <= y0 <= y1 <= self.geometry.height):
            raise ValueError(f"rect {rect} is not inside canvas {self.name} "
                             f"({self.geometry.width} x {self.geometry.height})")
        return x0, y0, x1, y1

    def pieces(self, rect: Rect | None = None) -> Iterator[Piece]:
        """Each inner cabinet's overlap with ``rect`` (default: the whole canvas)."""
        x0, y0, x1, y1 = self._rect(rect)
        for spans in self.spans:
            block = spans.block
            for k, member in enumerate(spans.members):
                bx, by = int(block.x0[member]), int(block.y0[member])
                lx0, ly0 = max(x0 - bx, 0), max(y0 - by, 0)
                lx1, ly1 = min(x1 - bx, block.width), min(y1 - by, block.height)
                if lx0 < lx1 and ly0 < ly1:
                    yield Piece(spans, k, (lx0, ly0, lx1, ly1),
                                (slice(by + ly0 - y0, by + ly1 - y0), slice(bx + lx0 - x0, bx + lx1 - x0)))

    def mask(self, rect: Rect | None = None) -> NDArray[np.bool_]:
        """(h, w) True for inner pixels over ``rect`` (default: the whole canvas)."""
        x0, y0, x1, y1 = self._rect(rect)
        out = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        for piece in self.pieces(rect):
            out[piece.out] = piece_mask(piece)
        return out

    def uv(self, rect: Rect | None = None, fill: float = -1.0) -> F32:
        """(h, w, 2) inner-window UV of inner pixels over ``rect``; ``fill`` elsewhere."""
        x0, y0, x1, y1 = self._rect(rect)
        out = np.full((y1 - y0, x1 - x0, 2), fill, dtype=np.float32)
        for piece in self.pieces(rect):
            target = out[piece.out]
            self._piece_uv(piece, target)
            if not piece.spans.full[piece.member]:
                target[~piece_mask(piece)] = fill
        return out

    def _piece_uv(self, piece: Piece, target: F32) -> None:
        member = int(piece.spans.members[piece.member])
        cam = piece.spans.block.relative_coefficients(member, self.frustum.eye, self.frustum.rotation)
        u, v, w = bilinear_planes(cam @ self.frustum.uv_rows.T, piece.local)  # homogeneous (u w, v w, w)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.reciprocal(w, out=w)
        np.multiply(u, w, out=target[..., 0])
        np.multiply(v, w, out=target[..., 1])

    def weights(self, rect: Rect | None = None) -> F32:
        """(h, w) soft-edge weights over ``rect``: 0 for outer pixels, 1 inside the window less its
        soft-edge band, ramping across the band (see ``CameraFrustum.edge_weight``)."""
        x0, y0, x1, y1 = self._rect(rect)
        out = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        core = self.frustum.core()
        plain = {id(s): corners_inside(s.block, s.members, core) for s in self.spans}
        for piece in self.pieces(rect):
            if plain[id(piece.spans)][piece.member]:  # wholly inside the band-free core
                out[piece.out] = 1.0
                continue
            uv = np.empty(piece_shape(piece) + (2,), dtype=np.float32)
            self._piece_uv(piece, uv)
            weight = self.frustum.edge_weight(uv)
            if not piece.spans.full[piece.member]:
                weight[~piece_mask(piece)] = 0.0
            out[piece.out] = weight
        return out


def piece_shape(piece: Piece) -> tuple[int, int]:
    lx0, ly0, lx1, ly1 = piece.local
    return ly1 - ly0, lx1 - lx0


def piece_mask(piece: Piece) -> NDArray[np.bool_]:
    """(h, w) inner pixels of a piece."""
    lx0, ly0, lx1, ly1 = piece.local
    spans = piece.spans
    if spans.full[piece.member]:
        return np.ones((ly1 - ly0, lx1 - lx0), dtype=bool)
    cols = np.arange(lx0, lx1, dtype=np.int32)[None, :]
    start = spans.start[piece.member, ly0:ly1, None]
    stop = spans.stop[piece.member, ly0:ly1, None]
    return np.asarray((cols >= start) & (cols < stop), dtype=bool)


def bilinear_planes(coef: F64, local: Rect) -> list[F32]:
    """Bilinear forms ``coef`` (4, k) over the footprint-local pixel centres of ``local``: k (h, w)
    float32 arrays, each built by one outer sum (plus one product for twisted quads)."""
    lx0, ly0, lx1, ly1 = local
    xl = np.arange(lx0, lx1, dtype=np.float32) + np.float32(0.5)
    yl = np.arange(ly0, ly1, dtype=np.float32) + np.float32(0.5)
    c = coef.astype(np.float32)
    out = []
    for j in range(c.shape[1]):
        plane = np.add.outer(yl * c[2, j], c[0, j] + xl * c[1, j])
        if c[3, j] != 0:
            plane += np.multiply.outer(yl, xl * c[3, j])
        out.append(plane)
    return out


def canvas_frustum(geometry: CanvasGeometry, frustum: CameraFrustum) -> CanvasFrustum:
    """The per-frame result for one canvas (cost: O(cabinet rows), no pixel maps)."""
    spans = tuple(s for s in (block_spans(b, frustum) for b in geometry.blocks) if len(s.members))
    if not spans:
        return CanvasFrustum(geometry=geometry, frustum=frustum, spans=(), inner_pixels=0, inner_rect=None,
                             image_bounds=None)
    rects = np.concatenate([s.member_rects() for s in spans])
    rect = (int(rects[:, 0].min()), int(rects[:, 1].min()), int(rects[:, 2].max()), int(rects[:, 3].max()))
    points = np.concatenate([spans_image_points(s, frustum) for s in spans])
    return CanvasFrustum(geometry=geometry, frustum=frustum, spans=spans,
                         inner_pixels=sum(s.inner_pixels for s in spans), inner_rect=rect,
                         image_bounds=ImageBounds.from_points(points))
