"""Our own NeRF format: a directory ``NAME.nerf/`` with ``nerf.json`` and ``weights.safetensors``.

``nerf.json``: format tag and version, the field config, the training aabb and the asset->
normalised map (with the instant-ngp scale/offset it came from), the render box (asset frame),
marching settings, occupancy-grid shape and training metadata (dataset frames, steps, timings).
``weights.safetensors``: ``params`` (float32, instant-ngp ``params_binary`` order: density MLP,
colour MLP, hash grid) and ``density_grid`` (float32, cascades x res^3, Morton order).

Saving is atomic: everything is written into a temporary sibling directory, which then replaces
the target in one rename (the previous version is removed only after the rename succeeded).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from render.assets import AssetError
from render.nerf.config import FieldConfig
from render.nerf.fields.ngp_field import NgpField
from render.nerf.model import NerfModel
from render.nerf.model_components.occupancy import OccupancyGrid
from vpstage.geometry import OrientedBox

FORMAT = "vpstage-nerf"
VERSION = 1
JSON_NAME = "nerf.json"
WEIGHTS_NAME = "weights.safetensors"


def _box_json(box: OrientedBox | None) -> dict[str, Any] | None:
    if box is None:
        return None
    return {"center": box.center.tolist(), "rotation": box.rotation.tolist(), "half_extents": box.half_extents.tolist()}


def _box_from_json(data: dict[str, Any] | None) -> OrientedBox | None:
    if data is None:
        return None
    return OrientedBox(np.asarray(data["center"], dtype=np.float64), np.asarray(data["rotation"], dtype=np.float64),
                       np.asarray(data["half_extents"], dtype=np.float64))


def model_json(model: NerfModel) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION,
        "field": model.field.config.to_json(),
        "aabb": {"min": np.asarray(model.aabb_min).tolist(), "max": np.asarray(model.aabb_max).tolist()},
        "asset_to_field": np.asarray(model.asset_to_field).tolist(),
        "render_box": _box_json(model.render_box),
        "cone_angle": model.cone_angle,
        "min_transmittance": model.min_transmittance,
        "grid": {"n_cascades": model.grid.n_cascades, "resolution": model.grid.resolution,
                 "min_step": model.grid.min_step},
        "metadata": model.metadata,
    }


def save_nerf(model: NerfModel, path: str | Path) -> None:
    """Write ``path`` (a ``.nerf`` directory) atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    old = target.with_name(f".{target.name}.old")
    try:
        (tmp / JSON_NAME).write_text(json.dumps(model_json(model), indent=1), encoding="utf-8")
        save_file({"params": model.field.flat_params().cpu().contiguous(),
                   "density_grid": model.grid.density.cpu().contiguous()}, str(tmp / WEIGHTS_NAME))
        for name in (JSON_NAME, WEIGHTS_NAME):
            with open(tmp / name, "rb") as handle:
                os.fsync(handle.fileno())
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise


def load_nerf(path: str | Path) -> NerfModel:
    """Read a ``.nerf`` directory; AssetError names the file and the problem."""
    root = Path(path)
    meta_path, weights_path = root / JSON_NAME, root / WEIGHTS_NAME
    if not root.is_dir():
        raise AssetError(f"{root}: a .nerf asset is a directory holding {JSON_NAME} and {WEIGHTS_NAME}")
    try:
        doc = json.loads(meta_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AssetError(f"{meta_path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise AssetError(f"{meta_path}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    if doc.get("format") != FORMAT or int(doc.get("version", 0)) > VERSION:
        raise AssetError(f"{meta_path}: not a {FORMAT} v{VERSION} file (format {doc.get('format')!r}, "
                         f"version {doc.get('version')!r})")
    try:
        tensors = load_file(str(weights_path))
    except (OSError, SafetensorError) as exc:
        raise AssetError(f"{weights_path}: cannot read weights ({exc})") from exc
    try:
        return _model_from(doc, tensors)
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise AssetError(f"{meta_path}: {type(exc).__name__}: {exc}") from exc


def _model_from(doc: dict[str, Any], tensors: dict[str, torch.Tensor]) -> NerfModel:
    field = NgpField(FieldConfig.from_json(doc["field"]))
    field.load_flat_params(tensors["params"])
    g = doc["grid"]
    grid = OccupancyGrid(int(g["n_cascades"]), int(g["resolution"]), float(g["min_step"]))
    grid.density.copy_(tensors["density_grid"].reshape(grid.density.shape))
    grid.update_bitfield()
    return NerfModel(field=field, grid=grid, aabb_min=np.asarray(doc["aabb"]["min"], dtype=np.float64),
                     aabb_max=np.asarray(doc["aabb"]["max"], dtype=np.float64),
                     asset_to_field=np.asarray(doc["asset_to_field"], dtype=np.float64),
                     render_box=_box_from_json(doc.get("render_box")), cone_angle=float(doc["cone_angle"]),
                     min_transmittance=float(doc["min_transmittance"]), metadata=dict(doc.get("metadata", {})))
