"""Static per-canvas cabinet geometry in canvas-pixel terms (built once per stage, cached).

Every cabinet a canvas feeds owns a footprint rectangle on it. Inside the footprint, with local
continuous coordinates ``(xl, yl)`` (pixel centres at ``k + 0.5``, origin at the footprint's
top-left corner, canvas axes), the LED pixel centre is the bilinear function

    p(xl, yl) = coef[0] + xl * coef[1] + yl * coef[2] + xl * yl * coef[3]     (stage metres)

whatever the cabinet's rotation and flip on the canvas: those only permute and mirror the
cabinet's own (s, t) axes, so the bilinear form of ``vpstage.stage.pixels`` stays bilinear.
``coef[3]`` is zero for the flat rectangular cabinets of flat, arc and ceiling sections. This lets
the frustum work per cabinet row from four coefficient vectors instead of reading the ~100 MB
canvas position map.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.stage.layout import StageLayout

F64 = NDArray[np.float64]
Rect = tuple[int, int, int, int]
"""(x0, y0, x1, y1) inclusive-exclusive canvas pixel rectangle."""

_FLIP_H, _FLIP_V = 1, 2  # PixelMap.flip codes


def local_to_cabinet(xl: F64, yl: F64, width: int, height: int, rotation: int, flip: int) -> tuple[F64, F64]:
    """Footprint-local canvas coords -> the cabinet's own continuous pixel coords (a, b).

    ``width`` x ``height`` is the cabinet's pixel size before rotation. Inverts the placement of
    ``vpstage.stage.pixels``: flip in cabinet space, then turn clockwise by ``rotation``.
    """
    if rotation == 0:
        a, b = xl, yl
    elif rotation == 90:
        a, b = yl, height - xl
    elif rotation == 180:
        a, b = width - xl, height - yl
    elif rotation == 270:
        a, b = width - yl, xl
    else:
        raise ValueError(f"rotation must be 0, 90, 180 or 270, got {rotation}")
    if flip == _FLIP_H:
        a = width - a
    elif flip == _FLIP_V:
        b = height - b
    return a, b


def _bilinear_coefficients(corners: F64, width: int, height: int, rotation: int, flip: int) -> F64:
    """(4, 3) coefficients of p(xl, yl) for one cabinet with corners [tl, tr, br, bl]."""
    tl, tr, br, bl = corners
    xl = np.array([0.0, 1.0, 0.0, 1.0])
    yl = np.array([0.0, 0.0, 1.0, 1.0])
    a, b = local_to_cabinet(xl, yl, width, height, rotation, flip)
    s, t = (a / width)[:, None], (b / height)[:, None]
    p = tl + s * (tr - tl) + t * (bl - tl) + s * t * (tl - tr + br - bl)
    return np.stack([p[0], p[1] - p[0], p[2] - p[0], p[3] - p[1] - p[2] + p[0]])


@dataclass(frozen=True, kw_only=True)
class CabinetBlock:
    """The cabinets of one canvas that share one footprint size; arrays are parallel (n = cabinets)."""

    width: int
    """Footprint width on the canvas (pixels, after rotation and clipping to the canvas)."""
    height: int
    cabinets: NDArray[np.intp]
    """(n,) stage cabinet indices."""
    x0: NDArray[np.int64]
    """(n,) footprint left column on the canvas."""
    y0: NDArray[np.int64]
    coef: F64
    """(n, 4, 3) bilinear position coefficients (see the module docstring), stage metres."""
    normals: F64
    """(n, 3) unit normals out of the LEDs."""
    centers: F64
    """(n, 3) bounding-sphere centres (corner means)."""
    radii: F64
    """(n,) bounding-sphere radii (the patch lies in its corners' convex hull)."""

    def __len__(self) -> int:
        return len(self.cabinets)

    @property
    def twisted(self) -> bool:
        """True when some cabinet is a non-parallelogram quad (mesh sections)."""
        return bool(np.any(np.abs(self.coef[:, 3]) > 1e-12))

    def relative_coefficients(self, member: int, origin: F64, matrix: F64) -> F64:
        """(4, 3) bilinear coefficients of ``(p - origin) @ matrix`` over member's footprint.

        With ``matrix`` = the camera rotation this is the camera-frame position; with the
        transpose of a scene rotation it is the scene-frame direction (unnormalised) from origin.
        """
        coef = self.coef[member].copy()
        coef[0] -= origin
        return np.asarray(coef @ matrix, dtype=np.float64)

    def positions(self, member: int, xl: F64 | float, yl: F64 | float) -> F64:
        """Stage positions (..., 3) of local coords of cabinet ``member`` (broadcasts xl with yl)."""
        c = self.coef[member]
        x, y = np.asarray(xl, dtype=np.float64)[..., None], np.asarray(yl, dtype=np.float64)[..., None]
        return np.asarray(c[0] + x * c[1] + y * c[2] + x * y * c[3], dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class CanvasGeometry:
    """One canvas: its size, node, and cabinet blocks."""

    index: int
    name: str
    node: str
    width: int
    height: int
    blocks: tuple[CabinetBlock, ...]

    @property
    def valid_pixels(self) -> int:
        """Canvas pixels that carry an LED (footprint areas; the pixel map forbids overlaps)."""
        return sum(len(b) * b.width * b.height for b in self.blocks)

    def locate(self, x: int, y: int) -> tuple[CabinetBlock, int] | None:
        """The block and member whose footprint holds canvas pixel (x, y), or None."""
        for block in self.blocks:
            hit = np.flatnonzero((block.x0 <= x) & (x < block.x0 + block.width)
                                 & (block.y0 <= y) & (y < block.y0 + block.height))
            if hit.size:
                return block, int(hit[0])
        return None

    def position(self, x: int, y: int) -> F64 | None:
        """Stage position (3,) of canvas pixel (x, y)'s LED centre, or None where no cabinet is."""
        found = self.locate(x, y)
        if found is None:
            return None
        block, k = found
        return block.positions(k, np.float64(x - block.x0[k] + 0.5), np.float64(y - block.y0[k] + 0.5))

    def valid_mask(self, rect: Rect | None = None) -> NDArray[np.bool_]:
        """(h, w) True where an LED is mapped, over ``rect`` (default: the whole canvas)."""
        x0, y0, x1, y1 = rect or (0, 0, self.width, self.height)
        out = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        for block in self.blocks:
            for k in range(len(block)):
                bx, by = int(block.x0[k]), int(block.y0[k])
                cx0, cy0 = max(bx, x0), max(by, y0)
                cx1, cy1 = min(bx + block.width, x1), min(by + block.height, y1)
                if cx0 < cx1 and cy0 < cy1:
                    out[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0] = True
        return out


def canvas_geometry(layout: StageLayout, canvas: int) -> CanvasGeometry:
    """Build the cabinet blocks of canvas ``canvas`` (index) from the layout's corner quads."""
    spec = layout.project.canvases[canvas]
    cab, pm = layout.cabinets, layout.pixel_map
    normals = cab.normals() if len(cab) else np.zeros((0, 3))
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in layout.cabinets_on_canvas(canvas):
        fw, fh = layout.footprint(int(i))
        x, y = int(pm.x[i]), int(pm.y[i])
        cw, ch = max(0, min(fw, spec.width - x)), max(0, min(fh, spec.height - y))
        if cw and ch:  # clipped like vpstage.stage.pixels.canvas_pixels
            groups[(cw, ch)].append(int(i))
    blocks = []
    for (cw, ch), members in sorted(groups.items()):
        idx = np.asarray(members, dtype=np.intp)
        coef = np.stack([_bilinear_coefficients(cab.corners[i], cab.pixels_w[i], cab.pixels_h[i],
                                                 int(pm.rotation[i]), int(pm.flip[i])) for i in idx])
        corners = cab.corners[idx]
        centers = corners.mean(axis=1)
        radii = np.linalg.norm(corners - centers[:, None], axis=2).max(axis=1)
        blocks.append(CabinetBlock(width=cw, height=ch, cabinets=idx, x0=pm.x[idx].astype(np.int64),
                                   y0=pm.y[idx].astype(np.int64), coef=coef, normals=normals[idx], centers=centers,
                                   radii=radii))
    return CanvasGeometry(index=canvas, name=spec.name, node=spec.node, width=spec.width, height=spec.height,
                          blocks=tuple(blocks))
