"""Bake one canvas chain (source -> output -> calibration, an OCIO processor) into shaper + 3D LUT.

The LUT's grid points are the shaper's grid values (``render.colour.shaper``); each is sent
through OCIO's own CPU processor for the whole chain, so the calibration is in the same table and
a frame pays one LUT. Entries are code values clamped to 0..1 (what a canvas can send).

Baked LUTs are cached in this process by a hash of (config, source, target, calibration, shaper,
size): the config's OCIO cache id, the names, the calibration's values and its ``.cube`` file's
bytes. A changed ``.cube`` file is a new key; OCIO's own file cache is cleared before it is read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from render.colour.shaper import Shaper, ShaperKind, make_shaper
from vpstage.colour.ocio_config import OcioConfig, source_is_scene_linear
from vpstage.colour.settings import DEFAULT_LUT_SIZE
from vpstage.colour.transforms import CanvasTransform, canvas_processor

BAKE_VERSION = 1
"""Part of every cache key: bump when the baking itself changes."""
MAX_CACHED = 64


@dataclass(frozen=True, kw_only=True)
class BakedLut:
    """A shaper and its 3D table: ``table`` (N³, 3) float32, red fastest, code values 0..1."""

    shaper: Shaper
    table: NDArray[np.float32]
    key: str
    source: str
    target: str


def grid_points(shaper: Shaper) -> NDArray[np.float32]:
    """Every grid point's source value, (N³, 3) float32, red varying fastest."""
    values = shaper.grid_values().astype(np.float32)
    b, g, r = np.meshgrid(values, values, values, indexing="ij")
    return np.ascontiguousarray(np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1))


def shaper_kind_for(config: OcioConfig, source: str) -> ShaperKind:
    """``log2`` for scene-linear sources (unbounded light), ``linear`` for encoded ones (0..1)."""
    return "log2" if source_is_scene_linear(config, source) else "linear"


def _file_digest(path: Path | None) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else ""


def bake_key(config: OcioConfig, spec: CanvasTransform, shaper: Shaper) -> str:
    """Hash of everything that decides the table."""
    calibration = spec.calibration.model_dump(mode="json") if spec.calibration is not None else None
    parts: dict[str, Any] = {
        "version": BAKE_VERSION, "config": str(config.getCacheID()), "source": spec.source,
        "target": [spec.target.display, spec.target.view, spec.target.colour_space],
        "calibration": calibration, "cube": _file_digest(spec.cube_path), "shaper": repr(shaper),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _processor(config: OcioConfig, spec: CanvasTransform) -> Any:
    if spec.cube_path is not None:  # OCIO caches files by path: make it read the file as it is now
        import PyOpenColorIO as ocio

        ocio.ClearAllCaches()
        config.clearProcessorCache()
    return canvas_processor(config, spec).getDefaultCPUProcessor()


def _bake_table(config: OcioConfig, spec: CanvasTransform, shaper: Shaper) -> NDArray[np.float32]:
    table = grid_points(shaper)
    _processor(config, spec).applyRGB(table)
    np.clip(table, 0.0, 1.0, out=table)
    return table


_cache: dict[str, BakedLut] = {}
_cache_lock = threading.Lock()


def bake_canvas_lut(config: OcioConfig, spec: CanvasTransform, size: int = DEFAULT_LUT_SIZE,
                    shaper_kind: ShaperKind | None = None) -> BakedLut:
    """The shaper + ``size``³ LUT of ``spec`` (cached); ``shaper_kind`` None picks by the source."""
    shaper = make_shaper(shaper_kind or shaper_kind_for(config, spec.source), size)
    key = bake_key(config, spec, shaper)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    baked = BakedLut(shaper=shaper, table=_bake_table(config, spec, shaper), key=key, source=spec.source,
                     target=spec.target.describe())
    with _cache_lock:
        if len(_cache) >= MAX_CACHED:
            _cache.pop(next(iter(_cache)))
        _cache[key] = baked
    return baked


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
