"""3DGS .ply files (Inria / nerfstudio layout): decode into arrays and encode from a model.

Layout (reference: rendering.md §3.3): one ``vertex`` element with ``x y z``, optional ``nx ny nz``,
colour as ``f_dc_0..2`` (SH DC) or, in nerfstudio's ``ply_color_mode=rgb`` variant, ``red green
blue`` (uchar 0..255, or float 0..1), optional ``f_rest_*`` (channel-major: all R coefficients,
then G, then B), ``opacity`` (logit), ``scale_0..2`` (log) and ``rot_0..3`` (quaternion w, x, y, z).
The file's coordinates are kept as they are (the asset frame is the file frame, usually RDF); a
nerfstudio ``comment Vertical Axis: z`` is recorded as the up axis.
"""

from __future__ import annotations

import numpy as np

from render.assets import AssetError
from render.splat.io.ply_container import PlyHeader
from render.splat.model import SH_C0, AssetFrame

DecodedSplats = dict[str, np.ndarray]
"""Arrays keyed positions, scales, quats (wxyz), opacities, sh (N, K, 3): the SplatModel fields."""

_REQUIRED = ("x", "y", "z", "opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64))), dtype=np.float32)


def logit(p: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), eps, 1.0 - eps)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float32)


def _column(table: np.ndarray, name: str) -> np.ndarray:
    return np.asarray(table[name], dtype=np.float32)


def _colour_dc(table: np.ndarray, names: set[str], path: str) -> np.ndarray:
    if {"f_dc_0", "f_dc_1", "f_dc_2"} <= names:
        return np.stack([_column(table, f"f_dc_{i}") for i in range(3)], axis=1)
    if {"red", "green", "blue"} <= names:
        rgb = np.stack([_column(table, c) for c in ("red", "green", "blue")], axis=1)
        if table.dtype["red"].kind in "ui":  # nerfstudio writes uchar 0..255
            rgb = rgb / np.float32(255.0)
        return np.asarray((rgb - 0.5) / SH_C0, dtype=np.float32)
    raise AssetError(f"{path}: 3DGS .ply has no colour: expected f_dc_0..2 or red/green/blue properties")


def _sh_rest(table: np.ndarray, names: set[str], path: str) -> np.ndarray:
    n_rest = sum(1 for name in names if name.startswith("f_rest_"))
    if n_rest == 0:
        return np.zeros((table.shape[0], 0, 3), dtype=np.float32)
    if n_rest not in (9, 24, 45) or any(f"f_rest_{i}" not in names for i in range(n_rest)):
        raise AssetError(f"{path}: {n_rest} f_rest properties do not form SH degree 1..3 (need 9, 24 or 45 "
                         "named f_rest_0..)")
    per_channel = n_rest // 3
    rest = np.stack([_column(table, f"f_rest_{i}") for i in range(n_rest)], axis=1)
    # channel-major in the file: (N, 3, K-1) -> (N, K-1, 3)
    return np.ascontiguousarray(rest.reshape(-1, 3, per_channel).transpose(0, 2, 1))


def decode_gaussian_vertices(header: PlyHeader, table: np.ndarray, path: str) -> tuple[DecodedSplats, AssetFrame]:
    """Arrays for a SplatModel from the ``vertex`` table of a 3DGS .ply."""
    names = set(table.dtype.names or ())
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise AssetError(f"{path}: not a 3DGS splat .ply: vertex element lacks {', '.join(missing)}")
    dc = _colour_dc(table, names, path)
    sh = np.concatenate([dc[:, None, :], _sh_rest(table, names, path)], axis=1)
    arrays: DecodedSplats = {
        "positions": np.stack([_column(table, c) for c in "xyz"], axis=1),
        "scales": np.exp(np.stack([_column(table, f"scale_{i}") for i in range(3)], axis=1)),
        "quats": np.stack([_column(table, f"rot_{i}") for i in range(4)], axis=1),
        "opacities": sigmoid(_column(table, "opacity")),
        "sh": sh,
    }
    return arrays, AssetFrame("RDF", _up_from_comments(header.comments), "3DGS .ply file frame")


def _up_from_comments(comments: tuple[str, ...]) -> str | None:
    for comment in comments:
        key, _, value = comment.partition(":")
        if key.strip().lower() == "vertical axis" and value.strip().lower() in ("x", "y", "z", "-x", "-y", "-z"):
            return value.strip().lower()
    return None


def gaussian_vertex_table(arrays: DecodedSplats) -> np.ndarray:
    """The Inria-layout structured array (62 float32 for SH degree 3) for activated arrays."""
    positions, sh = arrays["positions"], arrays["sh"]
    n, k = positions.shape[0], sh.shape[1]
    rest_names = [f"f_rest_{i}" for i in range(3 * (k - 1))]
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", *rest_names, "opacity",
             "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    table = np.zeros(n, dtype=np.dtype([(name, "<f4") for name in names]))
    for i, c in enumerate("xyz"):
        table[c] = positions[:, i]
    for i in range(3):
        table[f"f_dc_{i}"] = sh[:, 0, i]
        table[f"scale_{i}"] = np.log(np.maximum(arrays["scales"][:, i], 1e-30))
    rest = sh[:, 1:, :].transpose(0, 2, 1).reshape(n, -1)  # channel-major
    for i, name in enumerate(rest_names):
        table[name] = rest[:, i]
    table["opacity"] = logit(arrays["opacities"])
    for i in range(4):
        table[f"rot_{i}"] = arrays["quats"][:, i]
    return table

