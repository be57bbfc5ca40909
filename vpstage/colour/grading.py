"""Per-region colour corrections as the render nodes apply them, and a numpy reference.

A :class:`RegionGrade` is an enabled :class:`~vpstage.colour.settings.ColourRegion` reduced to
what a node needs (plain, immutable, picklable: it travels in every frame's ``SceneOrder``). In a
canvas's code values ``v`` (0..1, after its OCIO output transform), per channel::

    graded = clamp(((v + lift * (1 - v)) * gain) ** (1 / gamma), 0, 1)
    graded = luma + saturation * (graded - luma)        # Rec.709 luma of graded; clamped to 0..1
    out    = v + weight * (graded - v)

``weight`` is 1 inside the rectangle and falls linearly to 0 over ``feather_px`` towards its
edges (measured from the pixel centre, inside the rectangle: nothing outside it changes).
``grade_reference`` is the reference the torch path (``render.node.regions``) is tested against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vpstage.colour.settings import ColourRegion

Rgb = tuple[float, float, float]
Rect = tuple[int, int, int, int]
REC709_LUMA: Rgb = (0.2126, 0.7152, 0.0722)


@dataclass(frozen=True, kw_only=True)
class RegionGrade:
    """One region's correction on one canvas (see the module docstring)."""

    canvas: str
    rect: Rect
    """(x0, y0, x1, y1) canvas pixels, x1 and y1 exclusive."""
    feather_px: float = 0.0
    lift: Rgb = (0.0, 0.0, 0.0)
    gamma: Rgb = (1.0, 1.0, 1.0)
    gain: Rgb = (1.0, 1.0, 1.0)
    saturation: float = 1.0

    @classmethod
    def from_region(cls, region: ColourRegion) -> RegionGrade:
        return cls(canvas=region.canvas, rect=region.rect, feather_px=region.feather_px, lift=region.lift,
                   gamma=region.gamma, gain=region.gain, saturation=region.saturation)

    def clipped(self, width: int, height: int) -> Rect | None:
        """The rectangle within a ``width`` x ``height`` canvas, or None when nothing of it is."""
        x0, y0, x1, y1 = self.rect
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def region_grades(regions: Iterable[ColourRegion]) -> tuple[RegionGrade, ...]:
    """The enabled regions, in order, as the nodes apply them."""
    return tuple(RegionGrade.from_region(r) for r in regions if r.enabled)


def _scale(value: int, ratio: float) -> int:
    return round(value * ratio)


def rescaled_grades(grades: Iterable[RegionGrade], from_sizes: Mapping[str, tuple[int, int]],
                    to_sizes: Mapping[str, tuple[int, int]]) -> tuple[RegionGrade, ...]:
    """``grades`` drawn on canvases of ``from_sizes`` moved onto the same canvases at ``to_sizes``
    (a rehearsal's scaled-down stage); grades of canvases either lacks are dropped."""
    out = []
    for grade in grades:
        before, after = from_sizes.get(grade.canvas), to_sizes.get(grade.canvas)
        if before is None or after is None:
            continue
        sx, sy = after[0] / before[0], after[1] / before[1]
        x0, y0, x1, y1 = grade.rect
        rect = (_scale(x0, sx), _scale(y0, sy), max(_scale(x1, sx), _scale(x0, sx) + 1),
                max(_scale(y1, sy), _scale(y0, sy) + 1))
        out.append(RegionGrade(canvas=grade.canvas, rect=rect, feather_px=grade.feather_px * min(sx, sy),
                               lift=grade.lift, gamma=grade.gamma, gain=grade.gain, saturation=grade.saturation))
    return tuple(out)


def feather_ramp(lo: int, hi: int, first: int, stop: int, feather_px: float) -> NDArray[np.float32]:
    """Weights of pixels ``first .. stop - 1`` of a rectangle spanning ``lo .. hi - 1`` on one axis:
    ``clamp(d / feather_px, 0, 1)`` with ``d`` the distance of the pixel centre to the rectangle's
    nearer edge (all 1 without feather)."""
    if feather_px <= 0.0:
        return np.ones(stop - first, dtype=np.float32)
    centres = np.arange(first, stop, dtype=np.float64) + 0.5
    distance = np.minimum(centres - lo, hi - centres)
    return np.clip(distance / feather_px, 0.0, 1.0).astype(np.float32)


def region_weights(grade: RegionGrade, window: Rect) -> NDArray[np.float32]:
    """(h, w, 1) blend weights of ``grade`` over ``window`` (a part of its rectangle, e.g. the part on
    the canvas): the smaller of the column and row ramps."""
    x0, y0, x1, y1 = grade.rect
    wx = feather_ramp(x0, x1, window[0], window[2], grade.feather_px)
    wy = feather_ramp(y0, y1, window[1], window[3], grade.feather_px)
    return np.minimum(wy[:, None], wx[None, :])[..., None]


def graded_values(values: NDArray[np.floating[Any]], grade: RegionGrade) -> NDArray[np.float64]:
    """The full correction of ``values`` ((..., 3) code values), before blending (float64)."""
    v = values.astype(np.float64)
    lift, gain = np.asarray(grade.lift, np.float64), np.asarray(grade.gain, np.float64)
    exponent = 1.0 / np.asarray(grade.gamma, np.float64)
    graded: NDArray[np.float64] = np.clip(np.clip((v + lift * (1.0 - v)) * gain, 0.0, None) ** exponent, 0.0, 1.0)
    luma = (graded @ np.asarray(REC709_LUMA, np.float64))[..., None]
    out: NDArray[np.float64] = np.clip(luma + grade.saturation * (graded - luma), 0.0, 1.0)
    return out


def grade_reference(image: NDArray[np.float32], grades: Iterable[RegionGrade], canvas: str) -> NDArray[np.float32]:
    """``image`` ((H, W, 3) code values of ``canvas``) with its grades applied in order (a copy)."""
    out = image.astype(np.float32, copy=True)
    height, width = out.shape[:2]
    for grade in grades:
        rect = grade.clipped(width, height) if grade.canvas == canvas else None
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        part = out[y0:y1, x0:x1].astype(np.float64)
        blended = part + region_weights(grade, rect) * (graded_values(part, grade) - part)
        out[y0:y1, x0:x1] = blended.astype(np.float32)
    return out
