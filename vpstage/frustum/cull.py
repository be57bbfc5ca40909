"""A cheap conservative cull: which canvases may hold inner pixels of a camera, and where.

The exact inner pixels (:mod:`vpstage.frustum.spans`) cost ~1 ms per canvas in view; a planner
that must plan 16 nodes in well under a millisecond cannot afford them. This cull applies the
first stage of that computation to every cabinet of the stage at once: a cabinet can have inner
pixels only when its LEDs face the eye and its bounding sphere reaches inside all four side
planes of the inner frustum (the same test as ``spans.classify_members``, so it never drops a
cabinet the exact computation would keep). Per canvas it returns the bounding rectangle of the
footprints of the cabinets that pass: a launch rectangle that holds every inner pixel, usually a
little larger than the exact one. Cost: a few matrix products over all cabinets (tens of
microseconds for thousands of cabinets).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.frustum import CameraFrustum
from vpstage.frustum.geometry import CanvasGeometry, Rect

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


class CabinetCull:
    """Static arrays of every cabinet of some canvases (built once), culled per camera frustum."""

    def __init__(self, geometries: Sequence[CanvasGeometry]) -> None:
        centers, radii, normals, rects, names, starts = [], [], [], [], [], []
        count = 0
        for geometry in geometries:
            members = sum(len(b) for b in geometry.blocks)
            if members == 0:
                continue
            names.append(geometry.name)
            starts.append(count)
            count += members
            for block in geometry.blocks:
                centers.append(block.centers)
                radii.append(block.radii)
                normals.append(block.normals)
                rects.append(np.stack([block.x0, block.y0, block.x0 + block.width, block.y0 + block.height], axis=1))
        self.canvases = tuple(names)
        self._starts = np.asarray(starts, dtype=np.intp)
        self._centers: F64 = np.concatenate(centers) if centers else np.zeros((0, 3))
        self._radii: F64 = np.concatenate(radii) if radii else np.zeros(0)
        self._normals: F64 = np.concatenate(normals) if normals else np.zeros((0, 3))
        rect_array: I64 = np.concatenate(rects).astype(np.int64) if rects else np.zeros((0, 4), dtype=np.int64)
        self._lo = rect_array[:, :2]
        self._hi = rect_array[:, 2:]

    def __len__(self) -> int:
        return len(self._radii)

    def candidates(self, frustum: CameraFrustum) -> NDArray[np.bool_]:
        """(cabinets,) True where a cabinet may have inner pixels (facing, sphere inside all planes)."""
        planes = frustum.planes
        unit = planes / np.linalg.norm(planes, axis=1, keepdims=True)
        rel = self._centers - frustum.eye
        inside = np.all(rel @ unit.T >= -self._radii[:, None], axis=1)
        facing = np.einsum("ij,ij->i", self._normals, rel) < 0
        return np.asarray(inside & facing, dtype=bool)

    def launch_rects(self, frustum: CameraFrustum) -> dict[str, Rect]:
        """Canvas -> bounding rectangle of its candidate cabinets' footprints (canvases with none
        are left out)."""
        if not len(self):
            return {}
        keep = self.candidates(frustum)
        if not keep.any():
            return {}
        big = np.iinfo(np.int64).max
        lo = np.minimum.reduceat(np.where(keep[:, None], self._lo, big), self._starts, axis=0)
        hi = np.maximum.reduceat(np.where(keep[:, None], self._hi, -1), self._starts, axis=0)
        seen = np.flatnonzero(hi[:, 0] >= 0)
        return {self.canvases[i]: (int(lo[i, 0]), int(lo[i, 1]), int(hi[i, 0]), int(hi[i, 1])) for i in seen}
