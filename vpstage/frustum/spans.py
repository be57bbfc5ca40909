"""Which LED pixels are inner: exact per-row column spans, computed per cabinet without pixel maps.

Along one footprint row (fixed ``yl``) an LED position is affine in ``xl`` (see
:mod:`vpstage.frustum.geometry`), so each frustum side-plane test ``n . (p - eye) >= 0`` is linear
in ``xl`` and the inner pixels of the row are one interval ``[start, stop)`` of columns. The cost is
O(cabinets x rows) instead of O(pixels): for a 3840 x 2160 canvas of 176-pixel cabinets that is
~34k rows instead of 8.3M pixels.

Cabinets are culled first: a cabinet whose LEDs face away from the eye (the eye is behind its
plane) has no inner pixels, nor has one whose bounding sphere lies outside a side plane.
Occlusion of one section by another is not modelled (a volume seen from inside has none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.geometry import CabinetBlock

I32 = NDArray[np.int32]


@dataclass(frozen=True, kw_only=True)
class BlockSpans:
    """Inner pixels of one cabinet block: only members with at least one inner pixel are kept.

    ``start``/``stop`` (m, footprint height) are local column bounds per footprint row; a row
    with ``stop == start`` has no inner pixel. ``full`` marks members whose whole footprint is inner.
    """

    block: CabinetBlock
    members: NDArray[np.intp]
    """(m,) indices into the block's arrays."""
    start: I32
    stop: I32
    counts: NDArray[np.int64]
    """(m,) inner pixels per member."""
    full: NDArray[np.bool_]

    @property
    def inner_pixels(self) -> int:
        return int(self.counts.sum())

    def rows_with_pixels(self) -> NDArray[np.bool_]:
        return np.asarray(self.stop > self.start, dtype=bool)

    def member_rects(self) -> NDArray[np.int64]:
        """(m, 4) canvas rectangles [x0, y0, x1, y1) bounding each member's inner pixels."""
        rows = self.rows_with_pixels()
        h, w = self.start.shape[1], self.block.width
        first = np.argmax(rows, axis=1)
        last = h - np.argmax(rows[:, ::-1], axis=1)
        left = np.where(rows, self.start, w).min(axis=1)
        right = np.where(rows, self.stop, 0).max(axis=1)
        x0, y0 = self.block.x0[self.members], self.block.y0[self.members]
        return np.stack([x0 + left, y0 + first, x0 + right, y0 + last], axis=1).astype(np.int64)


def classify_members(block: CabinetBlock, frustum: CameraFrustum) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Members that may have inner pixels, and which of those are wholly inner.

    A member is dropped when its LEDs face away from the eye or its bounding sphere lies outside
    a side plane. It is wholly inner when its four corners are inside every side plane: the
    bilinear patch lies in its corners' convex hull, and the frustum is convex.
    """
    planes = frustum.planes
    unit = planes / np.linalg.norm(planes, axis=1, keepdims=True)
    rel = block.centers - frustum.eye
    inside = np.all(rel @ unit.T >= -block.radii[:, None], axis=1)
    facing = np.einsum("ij,ij->i", block.normals, -rel) > 0
    members = np.flatnonzero(inside & facing)
    return members, corners_inside(block, members, frustum)


def corners_inside(block: CabinetBlock, members: NDArray[np.intp], frustum: CameraFrustum) -> NDArray[np.bool_]:
    """(m,) True where all four footprint corners of a member are inside the frustum's side planes."""
    coef = block.coef[members]
    w, h = float(block.width), float(block.height)
    corners = np.stack([coef[:, 0], coef[:, 0] + w * coef[:, 1], coef[:, 0] + h * coef[:, 2],
                        coef[:, 0] + w * coef[:, 1] + h * coef[:, 2] + w * h * coef[:, 3]], axis=1)
    return np.asarray(np.all((corners - frustum.eye) @ frustum.planes.T >= 0, axis=(1, 2)), dtype=bool)


def _empty(block: CabinetBlock) -> BlockSpans:
    none = np.zeros((0, block.height), dtype=np.int32)
    return BlockSpans(block=block, members=np.zeros(0, dtype=np.intp), start=none, stop=none.copy(),
                      counts=np.zeros(0, dtype=np.int64), full=np.zeros(0, dtype=bool))


def row_spans(block: CabinetBlock, members: NDArray[np.intp], frustum: CameraFrustum) -> tuple[I32, I32]:
    """Per-row inner column bounds (m, rows) of ``members``: the kernel described in the module docstring."""
    coef = block.coef[members]
    planes = frustum.planes  # (4, 3)
    yl = np.arange(block.height, dtype=np.float64) + 0.5
    # plane value along a row: alpha + xl * beta, each (4, m, rows)
    alpha = (planes @ (coef[:, 0] - frustum.eye).T)[:, :, None] + (planes @ coef[:, 2].T)[:, :, None] * yl
    beta = (planes @ coef[:, 1].T)[:, :, None] + (planes @ coef[:, 3].T)[:, :, None] * yl
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.negative(alpha) / beta
    lo = np.full(alpha.shape[1:], -1.0)
    hi = np.full(alpha.shape[1:], float(block.width) + 1.0)
    for k in range(len(planes)):
        np.maximum(lo, root[k], out=lo, where=beta[k] > 0)
        np.minimum(hi, root[k], out=hi, where=beta[k] < 0)
        # a plane parallel to the row excludes the whole row or none of it
        hi[(beta[k] == 0) & (alpha[k] < 0)] = -1.0
    width = block.width
    # pixel i (centre i + 0.5) is inner when lo <= i + 0.5 <= hi
    start = np.ceil(np.clip(lo - 0.5, 0.0, width)).astype(np.int32)
    stop = (np.floor(np.clip(hi - 0.5, -1.0, width - 1.0)) + 1).astype(np.int32)
    return start, np.maximum(stop, start)


def block_spans(block: CabinetBlock, frustum: CameraFrustum) -> BlockSpans:
    """The inner-pixel spans of every member of ``block`` (see the module docstring)."""
    members, whole = classify_members(block, frustum)
    if members.size == 0:
        return _empty(block)
    start = np.zeros((len(members), block.height), dtype=np.int32)
    stop = np.full_like(start, block.width)
    partial = ~whole
    if partial.any():
        start[partial], stop[partial] = row_spans(block, members[partial], frustum)
    counts = (stop - start).sum(axis=1, dtype=np.int64)
    keep = counts > 0
    full = counts[keep] == block.width * block.height
    return BlockSpans(block=block, members=members[keep], start=start[keep], stop=stop[keep], counts=counts[keep],
                      full=full)
