"""Oriented boxes (crop boxes, DoD crops, scene bounds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# Unit-cube corner signs in a fixed order: x fastest, then y, then z.
_CORNER_SIGNS = np.array(
    [[sx, sy, sz] for sz in (-1.0, 1.0) for sy in (-1.0, 1.0) for sx in (-1.0, 1.0)]
)


@dataclass(frozen=True)
class OrientedBox:
    """A box ``{center + rotation @ (half_extents * u) : u in [-1, 1]^3}``.

    ``rotation`` (3x3) has the box's local axes as columns, in the frame the box lives in
    (stage or scene, metres or scene units). ``half_extents`` are non-negative.
    """

    center: F64
    rotation: F64
    half_extents: F64

    @staticmethod
    def from_aabb(lo: F64, hi: F64) -> OrientedBox:
        lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        return OrientedBox((lo_a + hi_a) / 2, np.eye(3), np.maximum(hi_a - lo_a, 0.0) / 2)

    def corners(self) -> F64:
        """The 8 corners, shape (8, 3), x-sign fastest then y then z."""
        local = _CORNER_SIGNS * self.half_extents
        return np.asarray(self.center + local @ self.rotation.T, dtype=np.float64)

    def aabb(self) -> tuple[F64, F64]:
        """Axis-aligned bounds (min, max) of the box in its frame."""
        reach = np.abs(self.rotation) @ self.half_extents
        return self.center - reach, self.center + reach

    def contains(self, points: F64, tol: float = 1e-9) -> NDArray[np.bool_]:
        """Mask of points (N, 3) inside the box (within ``tol``)."""
        local = (np.asarray(points, dtype=np.float64) - self.center) @ self.rotation
        return np.asarray(np.all(np.abs(local) <= self.half_extents + tol, axis=-1), dtype=bool)

    def transformed(self, matrix: F64) -> OrientedBox:
        """The box under a similarity transform (4x4: uniform scale, rotation, translation)."""
        m = np.asarray(matrix, dtype=np.float64)
        linear = m[:3, :3]
        scale = float(np.cbrt(abs(np.linalg.det(linear))))
        rot = linear / scale
        return OrientedBox(linear @ self.center + m[:3, 3], rot @ self.rotation, self.half_extents * scale)

    def volume(self) -> float:
        return float(np.prod(2 * self.half_extents))
