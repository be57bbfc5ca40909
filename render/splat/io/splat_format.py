"""antimatter15 ``.splat``: a headerless array of 32-byte records (rendering.md §3.4).

Record: position xyz float32 (12 B), linear scale xyz float32 (12 B), RGBA uint8 (colour
0.5 + SH_C0 * f_dc and opacity, times 255), quaternion (w, x, y, z) uint8 as q * 128 + 128. Only
the SH DC term survives. Writers sort splats as antimatter15's convert.py does: by
exp(scale sum) * opacity, largest first, so a viewer can stream the most visible splats first.
"""

from __future__ import annotations

import numpy as np

from render.assets import AssetError
from render.splat.io.gaussian_ply import DecodedSplats
from render.splat.model import SH_C0, AssetFrame

RECORD_BYTES = 32
RECORD_DTYPE = np.dtype([("position", "<f4", (3,)), ("scale", "<f4", (3,)), ("rgba", "u1", (4,)),
                         ("quat", "u1", (4,))])
assert RECORD_DTYPE.itemsize == RECORD_BYTES


def decode_splat(data: bytes, path: str) -> tuple[DecodedSplats, AssetFrame]:
    if len(data) == 0:
        raise AssetError(f"{path}: empty .splat file")
    if len(data) % RECORD_BYTES:
        raise AssetError(f"{path}: .splat size {len(data)} is not a multiple of {RECORD_BYTES} bytes "
                         f"(truncated after {len(data) // RECORD_BYTES} complete splats)")
    records = np.frombuffer(data, dtype=RECORD_DTYPE)
    rgba = records["rgba"].astype(np.float32) / 255.0
    arrays: DecodedSplats = {
        "positions": records["position"].astype(np.float32),
        "scales": records["scale"].astype(np.float32),
        "quats": (records["quat"].astype(np.float32) - 128.0) / 128.0,
        "opacities": rgba[:, 3].copy(),
        "sh": ((rgba[:, None, :3] - 0.5) / SH_C0).astype(np.float32),
    }
    if not np.all(arrays["scales"] >= 0):
        raise AssetError(f"{path}: .splat holds negative scales (not an antimatter15 .splat file?)")
    return arrays, AssetFrame("RDF", None, "antimatter15 .splat file frame")


def splat_order(scales: np.ndarray, opacities: np.ndarray) -> np.ndarray:
    """antimatter15's order: descending volume (product of linear scales) times opacity, stable."""
    volume = np.prod(scales.astype(np.float64), axis=1)
    return np.argsort(-(volume * opacities.astype(np.float64)), kind="stable")


def encode_splat(arrays: DecodedSplats) -> bytes:
    """.splat bytes for activated arrays (rounded to the nearest byte), sorted by :func:`splat_order`."""
    order = splat_order(arrays["scales"], arrays["opacities"])
    n = order.shape[0]
    records = np.zeros(n, dtype=RECORD_DTYPE)
    records["position"] = arrays["positions"][order]
    records["scale"] = arrays["scales"][order]
    colour = 0.5 + SH_C0 * arrays["sh"][order, 0, :]
    rgba = np.concatenate([colour, arrays["opacities"][order, None]], axis=1)
    records["rgba"] = np.clip(np.rint(rgba * 255.0), 0, 255).astype(np.uint8)
    quats = arrays["quats"][order]
    quats = quats / np.maximum(np.linalg.norm(quats, axis=1, keepdims=True), 1e-12)
    records["quat"] = np.clip(np.rint(quats * 128.0 + 128.0), 0, 255).astype(np.uint8)
    return records.tobytes()
