"""An asset's camera view over a window of an image: what the canvases sharing that camera sample at
their inner pixels (``render.scene.shared_views``, ``render.scene.inner_blend``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from render.assets import RenderOutput
from render.scene.inner import sample_window
from render.scene.layers import Layer

Rect = tuple[int, int, int, int]


@dataclass(frozen=True, kw_only=True)
class WindowSource:
    """An asset rendered through the camera over ``rect`` (x0, y0, x1, y1) of an image of ``size``
    (W, H), in its own frame: depth in asset units, ``scale`` asset units per stage metre."""

    out: RenderOutput
    rect: Rect
    size: tuple[int, int]
    scale: float

    def sample(self, uv: torch.Tensor) -> Layer:
        """The window at ``uv`` (N, 2): a layer whose depth is in stage metres."""
        device = uv.device
        out = self.out
        layer = sample_window(out.rgb.to(device), out.alpha.to(device), out.depth.to(device), self.rect, self.size,
                              uv)
        layer.depth = layer.depth / self.scale
        return layer

    def params(self) -> np.ndarray:
        """What the fused kernel reads of this window (``triton_inner_blend.PARAMS`` floats)."""
        x0, y0, x1, y1 = self.rect
        height, width = self.out.alpha.shape
        if (x1 - x0, y1 - y0) != (width, height):
            raise ValueError(f"window {self.rect} does not match its render ({width} x {height})")
        return np.array([x0, y0, width, height, self.size[0], self.size[1], self.scale, 0.0], np.float32)
