"""Burnt-in text for review videos: lines of the built-in font in a darkened box.

Works on RGB (or any channel order) uint8 images (H, W, C) in place; pure numpy and deterministic.
The box sits in the bottom-left corner; the text scale follows the image height (one font cell
per 180 image rows, at least 1) and shrinks until the longest line fits the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.patterns.font import GLYPH_H, draw_text, text_size

Image = NDArray[np.uint8]
RGB = tuple[int, int, int]

TEXT: RGB = (255, 255, 255)
ALERT: RGB = (255, 190, 0)
BOX_SHADE = 0.25
"""The box keeps this fraction of the picture's brightness behind the text."""
ROWS_PER_CELL = 180


@dataclass(frozen=True)
class BurnInLine:
    text: str
    alert: bool = False
    """Drawn in amber (tracking gap, frame not recorded) instead of white."""


def burn_in_box(image_height: int, image_width: int, lines: Sequence[BurnInLine]) -> tuple[int, int, int, int, int]:
    """Where the box goes and how big the text is: ``(x0, y0, x1, y1, scale)`` (x1, y1 exclusive).
    The padding inside the box and the margin to the image edge are both ``2 * scale``."""
    widest = max((text_size(line.text, 1)[0] for line in lines), default=0)
    scale = max(1, image_height // ROWS_PER_CELL)
    while scale > 1 and (widest + 6) * scale > image_width:  # text, padding on both sides, left margin
        scale -= 1
    pad = 2 * scale
    width = min(image_width, widest * scale + 2 * pad)
    height = min(image_height, len(lines) * (GLYPH_H + 2) * scale - 2 * scale + 2 * pad)
    x0 = max(0, min(pad, image_width - width))
    y0 = max(0, image_height - height - pad)
    return x0, y0, x0 + width, y0 + height, scale


def burn_in(image: Image, lines: Sequence[BurnInLine]) -> tuple[int, int, int, int]:
    """Darken the box and write ``lines`` into ``image`` (uint8 RGB (H, W, 3), modified in place).

    Returns the box ``(x0, y0, x1, y1)``; text that does not fit is clipped at the image edge."""
    if not lines:
        return 0, 0, 0, 0
    x0, y0, x1, y1, scale = burn_in_box(image.shape[0], image.shape[1], lines)
    region = image[y0:y1, x0:x1]
    region[...] = (region.astype(np.float32) * BOX_SHADE).astype(np.uint8)
    y = y0 + 2 * scale
    for line in lines:
        draw_text(image, line.text, x0 + 2 * scale, y, scale, ALERT if line.alert else TEXT)
        y += (GLYPH_H + 2) * scale
    return x0, y0, x1, y1
