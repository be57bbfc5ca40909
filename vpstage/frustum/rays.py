"""Per-pixel rays in scene space: inner pixels from the camera eye, outer pixels from the viewpoint.

A ray for an LED pixel starts at its origin (the camera's entrance pupil for inner pixels, the
project's ``outer_viewpoint`` for outer ones) and passes through the LED pixel centre. Rays are
taken stage -> scene by the asset's placement (a similarity): origins by the full transform,
directions by its rotation, so they stay unit length; a distance of d stage metres along a ray is
``scale * d`` scene units.

Outer directions depend only on the stage, the viewpoint and the placement, so callers cache them
(:class:`vpstage.frustum.node.StageFrustum` does: one float32 canvas-shaped map per canvas).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.canvas import CanvasFrustum, bilinear_planes, piece_mask
from vpstage.frustum.geometry import CabinetBlock, CanvasGeometry, Rect
from vpstage.stage.model import Placement

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


def placement_matrix(placement: Placement | F64 | None) -> F64:
    """4x4 stage -> scene similarity from a Placement, a matrix, or None (identity)."""
    if placement is None:
        return np.eye(4)
    if isinstance(placement, Placement):
        return np.asarray(placement.stage_to_scene(), dtype=np.float64)
    m = np.asarray(placement, dtype=np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"placement matrix must be 4x4, got shape {m.shape}")
    return m


def scene_rotation(stage_to_scene: F64) -> F64:
    """The rotation part (3, 3) of a similarity."""
    linear = stage_to_scene[:3, :3]
    return np.asarray(linear / np.cbrt(abs(np.linalg.det(linear))), dtype=np.float64)


def to_scene(stage_to_scene: F64, point: F64) -> F64:
    return np.asarray(stage_to_scene[:3, :3] @ point + stage_to_scene[:3, 3], dtype=np.float64)


def _unit_directions(block: CabinetBlock, member: int, origin: F64, rotation: F64, local: Rect,
                     out: F32 | None = None) -> F32:
    """(h, w, 3) unit scene directions from ``origin`` to the LEDs of a member's ``local`` rect."""
    x, y, z = bilinear_planes(block.relative_coefficients(member, origin, rotation.T), local)
    norm = np.sqrt(x * x + y * y + z * z)
    np.reciprocal(norm, out=norm)
    target = np.empty(x.shape + (3,), dtype=np.float32) if out is None else out
    for j, plane in enumerate((x, y, z)):
        np.multiply(plane, norm, out=target[..., j])
    return target


def outer_directions(geometry: CanvasGeometry, viewpoint: F64, stage_to_scene: F64) -> F32:
    """(H, W, 3) unit scene-frame directions from ``viewpoint`` (stage metres) to every LED; 0 elsewhere."""
    out = np.zeros((geometry.height, geometry.width, 3), dtype=np.float32)
    rotation = scene_rotation(stage_to_scene)
    origin = np.asarray(viewpoint, dtype=np.float64)
    for block in geometry.blocks:
        for k in range(len(block)):
            x, y = int(block.x0[k]), int(block.y0[k])
            _unit_directions(block, k, origin, rotation, (0, 0, block.width, block.height),
                             out[y:y + block.height, x:x + block.width])
    return out


@dataclass(frozen=True, kw_only=True)
class CanvasRays:
    """Rays of every LED pixel in ``rect`` of one canvas, scene frame."""

    rect: Rect
    directions: F32
    """(h, w, 3) unit directions; zero where no LED is mapped."""
    inner: NDArray[np.bool_]
    """(h, w) True where the ray starts at ``inner_origin`` (the camera eye)."""
    valid: NDArray[np.bool_]
    """(h, w) True where an LED is mapped."""
    inner_origin: F64
    outer_origin: F64

    def origins(self) -> F32:
        """(h, w, 3) per-pixel origins (built on request; most renderers want ``packed``)."""
        out = np.empty(self.directions.shape, dtype=np.float32)
        out[...] = self.outer_origin.astype(np.float32)
        out[self.inner] = self.inner_origin.astype(np.float32)
        return out

    def packed(self, which: Literal["all", "inner", "outer"] = "all") -> tuple[F32, F32, NDArray[np.intp]]:
        """(origins (N, 3), directions (N, 3), flat indices into the rect (N,)) of the chosen pixels."""
        select = {"all": self.valid, "inner": self.inner, "outer": self.valid & ~self.inner}[which]
        index = np.flatnonzero(select)
        directions = self.directions.reshape(-1, 3)[index]
        origins = np.where(self.inner.reshape(-1)[index, None], self.inner_origin, self.outer_origin)
        return origins.astype(np.float32), directions, index


def canvas_rays(frustum: CanvasFrustum, outer: F32, viewpoint: F64, stage_to_scene: F64,
                rect: Rect | None = None) -> CanvasRays:
    """Rays over ``rect``: the cached ``outer`` map (from :func:`outer_directions`, same viewpoint
    and placement) with inner pixels replaced by rays from the camera eye."""
    x0, y0, x1, y1 = rect or (0, 0, frustum.geometry.width, frustum.geometry.height)
    directions = outer[y0:y1, x0:x1].copy()
    inner = np.zeros(directions.shape[:2], dtype=bool)
    rotation = scene_rotation(stage_to_scene)
    eye = frustum.frustum.eye
    for piece in frustum.pieces((x0, y0, x1, y1)):
        member = int(piece.spans.members[piece.member])
        target = directions[piece.out]
        if piece.spans.full[piece.member]:
            _unit_directions(piece.spans.block, member, eye, rotation, piece.local, target)
            inner[piece.out] = True
            continue
        mask = piece_mask(piece)
        target[mask] = _unit_directions(piece.spans.block, member, eye, rotation, piece.local)[mask]
        inner[piece.out] = mask
    valid = frustum.geometry.valid_mask((x0, y0, x1, y1))
    return CanvasRays(rect=(x0, y0, x1, y1), directions=directions, inner=inner, valid=valid,
                      inner_origin=to_scene(stage_to_scene, eye),
                      outer_origin=to_scene(stage_to_scene, np.asarray(viewpoint, dtype=np.float64)))
