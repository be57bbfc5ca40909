"""SuperSplat "compressed PLY" (PlayCanvas): 256-splat chunks of bounds plus packed 32-bit words.

Layout (rendering.md §4; PlayCanvas splat-transform's reader is the reference behaviour):

* ``element chunk`` (ceil(N / 256) rows, float): ``min_x min_y min_z max_x max_y max_z``,
  ``min_scale_x .. max_scale_z`` (log scales) and optionally ``min_r min_g min_b max_r max_g max_b``.
* ``element vertex`` (N rows, uint): ``packed_position`` and ``packed_scale`` (11-10-11 bit
  fractions of the chunk range, x in the top bits), ``packed_rotation`` (2-bit index of the largest
  component, then three 10-bit components in (w, x, y, z) order scaled by sqrt 2, largest left out),
  ``packed_color`` (8-8-8-8: r, g, b as fractions of the chunk colour range, then opacity).
* optional ``element sh`` (N rows, uchar ``f_rest_0..``; 9, 24 or 45 columns, channel-major):
  value = (byte / 256 + 1/512 - 0.5) * 8, with 0 -> -4 and 255 -> +4 exactly.

Colours are 0.5 + SH_C0 * f_dc, opacities are already activated. The coordinates are the file's
own (the asset frame is the file frame).
"""

from __future__ import annotations

import math

import numpy as np

from render.assets import AssetError
from render.splat.io.gaussian_ply import DecodedSplats
from render.splat.io.ply_container import PlyHeader
from render.splat.model import SH_C0, AssetFrame

CHUNK_SIZE = 256
_BOUNDS = ("min_x", "min_y", "min_z", "max_x", "max_y", "max_z",
           "min_scale_x", "min_scale_y", "min_scale_z", "max_scale_x", "max_scale_y", "max_scale_z")
_COLOUR_BOUNDS = ("min_r", "min_g", "min_b", "max_r", "max_g", "max_b")
_PACKED = ("packed_position", "packed_rotation", "packed_scale", "packed_color")


def is_compressed_ply(header: PlyHeader) -> bool:
    vertex, chunk = header.element("vertex"), header.element("chunk")
    return chunk is not None and vertex is not None and all(p in vertex.names() for p in _PACKED)


def _unorm(words: np.ndarray, shift: int, bits: int) -> np.ndarray:
    field = (words >> np.uint32(shift)) & np.uint32((1 << bits) - 1)
    return np.asarray(np.asarray(field, dtype=np.float32) / np.float32((1 << bits) - 1), dtype=np.float32)


def _unpack_111011(words: np.ndarray) -> np.ndarray:
    return np.stack([_unorm(words, 21, 11), _unorm(words, 11, 10), _unorm(words, 0, 11)], axis=1)


def _lerp_chunks(t: np.ndarray, chunks: np.ndarray, lo: tuple[str, ...], hi: tuple[str, ...],
                 chunk_of: np.ndarray) -> np.ndarray:
    lo_v = np.stack([np.asarray(chunks[n], dtype=np.float32) for n in lo], axis=1)[chunk_of]
    hi_v = np.stack([np.asarray(chunks[n], dtype=np.float32) for n in hi], axis=1)[chunk_of]
    return np.asarray(lo_v * (1.0 - t) + hi_v * t, dtype=np.float32)


def _unpack_rotation(words: np.ndarray) -> np.ndarray:
    norm = np.float32(math.sqrt(2.0))
    small = np.stack([(_unorm(words, s, 10) - 0.5) * norm for s in (20, 10, 0)], axis=1)
    largest = np.sqrt(np.maximum(0.0, 1.0 - np.sum(small * small, axis=1)))
    which = (words >> np.uint32(30)).astype(np.int64)
    quats = np.empty((words.shape[0], 4), dtype=np.float32)
    rows = np.arange(words.shape[0])
    quats[rows, which] = largest
    # the three small components fill the remaining slots in order
    slot = np.arange(3)[None, :] + (np.arange(3)[None, :] >= which[:, None])
    quats[rows[:, None], slot] = small
    return quats


def _sh_from_bytes(table: np.ndarray, n: int, path: str) -> np.ndarray:
    names = table.dtype.names or ()
    count = len(names)
    if count not in (9, 24, 45) or any(f"f_rest_{i}" not in names for i in range(count)):
        raise AssetError(f"{path}: compressed .ply 'sh' element needs 9, 24 or 45 uchar f_rest_* properties")
    if table.shape[0] != n:
        raise AssetError(f"{path}: compressed .ply 'sh' element has {table.shape[0]} rows for {n} splats")
    raw = np.stack([np.asarray(table[f"f_rest_{i}"], dtype=np.float32) for i in range(count)], axis=1)
    unit = np.where(raw == 0, 0.0, np.where(raw == 255, 1.0, (raw + 0.5) / 256.0))
    values = ((unit - 0.5) * 8.0).astype(np.float32)
    return np.ascontiguousarray(values.reshape(n, 3, count // 3).transpose(0, 2, 1))


def decode_compressed(header: PlyHeader, tables: dict[str, np.ndarray], path: str) -> tuple[DecodedSplats, AssetFrame]:
    """Arrays for a SplatModel from a SuperSplat compressed .ply."""
    chunks, vertices = tables["chunk"], tables["vertex"]
    chunk_names = set(chunks.dtype.names or ())
    missing = [n for n in _BOUNDS if n not in chunk_names]
    if missing:
        raise AssetError(f"{path}: compressed .ply chunk element lacks {', '.join(missing)}")
    n = vertices.shape[0]
    if chunks.shape[0] != math.ceil(n / CHUNK_SIZE):
        raise AssetError(f"{path}: compressed .ply has {chunks.shape[0]} chunks for {n} splats "
                         f"(expected {math.ceil(n / CHUNK_SIZE)})")
    chunk_of = np.arange(n) // CHUNK_SIZE
    words = {name: np.asarray(vertices[name], dtype=np.uint32) for name in _PACKED}
    positions = _lerp_chunks(_unpack_111011(words["packed_position"]), chunks, _BOUNDS[0:3], _BOUNDS[3:6], chunk_of)
    log_scales = _lerp_chunks(_unpack_111011(words["packed_scale"]), chunks, _BOUNDS[6:9], _BOUNDS[9:12], chunk_of)
    colour_words = words["packed_color"]
    rgba = np.stack([_unorm(colour_words, s, 8) for s in (24, 16, 8, 0)], axis=1)
    rgb = rgba[:, :3]
    if all(name in chunk_names for name in _COLOUR_BOUNDS):
        rgb = _lerp_chunks(rgb, chunks, _COLOUR_BOUNDS[0:3], _COLOUR_BOUNDS[3:6], chunk_of)
    dc = ((rgb - 0.5) / SH_C0).astype(np.float32)
    rest = (_sh_from_bytes(tables["sh"], n, path) if "sh" in tables
            else np.zeros((n, 0, 3), dtype=np.float32))
    arrays: DecodedSplats = {
        "positions": positions.astype(np.float32),
        "scales": np.exp(log_scales).astype(np.float32),
        "quats": _unpack_rotation(words["packed_rotation"]),
        "opacities": rgba[:, 3].astype(np.float32),
        "sh": np.concatenate([dc[:, None, :], rest], axis=1),
    }
    return arrays, AssetFrame("RDF", None, "SuperSplat compressed .ply file frame")
