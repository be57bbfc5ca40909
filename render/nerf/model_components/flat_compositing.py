"""Compositing samples held as flat lists grouped by ray (the training layout, no padding).

Samples come as ``MarchedSamples`` order: ``ray`` ascending, marching order within a ray. The
per-ray exclusive sums behind the transmittance are one global cumulative sum in float64 minus
each ray's running total at its first sample (float32 would lose the small optical depths of
late rays against the large total of all rays before them). Everything is differentiable.
"""

from __future__ import annotations

import math

import torch

TRAINING_MIN_TRANSMITTANCE = 1e-4
"""instant-ngp's training threshold: samples behind transmittance < 1e-4 are dropped."""
MAX_OPTICAL_DEPTH = -math.log(TRAINING_MIN_TRANSMITTANCE)
"""Optical depth at which the transmittance reaches :data:`TRAINING_MIN_TRANSMITTANCE`."""


def ray_starts(count: torch.Tensor) -> torch.Tensor:
    """(N,) index of each ray's first sample in the flat list (the exclusive cumulative count)."""
    return torch.cumsum(count, 0) - count


def optical_depth_before(optical: torch.Tensor, ray: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """(M,) float64: each sample's ray's optical depth before it (sum of ``optical`` of the earlier samples)."""
    inclusive = torch.cumsum(optical.double(), 0)
    exclusive = inclusive - optical.double()
    if exclusive.numel() == 0:
        return exclusive
    first = ray_starts(count).clamp(max=exclusive.numel() - 1)
    return exclusive - exclusive[first][ray]


def composite_samples(sigma: torch.Tensor, rgb: torch.Tensor, dt: torch.Tensor, ray: torch.Tensor,
                      count: torch.Tensor, background: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Front-to-back compositing of flat samples over ``background`` (N, 3).

    ``sigma`` (M,) density, ``rgb`` (M, 3), ``dt`` (M,) segment lengths, ``ray`` (M,), ``count`` (N,).
    Returns ``(color (N, 3), opacity (N,))``, float32; rays without samples show the background.
    """
    optical = sigma * dt
    transmittance = torch.exp(-optical_depth_before(optical, ray, count)).to(sigma.dtype)
    weight = transmittance * (1.0 - torch.exp(-optical))
    n = count.shape[0]
    opacity = torch.zeros(n, dtype=weight.dtype, device=weight.device).index_add(0, ray, weight)
    color = torch.zeros(n, 3, dtype=rgb.dtype, device=rgb.device).index_add(0, ray, weight[:, None] * rgb)
    return color + (1.0 - opacity)[:, None] * background, opacity
