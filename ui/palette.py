"""Colours shared by every console view (RGBA floats 0..1; Qt-free so geometry code can use them).

Node colours are chosen to stay apart from each other and from the alarm red and the selection
colour on a near-black background.
"""

from __future__ import annotations

RGBA = tuple[float, float, float, float]


def _hex(code: str, alpha: float = 1.0) -> RGBA:
    code = code.lstrip("#")
    r, g, b = (int(code[i:i + 2], 16) / 255.0 for i in (0, 2, 4))
    return (r, g, b, alpha)


NODE_COLOURS: tuple[RGBA, ...] = tuple(_hex(c) for c in (
    "#2bb7c4",  # teal
    "#e0a526",  # amber
    "#9b7bea",  # violet
    "#5cc45a",  # green
    "#4f8fe8",  # blue
    "#e07bb6",  # pink
    "#c9c95b",  # olive
    "#e08a5b",  # orange
))
UNMAPPED: RGBA = _hex("#6c7480")
PROBLEM: RGBA = _hex("#ff3b30")
SELECTED: RGBA = _hex("#ffffff")
BACKGROUND: RGBA = _hex("#0f1115")
GRID: RGBA = _hex("#2a2f38")
GRID_MAJOR: RGBA = _hex("#3b424e")
AXIS_X: RGBA = _hex("#c0504d")
AXIS_Y: RGBA = _hex("#4fa35a")
CAMERA: RGBA = _hex("#ff4fe0")
"""The tracked camera, its frustum and its footprint: magenta, apart from every node colour."""
FOOTPRINT: RGBA = _hex("#ff4fe0")
BOUNDS: RGBA = _hex("#b0b8c4")
TEXT: RGBA = _hex("#d6dae0")


def node_colour(index: int) -> RGBA:
    """Colour of render node ``index`` (project order); -1 (no node) is the unmapped grey."""
    return UNMAPPED if index < 0 else NODE_COLOURS[index % len(NODE_COLOURS)]


def with_alpha(colour: RGBA, alpha: float) -> RGBA:
    return (colour[0], colour[1], colour[2], alpha)
