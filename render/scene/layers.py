"""Per-pixel layers of several assets, composited front to back by depth.

Every asset renders the same pixels (a canvas's inner pixels, or a cube-map face) into a
:class:`Layer`: colour premultiplied by coverage (the asset rendered over black), coverage, and
depth in **stage metres** along a common measure (the caller picks it: camera z for inner pixels,
face z for cube faces), so assets in different scene frames and units compare. An asset's depth
in its own units is divided by its placement's scale (``p_scene = scale · R · p_stage + t``).

Per pixel, layers are ordered by depth and blended with the "over" operator; what is left shows
the background. One depth per asset and pixel (its coverage-weighted mean) is an approximation:
two semi-transparent assets interleaved in depth at one pixel blend as two sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class Layer:
    """One asset over N pixels: ``rgb`` (N, 3) premultiplied, ``alpha`` (N,), ``depth`` (N,) stage
    metres (any value where alpha is 0). float32 tensors on one device."""

    rgb: torch.Tensor
    alpha: torch.Tensor
    depth: torch.Tensor

    @staticmethod
    def empty(count: int, device: torch.device) -> Layer:
        return Layer(torch.zeros(count, 3, device=device), torch.zeros(count, device=device),
                     torch.zeros(count, device=device))


def composite(layers: Sequence[Layer], background: torch.Tensor, count: int) -> torch.Tensor:
    """(N, 3) colour of the layers over ``background`` (3,); with no layers, the background."""
    device = background.device
    if not layers:
        return background.expand(count, 3).clone()
    if len(layers) == 1:
        only = layers[0]
        return only.rgb + (1.0 - only.alpha)[:, None] * background
    alpha = torch.stack([layer.alpha for layer in layers])          # (K, N)
    depth = torch.stack([layer.depth for layer in layers])
    depth = torch.where(alpha > 0, depth, torch.full_like(depth, torch.inf))
    order = torch.argsort(depth, dim=0)                              # nearest first
    rgb = torch.stack([layer.rgb for layer in layers])               # (K, N, 3)
    alpha = torch.gather(alpha, 0, order)
    rgb = torch.gather(rgb, 0, order[:, :, None].expand(-1, -1, 3))
    colour = torch.zeros(count, 3, device=device)
    transmittance = torch.ones(count, device=device)
    for k in range(len(layers)):
        colour += transmittance[:, None] * rgb[k]
        transmittance = transmittance * (1.0 - alpha[k])
    return colour + transmittance[:, None] * background
