"""Scene bounds for DoD crops: an asset's declared bounds, or a default box around the stage."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vpstage.geometry import OrientedBox
from vpstage.stage import Stage
from vpstage.stage.model import SceneAsset

DEFAULT_SCENE_MARGIN_M = 100.0
"""The default scene bounds reach this far (stage metres) beyond the LED cabinets and the outer
viewpoint on every side: the virtual set usually extends well past the wall (the demo scene's sky
dome has a 90 m radius). It matches the frustum's default far distance (100 m), so the default box
never cuts content that the far plane keeps; declare ``bounds_min``/``bounds_max`` on an asset for
tighter DoD crops."""


def scene_bounds_of(asset: SceneAsset) -> OrientedBox | None:
    """The asset's ``bounds_min``/``bounds_max`` (asset frame) as a box, or None when not given."""
    if asset.bounds_min is None or asset.bounds_max is None:
        return None
    return OrientedBox.from_aabb(np.asarray(asset.bounds_min), np.asarray(asset.bounds_max))


def default_scene_bounds(stage: Stage, stage_to_scene: NDArray[np.float64] | None = None,
                         margin_m: float = DEFAULT_SCENE_MARGIN_M) -> OrientedBox:
    """Axis-aligned (stage frame) box around every cabinet and the outer viewpoint, grown by
    ``margin_m``, expressed in the scene frame of ``stage_to_scene`` (default: the stage frame)."""
    points = np.concatenate([stage.layout.cabinets.corners.reshape(-1, 3),
                             np.asarray([stage.project.outer_viewpoint], dtype=np.float64)])
    box = OrientedBox.from_aabb(points.min(axis=0) - margin_m, points.max(axis=0) + margin_m)
    return box if stage_to_scene is None else box.transformed(stage_to_scene)


def asset_scene_bounds(stage: Stage, asset: SceneAsset | None) -> OrientedBox:
    """The asset's declared bounds, else the default box in its frame (for the CLI and planner)."""
    declared = None if asset is None else scene_bounds_of(asset)
    if declared is not None:
        return declared
    matrix = None if asset is None else np.asarray(asset.placement.stage_to_scene(), dtype=np.float64)
    return default_scene_bounds(stage, matrix)
