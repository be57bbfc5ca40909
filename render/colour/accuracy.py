"""How far a baked LUT is from OCIO's own CPU processor, on dense colour grids.

The samples sit off the LUT's grid (geometric steps that share no ratio with it) and cover the
source's range: for scene-linear sources 0, near-black (2^-14) up to HDR values (2^8 = 256),
for encoded sources 0..1. Errors are in output code values (0..1), per channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from render.colour.apply import Interpolation, apply_lut
from render.colour.bake import BakedLut
from render.colour.device_lut import DeviceLut
from render.colour.shaper import ShaperKind

TEN_BIT_STEP = 1.0 / 1023.0


@dataclass(frozen=True)
class Accuracy:
    """Absolute error statistics in code values (0..1) over ``samples`` colours."""

    max: float
    p99: float
    mean: float
    samples: int

    def in_10bit_steps(self) -> tuple[float, float]:
        return self.max / TEN_BIT_STEP, self.p99 / TEN_BIT_STEP


def channel_values(kind: ShaperKind, count: int) -> NDArray[np.float32]:
    """``count`` values per channel spanning the source's range, 0 included."""
    if kind == "linear":
        return np.concatenate([[0.0], np.geomspace(1e-3, 1.0, count - 1) * 0.9993]).astype(np.float32)
    return np.concatenate([[0.0], np.geomspace(2.0**-14, 2.0**8, count - 1) * 0.9871]).astype(np.float32)


def dense_grid(kind: ShaperKind, count: int = 40) -> NDArray[np.float32]:
    """Every combination of :func:`channel_values` as (count³, 3) float32."""
    v = channel_values(kind, count)
    r, g, b = np.meshgrid(v, v, v, indexing="ij")
    return np.ascontiguousarray(np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1))


def ocio_reference(processor: object, rgb: NDArray[np.float32]) -> NDArray[np.float32]:
    """OCIO's CPU processor on a copy of ``rgb``, clamped to code values 0..1."""
    out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
    processor.applyRGB(out)  # type: ignore[attr-defined]
    return np.clip(out, 0.0, 1.0)


def lut_apply_numpy(baked: BakedLut, rgb: NDArray[np.float32],
                    interpolation: Interpolation = "tetrahedral") -> NDArray[np.float32]:
    """The torch reference on the CPU, as numpy (N, 3) -> (N, 3)."""
    lut = DeviceLut(baked.shaper, torch.from_numpy(baked.table))
    source = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).reshape(-1, 1, 3)
    out = torch.empty_like(source)
    return apply_lut(source, lut, out, interpolation=interpolation).reshape(-1, 3).numpy()


def compare(expected: NDArray[np.float32], got: NDArray[np.float32]) -> Accuracy:
    error = np.abs(got.astype(np.float64) - expected.astype(np.float64)).ravel()
    return Accuracy(float(error.max()), float(np.percentile(error, 99.0)), float(error.mean()), expected.shape[0])


def measure(baked: BakedLut, processor: object, rgb: NDArray[np.float32],
            interpolation: Interpolation = "tetrahedral") -> Accuracy:
    """Baked LUT (torch, CPU) vs OCIO's CPU ``processor`` on ``rgb``."""
    return compare(ocio_reference(processor, rgb), lut_apply_numpy(baked, rgb, interpolation))
