"""Camera frustum on the LED wall: inner/outer pixels, rays, per-node DoD crops, off-axis projection.

Per frame the planner calls :func:`compute_node_frustum` (or ``StageFrustum.node``) for every node;
see ``docs/frustum.md`` for the concepts, conventions and costs.
"""

from vpstage.frustum.canvas import CanvasFrustum
from vpstage.frustum.dod import DodCrop, ImageBounds
from vpstage.frustum.footprint import Footprint, wall_footprint
from vpstage.frustum.frustum import CameraFrustum, FrustumSettings
from vpstage.frustum.geometry import CanvasGeometry, Rect
from vpstage.frustum.kooima import (
    GL_TO_STAGE,
    STAGE_TO_GL,
    InnerPinhole,
    ScreenProjection,
    inner_pinhole,
    kooima_projection_view,
    screen_projections,
)
from vpstage.frustum.load import NodeLoad, estimate_load, estimate_loads
from vpstage.frustum.node import (
    NodeFrustum,
    StageFrustum,
    compute_node_frustum,
    frustum_context,
    full_frustum_crop,
)
from vpstage.frustum.rays import CanvasRays, placement_matrix
from vpstage.frustum.scene import default_scene_bounds, scene_bounds_of

__all__ = [
    "GL_TO_STAGE",
    "STAGE_TO_GL",
    "CameraFrustum",
    "CanvasFrustum",
    "CanvasGeometry",
    "CanvasRays",
    "DodCrop",
    "Footprint",
    "FrustumSettings",
    "ImageBounds",
    "InnerPinhole",
    "NodeFrustum",
    "NodeLoad",
    "Rect",
    "ScreenProjection",
    "StageFrustum",
    "compute_node_frustum",
    "default_scene_bounds",
    "estimate_load",
    "estimate_loads",
    "frustum_context",
    "full_frustum_crop",
    "inner_pinhole",
    "kooima_projection_view",
    "placement_matrix",
    "scene_bounds_of",
    "screen_projections",
    "wall_footprint",
]
