"""Validation of the colour section's ``regions`` against the project's canvases, as located problems.

Shape (empty rectangles, gamma <= 0, negative feather, doubled names) is checked by the pydantic
model when the file loads; here what needs the rest of the project: the canvas exists, the
rectangle lies inside it, and the feather fits in it. Paths are relative to the project document
(``("colour", "regions", 2, "rect")``). No OpenColorIO: a section of regions only needs no config.
"""

from __future__ import annotations

from collections.abc import Mapping

from vpstage.colour.ocio_config import choices
from vpstage.colour.settings import ColourRegion, ColourSettings
from vpstage.config import Problem

ROOT = ("colour", "regions")


def _rect_problem(region: ColourRegion, size: tuple[int, int], path: tuple[str | int, ...]) -> list[Problem]:
    x0, y0, x1, y1 = region.rect
    width, height = size
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
        return [Problem(path=path + ("rect",), message=f"the rectangle [{x0}, {y0}, {x1}, {y1}] is outside canvas "
                                                       f"{region.canvas!r} ({width} x {height} pixels)")]
    return []


def _feather_problem(region: ColourRegion, path: tuple[str | int, ...]) -> list[Problem]:
    x0, y0, x1, y1 = region.rect
    half = min(x1 - x0, y1 - y0) / 2
    if region.feather_px > half:
        return [Problem(path=path + ("feather_px",), message=f"a feather of {region.feather_px:g} px does not fit the "
                                                             f"rectangle (at most half its shorter side: {half:g} px)")]
    return []


def region_problems(settings: ColourSettings | None, canvas_sizes: Mapping[str, tuple[int, int]]) -> list[Problem]:
    """Every problem of the colour regions (``canvas_sizes``: canvas -> (width, height) pixels)."""
    if settings is None:
        return []
    problems: list[Problem] = []
    for i, region in enumerate(settings.regions):
        path = (*ROOT, i)
        size = canvas_sizes.get(region.canvas)
        if size is None:
            problems.append(Problem(path=path + ("canvas",), message=f"unknown canvas {region.canvas!r}; canvases: "
                                                                     f"{choices(region.canvas, list(canvas_sizes))}"))
            continue
        problems += _rect_problem(region, size, path) or _feather_problem(region, path)
    return problems
