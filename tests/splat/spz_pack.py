"""Test-only .spz writer (v2/v3 gzip and v4 ZSTD), following Niantic's packer, to make fixtures.

The product code only reads .spz; these fixtures exercise every version and SH degree with known
values. Input arrays are in RDF (as the loader returns them) and are packed in RUB.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import zstandard

from render.splat.io.spz import RUB_TO_RDF_SH_SIGNS


def _to_rub(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in arrays.items()}
    out["positions"][:, 1:] *= -1
    out["quats"][:, 2:] *= -1
    k = out["sh"].shape[1]
    out["sh"][:, 1:, :] *= RUB_TO_RDF_SH_SIGNS[: k - 1, None]
    return out


def _u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _pack_rotations(quats_wxyz: np.ndarray, version: int) -> bytes:
    q = quats_wxyz / np.linalg.norm(quats_wxyz, axis=1, keepdims=True)
    xyzw = q[:, [1, 2, 3, 0]]
    if version < 3:
        xyzw = xyzw * np.where(xyzw[:, 3:] < 0, -1.0, 1.0)
        return _u8(xyzw[:, :3] * 127.5 + 127.5).tobytes()
    words = []
    for row in xyzw:
        largest = int(np.argmax(np.abs(row)))
        negate = row[largest] < 0
        comp = largest
        for i in range(4):
            if i != largest:
                negbit = int((row[i] < 0) ^ negate)
                mag = int(511 * (abs(row[i]) / np.sqrt(0.5)) + 0.5)
                comp = (comp << 10) | (negbit << 9) | mag
        words.append(comp)
    return np.array(words, dtype="<u4").tobytes()


def pack_sections(arrays: dict[str, np.ndarray], version: int, frac_bits: int = 12) -> list[bytes]:
    rub = _to_rub(arrays)
    fixed = np.rint(rub["positions"].astype(np.float64) * (1 << frac_bits)).astype(np.int64)
    positions = np.stack([fixed & 0xFF, (fixed >> 8) & 0xFF, (fixed >> 16) & 0xFF], axis=-1).astype(np.uint8)
    alphas = _u8(rub["opacities"] * 255.0)
    colors = _u8(rub["sh"][:, 0, :] * (0.15 * 255.0) + 127.5)
    scales = _u8((np.log(rub["scales"]) + 10.0) * 16.0)
    sh = _u8(rub["sh"][:, 1:, :] * 128.0 + 128.0)
    return [positions.tobytes(), alphas.tobytes(), colors.tobytes(), scales.tobytes(),
            _pack_rotations(rub["quats"], version), sh.tobytes()]


def pack_spz_legacy(arrays: dict[str, np.ndarray], version: int) -> bytes:
    n = arrays["positions"].shape[0]
    degree = round(arrays["sh"].shape[1] ** 0.5) - 1
    header = struct.pack("<IIIBBBB", 0x5053474E, version, n, degree, 12, 0, 0)
    return gzip.compress(header + b"".join(pack_sections(arrays, version)))


def pack_spz_v4(arrays: dict[str, np.ndarray]) -> bytes:
    n = arrays["positions"].shape[0]
    degree = round(arrays["sh"].shape[1] ** 0.5) - 1
    streams = [s for s in pack_sections(arrays, 4) if s]
    compressed = [zstandard.ZstdCompressor().compress(s) for s in streams]
    header = struct.pack("<IIIBBBBI", 0x5053474E, 4, n, degree, 12, 0, len(streams), 32) + bytes(12)
    toc = b"".join(struct.pack("<QQ", len(c), len(s)) for c, s in zip(compressed, streams, strict=True))
    return header + toc + b"".join(compressed)
