"""Pixel formats for the outputs: BGRX canvases to 8-bit 4:2:2 UYVY (Rec. 709, video range)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Rec. 709 luma weights and video-range scaling (Y 16..235, Cb/Cr 16..240), in 1/2**16 units
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
SHIFT = 16
_Y = np.array([_KB, _KG, _KR]) * 219.0 / 255.0
_CB = np.array([0.5, -0.5 * _KG / (1 - _KB), -0.5 * _KR / (1 - _KB)]) * 224.0 / 255.0
_CR = np.array([-0.5 * _KB / (1 - _KR), -0.5 * _KG / (1 - _KR), 0.5]) * 224.0 / 255.0
COEFF = np.round(np.stack([_Y, _CB, _CR]) * (1 << SHIFT)).astype(np.int32)
"""Rows Y, Cb, Cr; columns B, G, R (BGRX order)."""


def bgrx_to_uyvy(image: NDArray[np.uint8], out: NDArray[np.uint8] | None = None) -> NDArray[np.uint8]:
    """(H, W, 4) BGRX -> (H, W, 2) UYVY (U0 Y0 V0 Y1 per pixel pair); W must be even.

    Chroma is the mean of each horizontal pixel pair. Writes into ``out`` when given.
    """
    height, width = image.shape[:2]
    if width % 2:
        raise ValueError(f"UYVY needs an even width, not {width}")
    if out is None:
        out = np.empty((height, width, 2), dtype=np.uint8)
    bgr = image[..., :3].astype(np.int32)
    half = 1 << (SHIFT - 1)
    luma = (bgr @ COEFF[0] + half) >> SHIFT
    out[..., 1] = np.clip(luma + 16, 16, 235)
    pairs = bgr[:, 0::2] + bgr[:, 1::2]  # twice the mean of each pair
    cb = (pairs @ COEFF[1] + (1 << SHIFT)) >> (SHIFT + 1)
    cr = (pairs @ COEFF[2] + (1 << SHIFT)) >> (SHIFT + 1)
    out[:, 0::2, 0] = np.clip(cb + 128, 16, 240)
    out[:, 1::2, 0] = np.clip(cr + 128, 16, 240)
    return out
