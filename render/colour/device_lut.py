"""A baked shaper + 3D LUT on one device: what the torch path (``render.colour.apply``) and the
fused kernel (``render.colour.triton_apply``) both read."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from render.colour.shaper import Shaper


@dataclass(frozen=True)
class DeviceLut:
    """A baked LUT on one device: ``table`` (N³, 3) float32, red fastest (the .cube order)."""

    shaper: Shaper
    table: torch.Tensor

    @property
    def size(self) -> int:
        return self.shaper.size
