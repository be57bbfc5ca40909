"""instant-ngp snapshots (``.ingp``: gzip MessagePack; ``.msgpack``: plain MessagePack).

Import maps the snapshot into a ``NerfModel`` whose asset frame is the dataset's "nerf space"
(``nerf.dataset.scale``, ``offset`` and the axis cycle undone, see conventions.py); export writes
the inverse. Layouts (reference/rendering.md §3.1): ``params_binary`` holds the density MLP, the
colour MLP and the hash grid (fp16 for ``params_type == "__half"``); ``density_grid_binary`` holds
fp16 cell values, 128^3 per cascade, Morton order.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import torch

from render.assets import AssetError
from render.nerf.config import from_ngp_network_config, to_ngp_network_config
from render.nerf.conventions import (
    AXIS_CYCLE,
    asset_to_field_matrix,
    box_from_ngp,
    box_to_ngp,
    nerf_matrix_to_ngp,
    similarity_scale,
)
from render.nerf.fields.ngp_field import NgpField
from render.nerf.model import NerfModel, default_cone_angle
from render.nerf.model_components.occupancy import NGP_GRID_RESOLUTION, OccupancyGrid, cascades_for_aabb_scale
from vpstage.config import atomic_write_bytes
from vpstage.geometry import OrientedBox

SNAPSHOT_VERSION = 1
NGP_MIN_STEP = math.sqrt(3) / 1024
GZIP_MAGIC = b"\x1f\x8b"


def read_snapshot_document(path: Path) -> dict[str, Any]:
    """The decoded MessagePack document (gzip detected by its magic bytes)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AssetError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
        doc = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except (OSError, EOFError, ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise AssetError(f"{path}: not an instant-ngp snapshot (MessagePack/gzip decode failed: {exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("snapshot"), dict):
        raise AssetError(f"{path}: not an instant-ngp snapshot (no 'snapshot' map)")
    return doc


def _vec3(value: Any, what: str, path: Path) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.shape != (3,):
        raise AssetError(f"{path}: {what} must have 3 numbers, got {value!r}")
    return arr


def _params(snap: dict[str, Any], path: Path) -> torch.Tensor:
    ptype = snap.get("params_type", "__half")
    dtypes = {"__half": np.float16, "float": np.float32}
    if ptype not in dtypes:
        raise AssetError(f"{path}: snapshot.params_type {ptype!r} is not supported (need __half or float)")
    blob = snap.get("params_binary")
    if not isinstance(blob, bytes | bytearray):
        raise AssetError(f"{path}: snapshot.params_binary is missing")
    arr = np.frombuffer(blob, dtype=dtypes[ptype])
    n = snap.get("n_params")
    if n is not None and int(n) != arr.size:
        raise AssetError(f"{path}: snapshot.n_params is {n} but params_binary holds {arr.size} values")
    return torch.from_numpy(arr.astype(np.float32))


def _grid(snap: dict[str, Any], aabb_scale: float, path: Path) -> OccupancyGrid:
    n_cascades = cascades_for_aabb_scale(aabb_scale)
    size = int(snap.get("density_grid_size", NGP_GRID_RESOLUTION))
    if size != NGP_GRID_RESOLUTION:
        raise AssetError(f"{path}: snapshot.density_grid_size is {size}, instant-ngp uses {NGP_GRID_RESOLUTION}")
    grid = OccupancyGrid(n_cascades, size)
    blob = snap.get("density_grid_binary", b"")
    values = np.frombuffer(blob, dtype=np.float16) if blob else np.zeros(0, np.float16)
    if values.size == 0:  # never trained: treat every cell as occupied
        grid.density.fill_(1.0)
    elif values.size != grid.density.numel():
        raise AssetError(f"{path}: density grid holds {values.size} cells, expected {grid.density.numel()} "
                         f"({n_cascades} cascades of {size}^3 for aabb_scale {aabb_scale:g})")
    else:
        grid.density.copy_(torch.from_numpy(values.astype(np.float32)).reshape(grid.density.shape))
    grid.update_bitfield()
    return grid


def model_from_snapshot(doc: dict[str, Any], path: Path) -> NerfModel:
    """Build a ``NerfModel`` from a decoded snapshot document; AssetError names what is wrong."""
    snap = doc["snapshot"]
    if int(snap.get("version", 0)) < SNAPSHOT_VERSION:
        raise AssetError(f"{path}: snapshot version {snap.get('version')} is too old (need >= {SNAPSHOT_VERSION})")
    mode = str(snap.get("mode", "Nerf"))
    if mode.lower() != "nerf" and "nerf" not in snap:
        raise AssetError(f"{path}: snapshot mode {mode!r} is not a NeRF")
    nerf = snap.get("nerf", {})
    dataset = nerf.get("dataset", {})
    aabb_scale = float(nerf.get("aabb_scale", dataset.get("aabb_scale", 1)))
    try:
        config = from_ngp_network_config(doc, aabb_scale)
    except (ValueError, TypeError) as exc:
        raise AssetError(f"{path}: {exc}") from exc
    field = NgpField(config)
    try:
        field.load_flat_params(_params(snap, path))
    except ValueError as exc:
        raise AssetError(f"{path}: {exc}") from exc
    aabb = snap.get("aabb", {"min": [0.5 - aabb_scale / 2] * 3, "max": [0.5 + aabb_scale / 2] * 3})
    lo, hi = _vec3(aabb["min"], "aabb.min", path), _vec3(aabb["max"], "aabb.max", path)
    if dataset:
        asset_to_field = asset_to_field_matrix(float(dataset.get("scale", 1.0)), _vec3(dataset.get("offset", [0, 0, 0]),
                                               "nerf.dataset.offset", path), bool(dataset.get("from_mitsuba", False)))
    else:  # no dataset: the asset frame is the normalised frame
        asset_to_field = np.eye(4)
    model = NerfModel(field=field, grid=_grid(snap, aabb_scale, path), aabb_min=lo, aabb_max=hi,
                      asset_to_field=asset_to_field, cone_angle=default_cone_angle(aabb_scale),
                      metadata={"source": str(path), "training_step": int(snap.get("training_step", 0)),
                            "loss": float(snap.get("loss", 0.0))})
    model.render_box = _render_box(snap, model, path)
    if dataset:
        model.metadata["ngp_dataset"] = _dataset_summary(dataset)
    return model


def _render_box(snap: dict[str, Any], model: NerfModel, path: Path) -> OrientedBox | None:
    ra = snap.get("render_aabb")
    if not ra:
        return None
    to_local = np.asarray(snap.get("render_aabb_to_local", np.eye(3)), dtype=np.float64).reshape(3, 3)
    lo, hi = _vec3(ra["min"], "render_aabb.min", path), _vec3(ra["max"], "render_aabb.max", path)
    if np.allclose(to_local, np.eye(3)) and np.all(lo <= model.aabb_min + 1e-6) and np.all(hi >= model.aabb_max - 1e-6):
        return None  # the full training aabb: no extra crop
    return model.box_to_asset(box_from_ngp(lo, hi, to_local))


def _dataset_summary(dataset: dict[str, Any]) -> dict[str, Any]:
    return {k: dataset[k] for k in ("scale", "offset", "aabb_scale", "from_mitsuba", "n_images", "paths")
            if k in dataset}


def load_snapshot(path: str | Path) -> NerfModel:
    p = Path(path)
    return model_from_snapshot(read_snapshot_document(p), p)


# ---------------------------------------------------------------------- export
def _scale_offset(model: NerfModel) -> tuple[float, np.ndarray]:
    """instant-ngp's (scale, offset) for the model's asset->normalised map; AssetError if not of that form."""
    s = similarity_scale(model.asset_to_field)
    rot = model.asset_to_field[:3, :3] / s
    if not np.allclose(rot, AXIS_CYCLE, atol=1e-6):
        raise AssetError("the asset frame is not instant-ngp's axis cycle of the normalised frame; "
                         "cannot be written as a snapshot")
    return s, AXIS_CYCLE.T @ model.asset_to_field[:3, 3]


def _frames_to_dataset(model: NerfModel) -> dict[str, Any]:
    frames = model.metadata.get("frames", [])
    xforms, metadata, paths = [], [], []
    for frame in frames:
        m = nerf_matrix_to_ngp(np.asarray(frame["transform_matrix"]), model.asset_to_field)
        xforms.append({"start": m.tolist(), "end": m.tolist()})
        w, h = int(frame["w"]), int(frame["h"])
        lens = {"is_fisheye": False, **{k: float(frame.get(k, 0.0)) for k in ("k1", "k2", "p1", "p2")}}
        metadata.append({"resolution": [w, h], "focal_length": [float(frame["fl_x"]), float(frame["fl_y"])],
                         "principal_point": [float(frame["cx"]) / w, float(frame["cy"]) / h],
                         "rolling_shutter": [0.0, 0.0, 0.0, 0.0], "light_dir": [0.0, 0.0, 0.0],
                         "lens": lens, "camera_distortion": lens})
        paths.append(str(frame.get("file_path", "")))
    return {"n_images": len(frames), "xforms": xforms, "metadata": metadata, "paths": paths}


def snapshot_document(model: NerfModel) -> dict[str, Any]:
    """The MessagePack document instant-ngp's ``load_snapshot`` reads (network config + ``snapshot``)."""
    if model.grid.resolution != NGP_GRID_RESOLUTION:
        raise AssetError(f"instant-ngp needs a {NGP_GRID_RESOLUTION}^3 occupancy grid, this model has "
                         f"{model.grid.resolution}^3")
    if not math.isclose(model.grid.min_step, NGP_MIN_STEP, rel_tol=1e-6):
        raise AssetError(f"instant-ngp marches with steps of sqrt(3)/1024; this model uses {model.grid.min_step:.6g} "
                         "and would render differently there")
    scale, offset = _scale_offset(model)
    aabb_scale = round(model.aabb_scale)
    box = model.box_to_field(model.render_box) if model.render_box is not None else \
        OrientedBox.from_aabb(model.aabb_min, model.aabb_max)
    r_min, r_max, to_local = box_to_ngp(box)
    render_aabb = {"min": r_min.tolist(), "max": r_max.tolist()}
    params = model.field.flat_params().cpu().numpy().astype(np.float16)
    dataset = {**_frames_to_dataset(model), "render_aabb": render_aabb, "render_aabb_to_local": to_local.tolist(),
               "up": [0.0, 1.0, 0.0], "offset": offset.tolist(), "envmap_resolution": [0, 0], "scale": scale,
               "aabb_scale": aabb_scale, "from_mitsuba": False, "is_hdr": False, "wants_importance_sampling": True}
    snapshot = {
        "version": SNAPSHOT_VERSION, "mode": "Nerf", "n_params": int(params.size), "params_type": "__half",
        "params_binary": params.tobytes(), "density_grid_size": model.grid.resolution,
        "density_grid_binary": model.grid.density.cpu().numpy().astype(np.float16).tobytes(),
        "nerf": {"rgb": {"rays_per_batch": 4096, "measured_batch_size": 262144,
                         "measured_batch_size_before_compaction": 262144},
                 "aabb_scale": aabb_scale, "dataset": dataset},
        "training_step": int(model.metadata.get("training_step", 0)),
        "loss": float(model.metadata.get("loss", 0.0)),
        "aabb": {"min": np.asarray(model.aabb_min).tolist(), "max": np.asarray(model.aabb_max).tolist()},
        "bounding_radius": float(math.sqrt(3) * model.aabb_scale / 2),
        "render_aabb": render_aabb, "render_aabb_to_local": to_local.tolist(),
        "up_dir": [0.0, 1.0, 0.0], "sun_dir": [0.5773503, 0.5773503, 0.5773503], "exposure": 0.0,
        "background_color": [0.0, 0.0, 0.0, 1.0],
    }
    return {**to_ngp_network_config(model.field.config), "snapshot": snapshot}


def save_snapshot(model: NerfModel, path: str | Path, compress: bool | None = None) -> None:
    """Write ``path`` atomically; gzip framing for ``.ingp`` (or ``compress=True``), raw for ``.msgpack``."""
    p = Path(path)
    data = msgpack.packb(snapshot_document(model), use_bin_type=True)
    if compress if compress is not None else p.suffix.lower() == ".ingp":
        data = gzip.compress(data, compresslevel=6)
    atomic_write_bytes(p, data, backup=False)

