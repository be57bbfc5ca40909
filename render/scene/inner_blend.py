"""The last step of a canvas's inner frustum: its assets composited by depth over the background and
blended into the canvas with the soft-edge weights.

Assets reach this step in one of two forms: a **window** (``WindowSource``: the camera's view of the
asset rendered over a window of an image, sampled at each inner pixel's UV; splats, and every asset
below full LED density) or a **layer** already over the inner pixels (``render.scene.layers.Layer``;
assets rendered by rays). Two implementations:

* :func:`blend_reference` (torch, any device): expands the inner pixels, samples each window into a
  layer, composites the layers (``render.scene.layers.composite``) and blends;
* ``render.scene.triton_inner_blend`` (GPU): the same per pixel in one kernel launched once per
  canvas and camera, straight from the pixel runs, when every asset is a window (at most four).

:func:`blend_inner` picks: the kernel where Triton runs on the canvas's device (unless
``VPSTAGE_FUSED_INNER=0``), the reference otherwise. ``tests/gpu`` compares the two.
"""

from __future__ import annotations

import os

import torch

from render.scene.inner_pixels import InnerPixels
from render.scene.layers import Layer, composite
from render.scene.window_source import WindowSource

FUSED_ENV = "VPSTAGE_FUSED_INNER"


Source = WindowSource | Layer


def blend_inner(colour: torch.Tensor, pixels: InnerPixels, sources: list[Source], background: torch.Tensor) -> None:
    """``colour`` ((H * W, 3) float32 on the render device) <- ``sources`` over ``background`` (3,)
    at ``pixels``, blended with their soft-edge weights (see the module docstring)."""
    if not len(pixels):
        return
    if fused_available(colour.device, sources):
        from render.scene.triton_inner_blend import blend_inner_triton

        blend_inner_triton(colour, pixels, [s for s in sources if isinstance(s, WindowSource)], background)
        return
    blend_reference(colour, pixels, sources, background)


def fused_available(device: torch.device, sources: list[Source]) -> bool:
    """Whether the fused kernel can take this blend on ``device``."""
    if os.environ.get(FUSED_ENV, "1") == "0" or any(isinstance(s, Layer) for s in sources):
        return False
    from render.splat.backends import has_triton

    if not has_triton(device):
        return False
    from render.scene.triton_inner_blend import MAX_SOURCES

    return len(sources) <= MAX_SOURCES


def blend_reference(colour: torch.Tensor, pixels: InnerPixels, sources: list[Source],
                    background: torch.Tensor) -> None:
    """The torch reference of :func:`blend_inner`."""
    layers = [s.sample(pixels.uv) if isinstance(s, WindowSource) else s for s in sources]
    inner = composite(layers, background, len(pixels))
    weight = pixels.weight[:, None]
    index = pixels.index
    colour[index] = weight * inner + (1.0 - weight) * colour[index]
