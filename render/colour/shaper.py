"""Shapers: per-channel maps from source values to 3D LUT grid coordinates.

A 3D LUT samples its input on a uniform grid, but scene-linear light is unbounded and its detail
is spread over stops, not over equal steps. The ``log2`` shaper gives each stop the same number
of grid intervals between ``2**log2_min`` and ``2**log2_max`` (defaults 2^-12 .. 2^8 linear, 20
stops), with a linear toe of ``toe_intervals`` intervals from 0 up to ``2**log2_min``. Every
breakpoint falls on a grid line, so the LUT's interpolation never straddles a kink. Values below 0
take the grid's first point (0) and values above ``2**log2_max`` its last (clamped).

The ``linear`` shaper is the identity over ``[linear_min, linear_max]`` (default 0..1), for
display-referred or log encoded sources, whose values already fill that range evenly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray

ShaperKind = Literal["log2", "linear"]


@dataclass(frozen=True, kw_only=True)
class Shaper:
    """Source value -> grid coordinate ``u`` in ``[0, size - 1]``, per channel."""

    kind: ShaperKind
    size: int
    log2_min: float = -12.0
    log2_max: float = 8.0
    toe_intervals: int = 2
    linear_min: float = 0.0
    linear_max: float = 1.0

    @property
    def log_intervals_per_stop(self) -> float:
        return (self.size - 1 - self.toe_intervals) / (self.log2_max - self.log2_min)

    def grid_values(self) -> NDArray[np.float64]:
        """The source value at each grid line 0..size-1, shape (size,)."""
        u = np.arange(self.size, dtype=np.float64)
        if self.kind == "linear":
            return self.linear_min + u / (self.size - 1) * (self.linear_max - self.linear_min)
        toe = self.toe_intervals
        low = 2.0**self.log2_min
        stops = self.log2_min + (u - toe) / self.log_intervals_per_stop
        return np.where(u < toe, low * u / toe, np.exp2(stops))

    def coordinates(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """numpy reference of :meth:`to_grid` (any shape, float64)."""
        if self.kind == "linear":
            u = (x - self.linear_min) / (self.linear_max - self.linear_min) * (self.size - 1)
        else:
            low = 2.0**self.log2_min
            log_part = self.toe_intervals + (np.log2(np.maximum(x, low)) - self.log2_min) * self.log_intervals_per_stop
            u = np.where(x < low, x / low * self.toe_intervals, log_part)
        return np.clip(u, 0.0, self.size - 1)

    def to_grid(self, x: torch.Tensor) -> torch.Tensor:
        """Grid coordinates of ``x`` (float32, any shape and device), a new tensor in ``[0, size - 1]``."""
        if self.kind == "linear":
            scale = (self.size - 1) / (self.linear_max - self.linear_min)
            return ((x - self.linear_min) * scale).clamp_(0.0, self.size - 1)
        low = 2.0**self.log2_min
        per_stop = self.log_intervals_per_stop
        u = torch.clamp(x, min=low).log2_().sub_(self.log2_min).mul_(per_stop).add_(self.toe_intervals)
        toe = x * (self.toe_intervals / low)
        return torch.where(x < low, toe, u).clamp_(0.0, self.size - 1)


def make_shaper(kind: ShaperKind, size: int) -> Shaper:
    """The documented shaper of ``kind`` for a ``size``³ LUT."""
    if size < 4:
        raise ValueError(f"a shaper + 3D LUT needs at least 4 grid points per axis, got {size}")
    return Shaper(kind=kind, size=size)

