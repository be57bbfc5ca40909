"""Reference answers by the naive method: project every LED pixel of the canvas position map."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vpstage.frustum import CameraFrustum
from vpstage.stage import Stage


def brute_inner_mask(stage: Stage, canvas: str, frustum: CameraFrustum) -> NDArray[np.bool_]:
    """Inner pixels from the canvas position map: inside the side planes and facing the eye (float32,
    like the map; boundary pixels are settled by ``assert_masks_agree``)."""
    px = stage.canvas_pixels(canvas)
    relative = px.positions.reshape(-1, 3) - frustum.eye.astype(np.float32)
    inside = np.ones(len(relative), dtype=bool)
    for plane in frustum.planes.astype(np.float32):
        inside &= relative @ plane >= 0
    facing = np.einsum("ij,ij->i", px.normals.reshape(-1, 3), relative) < 0
    return (inside & facing).reshape(px.valid.shape) & px.valid


def assert_masks_agree(stage: Stage, canvas: str, frustum: CameraFrustum, mask: NDArray[np.bool_]) -> None:
    """The fast mask equals the brute-force one, except for pixels lying on a side plane
    (within float32 rounding of the position map), where either answer is right."""
    expected = brute_inner_mask(stage, canvas, frustum)
    differ = np.argwhere(mask != expected)
    if differ.size == 0:
        return
    positions = stage.canvas_pixels(canvas).positions[differ[:, 0], differ[:, 1]].astype(np.float64)
    planes = frustum.planes / np.linalg.norm(frustum.planes, axis=1, keepdims=True)
    distance = np.abs((positions - frustum.eye) @ planes.T).min(axis=1)
    assert distance.max() < 1e-5, f"{len(differ)} pixels differ, up to {distance.max():.3g} m from a plane"
