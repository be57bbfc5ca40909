"""Calibration patterns in code values (BGRX, full range 0..255: what the canvas sends, no colour
transform): SMPTE-style 75 % colour bars and a stepped grey ramp.

``smpte_bars`` (after SMPTE EG 1 / RP 219, in full-range RGB code values):

* top two thirds: the seven 75 % bars (code 191), white, yellow, cyan, green, magenta, red, blue;
* the next twelfth: the reverse bars under them, blue, black, magenta, black, cyan, black, white;
* the rest: 100 % white (255) under the first two bars, black under the next two, a PLUGE under
  the fifth (black 0, 2 % = 5, 4 % = 10 in three equal parts, left to right), black under the last
  two. Full range has no code below black, so the PLUGE steps up from it.

``grey_ramp``: the top half a continuous ramp from 0 (left) to 255 (right), ``round(x * 255 /
(width - 1))``; the bottom half eleven equal steps of 0, 10, ..., 100 %, ``floor(p * 255 / 100 + 0.5)``.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from vpstage.patterns.drawing import BARS_75, BLACK, RGB, WHITE, Image, bgrx, blank

REVERSE_BARS: tuple[RGB, ...] = (BARS_75[6], BLACK, BARS_75[4], BLACK, BARS_75[2], BLACK, BARS_75[0])
PLUGE_CODES = (0, 5, 10)
"""Black, 2 % and 4 % of 255, rounded."""
GREY_STEPS_PERCENT = tuple(range(0, 101, 10))


def _edges(width: int, parts: int) -> NDArray[np.int64]:
    return np.linspace(0, width, parts + 1).round().astype(np.int64)


def smpte_bars(height: int, width: int) -> Image:
    """SMPTE-style 75 % colour bars (see the module docstring)."""
    image = blank(height, width)
    top, middle = (2 * height) // 3, (2 * height) // 3 + height // 12
    edges = _edges(width, len(BARS_75))
    for i, (x0, x1) in enumerate(itertools.pairwise(edges)):
        image[:top, x0:x1] = bgrx(BARS_75[i])
        image[top:middle, x0:x1] = bgrx(REVERSE_BARS[i])
    image[middle:, edges[0]:edges[2]] = bgrx(WHITE)
    pluge = np.linspace(edges[4], edges[5], len(PLUGE_CODES) + 1).round().astype(np.int64)
    for code, x0, x1 in zip(PLUGE_CODES, pluge[:-1], pluge[1:], strict=True):
        image[middle:, x0:x1] = bgrx((code, code, code))
    return image


def grey_step_code(percent: int) -> int:
    """8-bit code value of a grey ``percent`` (0..100) of full scale."""
    return int(percent * 255 / 100 + 0.5)  # half up: 30 % is 77 (76.5), as a meter reads it


def grey_ramp(height: int, width: int) -> Image:
    """A continuous ramp over eleven 10 % steps (see the module docstring)."""
    image = blank(height, width)
    half = height // 2
    ramp = (np.arange(width, dtype=np.float64) * 255.0 / max(width - 1, 1)).round().astype(np.uint8)
    image[:half, :, :3] = ramp[None, :, None]
    edges = _edges(width, len(GREY_STEPS_PERCENT))
    for percent, x0, x1 in zip(GREY_STEPS_PERCENT, edges[:-1], edges[1:], strict=True):
        image[half:, x0:x1, :3] = grey_step_code(percent)
    return image
