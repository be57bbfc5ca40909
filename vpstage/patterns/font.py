"""A small built-in 5 x 7 bitmap font, so test patterns render identically everywhere.

Lower-case letters are drawn as capitals; characters without a glyph are drawn as ``?``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

GLYPH_W, GLYPH_H = 5, 7
ADVANCE = GLYPH_W + 1
"""Horizontal advance per character (one column of spacing)."""

# Each glyph: seven rows of five cells, '#' lit.
_GLYPHS: dict[str, str] = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    "-": "..... ..... ..... ##### ..... ..... .....",
    "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "=": "..... ..... ##### ..... ##### ..... .....",
    "/": "..... ....# ...#. ..#.. .#... #.... .....",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    ";": "..... .##.. .##.. ..... .##.. ..#.. .#...",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    "_": "..... ..... ..... ..... ..... ..... #####",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    " ": "..... ..... ..... ..... ..... ..... .....",
}


@cache
def glyph(char: str) -> NDArray[np.bool_]:
    """The (7, 5) bool bitmap of one character."""
    rows = _GLYPHS.get(char.upper(), _GLYPHS["?"]).split()
    return np.array([[cell == "#" for cell in row] for row in rows], dtype=bool)


def text_size(text: str, scale: int = 1) -> tuple[int, int]:
    """(width, height) in pixels of one line of ``text`` at integer ``scale``."""
    if not text:
        return 0, 0
    return (ADVANCE * len(text) - 1) * scale, GLYPH_H * scale


def text_mask(text: str, scale: int = 1) -> NDArray[np.bool_]:
    """One line of text as a bool mask (height, width); each font cell becomes scale x scale pixels."""
    width, height = text_size(text, 1)
    mask = np.zeros((height, width), dtype=bool)
    for i, char in enumerate(text):
        mask[:, i * ADVANCE:i * ADVANCE + GLYPH_W] = glyph(char)
    return np.repeat(np.repeat(mask, scale, axis=0), scale, axis=1) if scale > 1 else mask


def fit_scale(text: str, max_width: int, max_height: int) -> int:
    """Largest integer scale at which ``text`` fits in the box (0 when it does not fit at 1)."""
    width, height = text_size(text, 1)
    if width == 0:
        return 0
    return max(0, min(max_width // width, max_height // height))


def draw_text(image: NDArray[np.uint8], text: str, x: int, y: int, scale: int, color: tuple[int, ...]) -> None:
    """Stamp ``text`` with its top-left corner at (x, y) into ``image`` (H, W, C), clipped to it."""
    if scale <= 0 or not text:
        return
    mask = text_mask(text, scale)
    h, w = image.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + mask.shape[1], w), min(y + mask.shape[0], h)
    if x1 <= x0 or y1 <= y0:
        return
    region = image[y0:y1, x0:x1]
    region[mask[y0 - y:y1 - y, x0 - x:x1 - x]] = np.asarray(color, dtype=image.dtype)
