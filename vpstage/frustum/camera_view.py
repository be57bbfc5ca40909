"""The camera view several canvases of a node share: the one entry point from a renderer into the
frustum maths for a camera and an asset.

Given the canvases that see one tracked camera (each as its ``CanvasFrustum`` and inner pixel
runs), the asset's placement and scene bounds, and the render quality, :func:`shared_camera_view`
returns what to render: the inner window's pinhole posed in the asset's frame
(``vpstage.frustum.kooima``), at the finest LED density among the canvases
(:func:`led_image_size`), the pixel rectangle holding their inner pixels' UV windows, and the
DoD crop of their image bounds together (``vpstage.frustum.dod``); None when nothing of the asset
can appear on any of them. Assets rendered by rays, one per LED pixel, crop to
:func:`canvas_crop` instead.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.dod import DodCrop, ImageBounds, dod_crop
from vpstage.frustum.geometry import Rect
from vpstage.frustum.kooima import InnerPinhole, inner_pinhole
from vpstage.frustum.node import dod_image_bounds
from vpstage.frustum.pixel_runs import PixelRuns
from vpstage.geometry import OrientedBox

MAX_INNER_SIDE = 16384
"""Largest camera-view image side (pixels) the inner render may ask for."""
MIN_INNER_SIDE = 8


@dataclass(frozen=True, kw_only=True)
class SharedCameraView:
    """A shared camera view's image: its pinhole, the rectangle to render, its size, the DoD crop."""

    pinhole: InnerPinhole
    rect: Rect
    size: tuple[int, int]
    crop: DodCrop


def canvas_crop(canvas: CanvasFrustum, stage_to_scene: NDArray[np.float64],
                bounds: OrientedBox | None) -> DodCrop | None:
    """The DoD crop of one canvas's inner pixels for an asset placed by ``stage_to_scene`` within
    ``bounds`` (what a renderer casting one ray per LED pixel crops to); None: nothing to render."""
    if canvas.image_bounds is None:
        return None
    return dod_crop(canvas.frustum, dod_image_bounds(canvas.image_bounds, canvas.frustum), stage_to_scene, bounds)


def shared_camera_view(canvases: Sequence[tuple[CanvasFrustum, PixelRuns]], stage_to_scene: NDArray[np.float64],
                       bounds: OrientedBox | None, inner_scale: float) -> SharedCameraView | None:
    """The view ``canvases`` (of one camera) share for an asset placed by ``stage_to_scene`` within
    ``bounds`` (see the module docstring)."""
    parts = [(f, r) for f, r in canvases if r.pixels and f.image_bounds is not None]
    if not parts:
        return None
    frustum = parts[0][0].frustum
    image_bounds = functools.reduce(ImageBounds.union, [f.image_bounds for f, _ in parts if f.image_bounds])
    crop = dod_crop(frustum, dod_image_bounds(image_bounds, frustum), stage_to_scene, bounds)
    if crop is None:
        return None
    sizes = [led_image_size(f, inner_scale) for f, _ in parts]
    size = (max(w for w, _ in sizes), max(h for _, h in sizes))
    windows = [r.window for _, r in parts]
    window = (min(w[0] for w in windows), min(w[1] for w in windows), max(w[2] for w in windows),
              max(w[3] for w in windows))
    pinhole = inner_pinhole(frustum, size[0], size[1], stage_to_scene, window)
    return SharedCameraView(pinhole=pinhole, rect=pinhole.rect_for(window, margin_px=1), size=size, crop=crop)


def led_image_size(canvas: CanvasFrustum, inner_scale: float) -> tuple[int, int]:
    """Camera-view image size (square pixels over the whole inner window) whose pixels are as
    fine as the finest LED pixel step, in the image plane, among the canvas's inner cabinets,
    times ``inner_scale``."""
    frustum = canvas.frustum
    xl, xr, yt, yb = frustum.window
    finest = math.inf
    for spans in canvas.spans:
        block = spans.block
        coef = block.coef[spans.members].copy()
        coef[:, 0] -= frustum.eye
        k = coef @ frustum.rotation                                   # (m, 4, 3) camera frame
        x, y = block.width / 2.0, block.height / 2.0
        c = k[:, 0] + x * k[:, 1] + y * k[:, 2] + x * y * k[:, 3]
        for d in (k[:, 1] + y * k[:, 3], k[:, 2] + x * k[:, 3]):        # d c / d column, d c / d row
            step = np.hypot((d[:, 0] * c[:, 2] - c[:, 0] * d[:, 2]), (d[:, 1] * c[:, 2] - c[:, 1] * d[:, 2]))
            step = step / np.maximum(c[:, 2] ** 2, 1e-12)
            finest = min(finest, float(step.min()))
    if not math.isfinite(finest) or finest <= 0:
        finest = (xr - xl) / max(frustum.camera.image_width, 1)
    pixel = finest / max(inner_scale, 1e-6)
    width, height = (xr - xl) / pixel, (yb - yt) / pixel
    shrink = max(1.0, width / MAX_INNER_SIDE, height / MAX_INNER_SIDE)
    return (max(MIN_INNER_SIDE, math.ceil(width / shrink)), max(MIN_INNER_SIDE, math.ceil(height / shrink)))
