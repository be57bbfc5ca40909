"""The scene as the planner sends it: asset placements, the outer view and its cache key, and the
colour regions.

A :class:`SceneState` is an immutable snapshot built whenever the operator changes something
(a placement, an asset switched on or off, the outer viewpoint, the quality, a colour region); the planner hands
the same objects to every job until the next change, so per-frame planning does not rebuild
them. The outer view's ``cache_key`` is a hash of everything the outer picture depends on, so
workers re-render their outer pixels exactly when it changes (colour regions apply after the
render, so they are not part of it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vpstage.colour.grading import RegionGrade
from vpstage.nodes.jobs import AssetPlacement, OuterView, RenderQuality
from vpstage.stage.model import Placement, SceneAsset

Vec3 = tuple[float, float, float]


def outer_cache_key(assets: Sequence[SceneAsset], placements: Sequence[AssetPlacement], viewpoint: Vec3,
                    quality: RenderQuality) -> str:
    """A short hash of the outer picture's inputs: asset names and paths, placement matrices,
    enabled flags, the viewpoint, the outer resolution and the background."""
    digest = hashlib.sha256()
    for asset, placed in zip(assets, placements, strict=True):
        digest.update(f"{asset.name}\0{asset.path}\0{placed.enabled}\0".encode())
        digest.update(np.ascontiguousarray(placed.stage_to_scene, dtype=np.float64).tobytes())
    digest.update(np.asarray(viewpoint, dtype=np.float64).tobytes())
    digest.update(repr((quality.outer_scale, quality.background)).encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class SceneState:
    """Placements, outer view and quality for every job until the next change."""

    assets: tuple[SceneAsset, ...]
    placements: tuple[AssetPlacement, ...]
    placement_models: tuple[Placement, ...]
    """The same placements as the project's ``Placement`` models (for take records)."""
    outer: OuterView
    quality: RenderQuality
    regions: tuple[RegionGrade, ...] = ()
    """The enabled colour regions, in the order they apply."""

    @staticmethod
    def build(assets: Sequence[SceneAsset], viewpoint: Vec3, quality: RenderQuality,
              placements: Mapping[str, Placement] | None = None,
              enabled: Mapping[str, bool] | None = None,
              regions: tuple[RegionGrade, ...] = ()) -> SceneState:
        """From the project's assets, with optional per-asset placement / enabled overrides."""
        placed, models = [], []
        for asset in assets:
            placement = (placements or {}).get(asset.name, asset.placement)
            models.append(placement)
            on = (enabled or {}).get(asset.name, asset.enabled)
            matrix = np.asarray(placement.stage_to_scene(), dtype=np.float64)
            matrix.flags.writeable = False
            placed.append(AssetPlacement(asset.name, matrix, on))
        key = outer_cache_key(assets, placed, viewpoint, quality)
        point = (float(viewpoint[0]), float(viewpoint[1]), float(viewpoint[2]))
        return SceneState(assets=tuple(assets), placements=tuple(placed), placement_models=tuple(models),
                          outer=OuterView(point, key), quality=quality, regions=regions)
