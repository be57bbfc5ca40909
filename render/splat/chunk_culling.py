"""Which chunks of a splat model a frame can need: window frustum and DoD crop tests on the host.

Conservative by construction: a chunk is dropped only when **no** splat in it could pass the
per-splat tests the projection makes (crop: the splat's support reaching the oriented box;
frustum: a centre in front of the near plane whose exact opacity-aware pixel extent touches the
window), so the image is the same with or without chunk culling. Every test is a half-space
``n . x + d >= -s * r``; a chunk (its centre box, each splat's radius at most the chunk's ``r``) is
culled when its whole box lies outside one of them.

* Window frustum: four planes through the camera centre and the window's edges, widened by
  ``EDGE_MARGIN_PX`` (the 0.3 px^2 low-pass spreads a splat up to 1.82 px past its 3D support,
  and the first pixel centre lies half a pixel inside the edge). A splat's projected half extent is
  at most ``|J row| * r`` pixels, where the EWA Jacobian's row is ``f / z * sqrt(1 + t^2)`` with
  ``t`` the ray's slope clamped to the projection's limit ``L``, while a point at distance ``r``
  from a plane of slope ``u`` lies ``f / z * sqrt(1 + u^2) * r`` pixels from its edge: so a side
  plane is widened by ``sqrt(1 + L^2) / sqrt(1 + u^2)`` radii. The near plane tests centres only
  (the projection culls by centre depth), at half ``NEAR_PLANE`` against rounding.
* Crop box: its six faces, pushed out by the radius as the projection pushes them. (The frame's
  axes as further separating axes culled nothing more on the demo stage's DoD crops, which the
  window frustum already bounds.)

Cost: building the 11 planes, one (planes x 8) @ (8 x chunks) product and a reduction: ~30 us
for 600 chunks on a loaded 2-core VM (numpy's per-call overhead dominates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from render.splat.chunks import SplatChunks, chunk_slots
from render.splat.raster_inputs import NEAR_PLANE, RasterCamera
from vpstage.geometry import OrientedBox

EDGE_MARGIN_PX = 3.0
"""Pixels the window is widened by: the low-pass spread (1.82 px), the half pixel between an edge
and the first pixel centre, and rounding."""
EXTENT_SLACK = 1.0 + 1e-3
"""The projection pads its extent by 1e-4 relative (and float32 rounds): side planes get this."""

MOSTLY_VISIBLE = 0.9
"""Share of the splats above which a frame is not compacted: sorting the last 10 % costs less than
reading the splats through the chunk order (scattered loads) and, for the torch reference, a copy."""

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(normals (P, 3), offsets (P,), radius scales (P,)): keep where ``n . x + d >= -s * r``."""
_SIX_ONES = np.ones(6)


def frustum_planes(camera: RasterCamera) -> Planes:
    """The window's four side planes (widened by ``EDGE_MARGIN_PX``) and the near plane."""
    x0, y0, x1, y1 = camera.rect
    u0, u1 = (x0 - EDGE_MARGIN_PX - camera.cx) / camera.fx, (x1 + EDGE_MARGIN_PX - camera.cx) / camera.fx
    v0, v1 = (y0 - EDGE_MARGIN_PX - camera.cy) / camera.fy, (y1 + EDGE_MARGIN_PX - camera.cy) / camera.fy
    lim_xp, lim_xn, lim_yp, lim_yn = camera.clamp_limits()
    grow_x = math.sqrt(1.0 + max(lim_xp, lim_xn) ** 2) * EXTENT_SLACK
    grow_y = math.sqrt(1.0 + max(lim_yp, lim_yn) ** 2) * EXTENT_SLACK
    # camera frame, inside where n . x_cam >= 0: x >= u0 z, x <= u1 z, y >= v0 z, y <= v1 z, z >= near / 2
    l0, l1, l2, l3 = (math.sqrt(1.0 + w * w) for w in (u0, u1, v0, v1))
    cam = np.array([[1.0 / l0, 0.0, -u0 / l0], [-1.0 / l1, 0.0, u1 / l1], [0.0, 1.0 / l2, -v0 / l2],
                    [0.0, -1.0 / l3, v1 / l3], [0.0, 0.0, 1.0]])
    view = camera.world_to_camera
    offsets = cam @ view[:3, 3]
    offsets[4] -= 0.5 * NEAR_PLANE
    scales = np.array([grow_x / l0, grow_x / l1, grow_y / l2, grow_y / l3, 0.0])
    return cam @ view[:3, :3], offsets, scales


def crop_planes(crop: OrientedBox) -> Planes:
    """The crop box's six faces, each pushed out by a splat's radius (the projection's own test:
    ``|a . (x - c)| <= h + r`` along each box axis ``a``)."""
    axes = np.asarray(crop.rotation, dtype=np.float64).T  # rows: the box axes
    half = np.asarray(crop.half_extents, dtype=np.float64)
    centre = np.asarray(crop.center, dtype=np.float64)
    half = half + 1e-6 * (1.0 + float(np.abs(centre).max()) + float(half.max()))  # the device rounds in float32
    along = axes @ centre
    # a . x + (h - a . c) >= -r  and  -a . x + (h + a . c) >= -r
    return np.concatenate([axes, -axes]), np.concatenate([half - along, half + along]), _SIX_ONES


def plane_weights(camera: RasterCamera, crop: OrientedBox | None) -> np.ndarray:
    """(P, 8): ``weights @ chunks.boxes`` is, per plane and chunk, the largest ``n . x + d + s * r``
    over the chunk's box (box rows: centre, half extents, radius, 1)."""
    planes = [frustum_planes(camera)] if crop is None else [frustum_planes(camera), crop_planes(crop)]
    weights = np.empty((sum(p[1].shape[0] for p in planes), 8))
    row = 0
    for normals, offsets, scales in planes:
        end = row + offsets.shape[0]
        weights[row:end, 0:3], weights[row:end, 6], weights[row:end, 7] = normals, scales, offsets
        row = end
    np.abs(weights[:, 0:3], out=weights[:, 3:6])
    return weights


def visible_chunks(chunks: SplatChunks, camera: RasterCamera, crop: OrientedBox | None) -> np.ndarray:
    """Ascending ids (intp) of the chunks that may hold a splat this frame draws (module docstring)."""
    if chunks.num_chunks == 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero((plane_weights(camera, crop) @ chunks.boxes).min(axis=0) >= 0.0)


@dataclass(frozen=True)
class ChunkSelection:
    """A frame's compaction: the model's chunk index and the ids of the chunks the frame may need."""

    chunks: SplatChunks
    visible: np.ndarray
    """(V,) ascending chunk ids (intp)."""

    @property
    def slots(self) -> int:
        """Chunk slots a runner reserves for this frame (``chunks.chunk_slots``)."""
        return chunk_slots(int(self.visible.shape[0]), self.chunks.num_chunks)

    @property
    def candidates(self) -> int:
        """Splats in the visible chunks."""
        return self.chunks.splat_count(self.visible)


def select_chunks(chunks: SplatChunks | None, camera: RasterCamera, crop: OrientedBox | None
                  ) -> ChunkSelection | None:
    """The frame's compaction with ``chunks``; None without an index, or when the visible chunks
    hold more than ``MOSTLY_VISIBLE`` of the splats (the frame runs over every splat)."""
    if chunks is None:
        return None
    selection = ChunkSelection(chunks, visible_chunks(chunks, camera, crop))
    return None if selection.candidates > MOSTLY_VISIBLE * chunks.splats else selection
