"""LED pixel positions and normals: per cabinet and as canvas-shaped maps.

All positions are LED pixel centres in the stage frame (metres, float32). A cabinet's pixel
(i, j) (column i from the left, row j from the top, seen from the front) sits at the bilinear
point ``s = (i + 0.5) / W``, ``t = (j + 0.5) / H`` of its corner quad, which for the usual flat
rectangular cabinet is exactly ``top_left + (i + 0.5) * pitch_x * right + (j + 0.5) * pitch_y * down``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.stage.layout import StageLayout

F32 = NDArray[np.float32]


def _quad_pixels(corners: NDArray[np.float64], width: int, height: int) -> F32:
    """Pixel centres of quads with corners [tl, tr, br, bl]: (n, 4, 3) -> (n, H, W, 3) float32."""
    tl, tr, br, bl = (corners[:, k].astype(np.float32) for k in range(4))
    s = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, None, :, None]
    t = ((np.arange(height, dtype=np.float32) + 0.5) / height)[None, :, None, None]
    out = np.empty((len(corners), height, width, 3), dtype=np.float32)
    # affine part: tl + s * (tr - tl) + t * (bl - tl), computed as two broadcast adds into `out`
    np.add((tl[:, None, None, :] + s * (tr - tl)[:, None, None, :]),
           t * (bl - tl)[:, None, None, :], out=out)
    twist = tl - tr + br - bl
    if np.any(np.abs(twist) > 1e-7):  # non-parallelogram quads (mesh sections)
        out += (s * t) * twist[:, None, None, :]
    return out


def cabinet_groups(layout: StageLayout,
                   indices: NDArray[np.intp] | None = None) -> dict[tuple[int, int], NDArray[np.intp]]:
    """Cabinet indices grouped by pixel size (w, h), so each group computes in one broadcast."""
    cab = layout.cabinets
    idx = np.arange(len(cab)) if indices is None else np.asarray(indices)
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in idx:
        groups[(cab.pixels_w[i], cab.pixels_h[i])].append(int(i))
    return {k: np.asarray(v, dtype=np.intp) for k, v in groups.items()}


def cabinet_pixel_positions(layout: StageLayout, indices: NDArray[np.intp]) -> F32:
    """Positions (n, H, W, 3) of cabinets that share one pixel size."""
    cab = layout.cabinets
    sizes = {(cab.pixels_w[i], cab.pixels_h[i]) for i in indices}
    if len(sizes) != 1:
        raise ValueError("cabinet_pixel_positions needs cabinets of one pixel size; use cabinet_groups")
    (w, h), = sizes
    return _quad_pixels(cab.corners[indices], w, h)


def all_pixel_positions(layout: StageLayout) -> dict[tuple[int, int], tuple[NDArray[np.intp], F32]]:
    """Every LED pixel of the stage: {(w, h): (cabinet indices, positions (n, h, w, 3))}."""
    return {size: (idx, _quad_pixels(layout.cabinets.corners[idx], *size))
            for size, idx in cabinet_groups(layout).items()}


def _orient(block: NDArray[np.generic], rotation: int, flip: int) -> NDArray[np.generic]:
    """Cabinet image (H, W, ...) -> as laid on the canvas: flip in cabinet space, then turn clockwise."""
    if flip == 1:
        block = block[:, ::-1]
    elif flip == 2:
        block = block[::-1]
    return np.rot90(block, k=-(rotation // 90), axes=(0, 1))


@dataclass
class CanvasPixels:
    """Canvas-shaped maps for one canvas. Invalid pixels (no cabinet) have position 0."""

    positions: F32
    """(H, W, 3) LED pixel centre, stage metres."""
    normals: F32
    """(H, W, 3) unit normal out of the LEDs."""
    valid: NDArray[np.bool_]
    """(H, W) True where a cabinet pixel is mapped."""
    cabinet: NDArray[np.int32]
    """(H, W) cabinet index, -1 where invalid."""

    @property
    def used_pixels(self) -> int:
        return int(self.valid.sum())


def canvas_pixels(layout: StageLayout, canvas: int) -> CanvasPixels:
    """Build the position / normal / validity maps of canvas ``canvas`` (index)."""
    spec = layout.project.canvases[canvas]
    positions = np.zeros((spec.height, spec.width, 3), dtype=np.float32)
    normals = np.zeros_like(positions)
    valid = np.zeros((spec.height, spec.width), dtype=bool)
    owner = np.full((spec.height, spec.width), -1, dtype=np.int32)
    pm = layout.pixel_map
    cabinet_normals = layout.cabinets.normals().astype(np.float32)
    for (_w, _h), idx in cabinet_groups(layout, layout.cabinets_on_canvas(canvas)).items():
        blocks = cabinet_pixel_positions(layout, idx)
        for block, i in zip(blocks, idx, strict=True):
            placed = _orient(block, int(pm.rotation[i]), int(pm.flip[i]))
            fh, fw = placed.shape[:2]
            x, y = int(pm.x[i]), int(pm.y[i])
            # clip to the canvas (out-of-bounds entries are a validation error, not a crash)
            ch, cw = max(0, min(fh, spec.height - y)), max(0, min(fw, spec.width - x))
            positions[y:y + ch, x:x + cw] = placed[:ch, :cw]
            normals[y:y + ch, x:x + cw] = cabinet_normals[i]
            valid[y:y + ch, x:x + cw] = True
            owner[y:y + ch, x:x + cw] = i
    return CanvasPixels(positions, normals, valid, owner)


def cabinet_local_coords(layout: StageLayout, canvas: int) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """For each canvas pixel, its (column, row) inside its cabinet (seen from the front); -1 if none.

    Test patterns use this to draw cabinet outlines and ids in the cabinets' own orientation.
    """
    spec = layout.project.canvases[canvas]
    col = np.full((spec.height, spec.width), -1, dtype=np.int32)
    row = np.full_like(col, -1)
    pm = layout.pixel_map
    for i in layout.cabinets_on_canvas(canvas):
        w, h = layout.cabinets.pixels_w[i], layout.cabinets.pixels_h[i]
        jj, ii = np.meshgrid(np.arange(h, dtype=np.int32), np.arange(w, dtype=np.int32), indexing="ij")
        grid = np.stack([ii, jj], axis=-1)
        placed = _orient(grid, int(pm.rotation[i]), int(pm.flip[i]))
        fh, fw = placed.shape[:2]
        x, y = int(pm.x[i]), int(pm.y[i])
        ch, cw = max(0, min(fh, spec.height - y)), max(0, min(fw, spec.width - x))
        col[y:y + ch, x:x + cw] = placed[:ch, :cw, 0]
        row[y:y + ch, x:x + cw] = placed[:ch, :cw, 1]
    return col, row
