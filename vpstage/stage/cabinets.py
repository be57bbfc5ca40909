"""Cabinets as placed in the stage: ids, grid positions and corner geometry.

Every cabinet is a quad with corners ``[top-left, top-right, bottom-right, bottom-left]`` as seen
from the front (the LED side), in stage metres. Pixel (0, 0) is the top-left LED; pixel centres
sit at +0.5 pitch from the edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def grid_cabinet_id(section: str, column: int, row: int) -> str:
    """Stable id of a grid cabinet: ``wall/c03r01`` (column 3, row 1 counted from the top)."""
    return f"{section}/c{column:02d}r{row:02d}"


def mesh_cabinet_id(section: str, face: int) -> str:
    """Stable id of a mesh cabinet: ``soffit/f0007`` (the 8th face of the OBJ file)."""
    return f"{section}/f{face:04d}"


@dataclass(kw_only=True)
class CabinetSet:
    """All cabinets of a stage as parallel arrays (index i is one cabinet)."""

    ids: list[str] = field(default_factory=list)
    section: list[int] = field(default_factory=list)
    column: list[int] = field(default_factory=list)
    row: list[int] = field(default_factory=list)
    panel: list[str] = field(default_factory=list)
    pixels_w: list[int] = field(default_factory=list)
    pixels_h: list[int] = field(default_factory=list)
    _corners: list[NDArray[np.float64]] = field(default_factory=list)
    corners: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 4, 3)))

    def add(self, cabinet_id: str, section: int, column: int, row: int, panel: str,
            pixels: tuple[int, int], corners: NDArray[np.float64]) -> None:
        self.ids.append(cabinet_id)
        self.section.append(section)
        self.column.append(column)
        self.row.append(row)
        self.panel.append(panel)
        self.pixels_w.append(pixels[0])
        self.pixels_h.append(pixels[1])
        self._corners.append(np.asarray(corners, dtype=np.float64))

    def freeze(self) -> None:
        """Stack the per-cabinet corners into ``corners`` (N, 4, 3)."""
        self.corners = np.stack(self._corners) if self._corners else np.zeros((0, 4, 3))
        self._corners = []

    def __len__(self) -> int:
        return len(self.ids)

    def pixel_count(self, index: int) -> int:
        return self.pixels_w[index] * self.pixels_h[index]

    def normals(self) -> NDArray[np.float64]:
        """Unit normal of each cabinet, pointing out of the LEDs (N, 3)."""
        c = self.corners
        right = c[:, 1] - c[:, 0] + c[:, 2] - c[:, 3]
        up = c[:, 0] - c[:, 3] + c[:, 1] - c[:, 2]
        n = np.cross(right, up)
        return np.asarray(n / np.linalg.norm(n, axis=1, keepdims=True), dtype=np.float64)

    def centers(self) -> NDArray[np.float64]:
        return np.asarray(self.corners.mean(axis=1), dtype=np.float64)


def rectangle_corners(top_left: NDArray[np.float64], right: NDArray[np.float64],
                      down: NDArray[np.float64], width: float, height: float) -> NDArray[np.float64]:
    """Corners [tl, tr, br, bl] of a rectangle from its top-left corner and unit axes."""
    tl = np.asarray(top_left, dtype=np.float64)
    tr = tl + width * right
    bl = tl + height * down
    return np.stack([tl, tr, bl + width * right, bl])
