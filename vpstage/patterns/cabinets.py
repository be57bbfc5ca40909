"""The cabinet pattern: every cabinet tinted by section, outlined, with its id and a corner mark.

Each cabinet is drawn in its own orientation (its pixel (0, 0) is the top-left LED seen from the
front), then placed on the canvas through the pixel map, so on the wall every id reads upright and
the red triangle sits in the cabinet's top-left corner; a wrong rotation or flip in the pixel map
shows up at once.
"""

from __future__ import annotations

import numpy as np

from vpstage.patterns.drawing import SECTION_TINTS, WHITE, Image, bgrx, blank, outline
from vpstage.patterns.font import draw_text, fit_scale, text_size
from vpstage.stage.layout import StageLayout
from vpstage.stage.pixels import cabinet_local_coords


def cabinet_tile(width: int, height: int, cabinet_id: str, tint: tuple[int, int, int], odd: bool) -> Image:
    """One cabinet as seen from the front: (height, width, 4) BGRX."""
    shade = 0.55 if odd else 0.38
    tile = blank(height, width, (int(tint[0] * shade), int(tint[1] * shade), int(tint[2] * shade)))
    outline(tile, 0, 0, width, height, max(1, min(width, height) // 64), WHITE)
    mark = max(3, min(width, height) // 6)
    rows = np.arange(mark)[:, None]
    cols = np.arange(mark)[None, :]
    tile[:mark, :mark][rows + cols < mark] = bgrx((255, 0, 0))  # right angle in the top-left corner
    section, _, local = cabinet_id.rpartition("/")
    big = max(1, fit_scale(local, (4 * width) // 5, height // 4))
    small = max(1, min(big // 2, fit_scale(section, (4 * width) // 5, height // 8))) if section else 0
    lw, lh = text_size(local, big)
    sw, sh = text_size(section, small) if small else (0, 0)
    y = (height - lh - (sh + big if small else 0)) // 2
    draw_text(tile, local, (width - lw) // 2, y, big, bgrx(WHITE))
    if small:
        draw_text(tile, section, (width - sw) // 2, y + lh + big, small, bgrx((220, 220, 220)))
    return tile


def cabinet_canvas(layout: StageLayout, canvas: int) -> Image:
    """The cabinet pattern for canvas ``canvas`` (index); unmapped pixels stay black."""
    spec = layout.project.canvases[canvas]
    image = blank(spec.height, spec.width)
    col, row = cabinet_local_coords(layout, canvas)
    cab, pm = layout.cabinets, layout.pixel_map
    for i in (int(k) for k in layout.cabinets_on_canvas(canvas)):
        w, h = cab.pixels_w[i], cab.pixels_h[i]
        tint = SECTION_TINTS[cab.section[i] % len(SECTION_TINTS)]
        tile = cabinet_tile(w, h, cab.ids[i], tint, (cab.column[i] + cab.row[i]) % 2 == 1)
        fw, fh = layout.footprint(i)
        x0, y0 = int(pm.x[i]), int(pm.y[i])
        x1, y1 = min(x0 + fw, spec.width), min(y0 + fh, spec.height)
        if x1 <= x0 or y1 <= y0:
            continue
        # clipped: in a stage with overlapping entries (a validation error) a neighbour owns some pixels
        c = np.clip(col[y0:y1, x0:x1], 0, w - 1)
        r = np.clip(row[y0:y1, x0:x1], 0, h - 1)
        image[y0:y1, x0:x1] = tile[r, c]
    return image
