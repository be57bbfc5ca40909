"""The project's scene assets as one render worker loads them: once, on its device.

Paths are relative to the project's folder (absolute paths and ``procedural:demo`` as they are).
An asset that cannot be loaded keeps its reason; canvases that would show it get the error card
with that reason (``CanvasError``) instead of a scene with a hole in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.assets import AssetError, SceneAsset, load_asset
from vpstage.frustum.scene import default_scene_bounds, scene_bounds_of
from vpstage.geometry import OrientedBox
from vpstage.nodes.failures import failure_text
from vpstage.stage import Stage
from vpstage.stage.model import SceneAsset as SceneAssetModel


@dataclass
class LoadedAsset:
    """One project asset on a worker: the asset, or why it is not there."""

    model: SceneAssetModel
    asset: SceneAsset | None
    error: str | None
    content_hash: str = ""

    def describe(self) -> dict[str, object]:
        return {"path": self.model.path, "kind": None if self.asset is None else self.asset.kind,
                "content_hash": self.content_hash, "error": self.error}


def asset_path(model: SceneAssetModel, base_dir: Path) -> str:
    if model.path.startswith("procedural:"):
        return model.path
    path = Path(model.path)
    return str(path if path.is_absolute() else base_dir / path)


def load_scene(stage: Stage, device: str) -> dict[str, LoadedAsset]:
    """Every asset of the project (enabled or not: the operator may switch one on live)."""
    out = {}
    for model in stage.project.scene:
        try:
            asset = load_asset(asset_path(model, stage.layout.base_dir), device)
            out[model.name] = LoadedAsset(model, asset, None, asset.content_hash())
        except AssetError as exc:
            out[model.name] = LoadedAsset(model, None, f"scene asset {model.name}: {exc}")
        except Exception as exc:  # a corrupt file can fail anywhere in a loader
            out[model.name] = LoadedAsset(model, None, f"scene asset {model.name} ({model.path}): "
                                                       f"{failure_text(exc)}")
    return out


class SceneBounds:
    """DoD scene bounds per asset and placement: the asset's declared bounds, else the default box
    around the stage (``vpstage.frustum.scene``) in the asset's frame, cached per placement."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self._cache: dict[str, tuple[bytes, OrientedBox]] = {}

    def of(self, model: SceneAssetModel, stage_to_scene: np.ndarray) -> OrientedBox:
        declared = scene_bounds_of(model)
        if declared is not None:
            return declared
        key = np.ascontiguousarray(stage_to_scene, dtype=np.float64).tobytes()
        cached = self._cache.get(model.name)
        if cached is None or cached[0] != key:  # placements change rarely: keep the latest per asset
            cached = (key, default_scene_bounds(self.stage, stage_to_scene))
            self._cache[model.name] = cached
        return cached[1]
