"""The ``.bnerf`` file: one safetensors file, a JSON header in its metadata, then the tensors.

Header (``__metadata__["header"]``, JSON): ``format`` ("vpstage-baked-nerf"), ``version``, the
field and march configs, the texture's geometry (``origin``, ``brick_size``, ``brick_res``,
``dims`` (x, y, z) and ``n_bricks``), the source's training aabb and asset->normalised map, the
render box (asset frame) and metadata (source file and hash, training cameras, bake figures).

Tensors: ``occupancy_bits`` (uint8, the (z, y, x) brick occupancy in C order, 8 bricks a byte,
brick 8i+j in bit j of byte i), ``density_bricks`` (float16, n_bricks x (r+1)^3), and the field:
``diffuse_table``, ``specular_table`` (float32, entries x features), ``diffuse_mlp``,
``specular_mlp`` (float32, tiny-cuda-nn flat weight order).

Saving is atomic (temporary file, fsync, rename: vpstage.config.atomic). Loading checks every
field and tensor and raises ``AssetError`` naming the file and the field.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from render.assets import AssetError
from render.nerf.baked.asset import BakedNerfAsset
from render.nerf.baked.config import BakedFieldConfig, MarchConfig
from render.nerf.baked.density_texture import DensityTexture
from render.nerf.baked.field import BakedField
from render.nerf.baked.model import BakedNerfModel
from render.nerf.model_components.occupancy import pack_bits, unpack_bits
from vpstage.geometry import OrientedBox

FORMAT = "vpstage-baked-nerf"
VERSION = 1
SUFFIX = ".bnerf"
HEADER_KEY = "header"
HEADER_LENGTH_BYTES = 8
"""safetensors: a little-endian u64 header length, then that many bytes of JSON."""
FIELD_TENSORS = ("diffuse_table", "specular_table", "diffuse_mlp", "specular_mlp")


def _box_json(box: OrientedBox | None) -> dict[str, Any] | None:
    if box is None:
        return None
    return {"center": box.center.tolist(), "rotation": box.rotation.tolist(), "half_extents": box.half_extents.tolist()}


def header_json(model: BakedNerfModel) -> dict[str, Any]:
    t = model.texture
    return {
        "format": FORMAT, "version": VERSION,
        "field": model.field.config.to_json(), "march": model.march.to_json(),
        "texture": {"origin": t.origin.cpu().tolist(), "brick_size": t.brick_size, "brick_res": t.brick_res,
                    "dims": list(t.dims), "n_bricks": t.n_bricks},
        "aabb": {"min": np.asarray(model.aabb_min).tolist(), "max": np.asarray(model.aabb_max).tolist()},
        "asset_to_field": np.asarray(model.asset_to_field).tolist(),
        "render_box": _box_json(model.render_box),
        "metadata": model.metadata,
    }


def baked_file_bytes(model: BakedNerfModel) -> bytes:
    occupancy = model.texture.occupancy.reshape(-1).cpu()
    padded = torch.cat([occupancy, torch.zeros((-occupancy.numel()) % 8, dtype=torch.bool)])
    tensors = {"occupancy_bits": pack_bits(padded), "density_bricks": model.texture.bricks.cpu().contiguous(),
               **model.field.state_tensors()}
    return save(tensors, metadata={HEADER_KEY: json.dumps(header_json(model))})


def save_baked(model: BakedNerfModel, path: str | Path) -> None:
    """Write ``path`` (a ``.bnerf`` file) atomically."""
    from vpstage.config import atomic_write_bytes

    atomic_write_bytes(path, baked_file_bytes(model), backup=False)


# ---------------------------------------------------------------------- loading
def _read_header(path: Path, data: bytes) -> dict[str, Any]:
    """The JSON header of a safetensors file; AssetError when the bytes are not one."""
    if len(data) < HEADER_LENGTH_BYTES:
        raise AssetError(f"{path}: not a {SUFFIX} file ({len(data)} bytes, too short for a header)")
    (length,) = struct.unpack("<Q", data[:HEADER_LENGTH_BYTES])
    if length > len(data) - HEADER_LENGTH_BYTES:
        raise AssetError(f"{path}: not a {SUFFIX} file (header length {length} runs past the end of the file)")
    try:
        outer = json.loads(data[HEADER_LENGTH_BYTES:HEADER_LENGTH_BYTES + length])
        doc = json.loads(outer["__metadata__"][HEADER_KEY])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise AssetError(f"{path}: not a {SUFFIX} file (no JSON header: {type(exc).__name__} {exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise AssetError(f"{path}: not a {FORMAT} file (format {found!r})")
    if not isinstance(doc.get("version"), int) or not 1 <= doc["version"] <= VERSION:
        raise AssetError(f"{path}: {FORMAT} version {doc.get('version')!r} is not supported (this reads 1..{VERSION})")
    return doc


def _get(doc: dict[str, Any], dotted: str) -> Any:
    """``doc['a']['b']`` for ``'a.b'``; KeyError naming the dotted field."""
    value: Any = doc
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(dotted)
        value = value[key]
    return value


def _vector(doc: dict[str, Any], dotted: str, size: int) -> np.ndarray:
    value = np.asarray(_get(doc, dotted), dtype=np.float64)
    if value.shape != (size,) or not np.all(np.isfinite(value)):
        raise ValueError(f"header field {dotted!r} must be {size} finite numbers")
    return value


def _tensor(tensors: dict[str, torch.Tensor], name: str, dtype: torch.dtype,
            shape: tuple[int, ...] | None = None) -> torch.Tensor:
    if name not in tensors:
        raise ValueError(f"tensor {name!r} is missing")
    t = tensors[name]
    if t.dtype != dtype:
        raise ValueError(f"tensor {name!r} is {t.dtype}, expected {dtype}")
    if shape is not None and tuple(t.shape) != shape:
        raise ValueError(f"tensor {name!r} has shape {tuple(t.shape)}, the header says {shape}")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"tensor {name!r} holds non-finite values")
    return t


def _texture_from(doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> DensityTexture:
    nx, ny, nz = (int(v) for v in _get(doc, "texture.dims"))
    r, n = int(_get(doc, "texture.brick_res")), int(_get(doc, "texture.n_bricks"))
    brick_size = float(_get(doc, "texture.brick_size"))
    if min(nx, ny, nz) < 1 or r < 1 or not (math.isfinite(brick_size) and brick_size > 0):
        raise ValueError("header field 'texture' needs dims >= 1, brick_res >= 1 and a positive brick_size")
    bits = _tensor(tensors, "occupancy_bits", torch.uint8, ((nx * ny * nz + 7) // 8,))
    occupancy = unpack_bits(bits)[: nx * ny * nz].reshape(nz, ny, nx)
    if int(occupancy.sum()) != n:
        raise ValueError(f"tensor 'occupancy_bits' marks {int(occupancy.sum())} bricks, header field "
                         f"'texture.n_bricks' says {n}")
    bricks = _tensor(tensors, "density_bricks", torch.float16, (n, r + 1, r + 1, r + 1))
    origin = torch.as_tensor(_vector(doc, "texture.origin", 3), dtype=torch.float32)
    return DensityTexture(origin, brick_size, r, occupancy, bricks)


def _model_from(doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> BakedNerfModel:
    field_doc = _get(doc, "field")
    try:
        config = BakedFieldConfig.from_json(field_doc)
    except KeyError as exc:
        raise KeyError(f"field.{exc.args[0]}") from exc
    field = BakedField(config)
    for name in FIELD_TENSORS:
        _tensor(tensors, name, torch.float32)
    field.load_state_tensors(tensors)
    box = doc.get("render_box")
    render_box = None if box is None else OrientedBox(
        _vector(box, "center", 3), np.asarray(box["rotation"], dtype=np.float64).reshape(3, 3),
        _vector(box, "half_extents", 3))
    matrix = np.asarray(_get(doc, "asset_to_field"), dtype=np.float64)
    if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
        raise ValueError("header field 'asset_to_field' must be a finite 4x4 matrix")
    return BakedNerfModel(texture=_texture_from(doc, tensors), field=field,
                          aabb_min=_vector(doc, "aabb.min", 3), aabb_max=_vector(doc, "aabb.max", 3),
                          asset_to_field=matrix, render_box=render_box,
                          march=MarchConfig.from_json(_get(doc, "march")), metadata=dict(doc.get("metadata") or {}))


def load_baked(path: str | Path) -> BakedNerfModel:
    """Read a ``.bnerf`` file (on the CPU); AssetError names the file and the problem."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AssetError(f"{p}: cannot read ({exc.strerror or exc})") from exc
    doc = _read_header(p, data)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as exc:
        raise AssetError(f"{p}: corrupt tensor data ({exc})") from exc
    try:
        return _model_from(doc, tensors)
    except KeyError as exc:
        raise AssetError(f"{p}: header field {exc.args[0]!r} is missing") from exc
    except (ValueError, TypeError) as exc:
        raise AssetError(f"{p}: {exc}") from exc


def load_baked_asset(path: str, device: str = "cpu") -> BakedNerfAsset:
    """Loader for render.assets.load_asset: a ``BakedNerfAsset`` on ``device``."""
    model = load_baked(path)
    try:
        model.to(device)
    except (RuntimeError, AssertionError) as exc:
        raise AssetError(f"{path}: cannot move the baked NeRF to device {device!r}: {exc}") from exc
    return BakedNerfAsset(model, Path(path).stem)
