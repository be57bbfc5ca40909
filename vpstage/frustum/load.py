"""Per-node, per-frame render load estimates for the scheduler.

The unit is "reference pixels": one pixel of an asset with ``cost_factor`` 1. A node's load is,
over the enabled scene assets, ``cost_factor * (inner_pixels + outer_weight * outer_pixels)``.
Outer pixels are rendered from the fixed viewpoint and can be cached while the scene is still;
pass ``outer_weight`` < 1 (0 when the outer render is cached) to say how much of their cost
recurs every frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vpstage.frustum.node import NodeFrustum
from vpstage.stage.model import SceneAsset


@dataclass(frozen=True)
class NodeLoad:
    node: str
    inner_pixels: int
    outer_pixels: int
    cost: float
    """Estimated render cost this frame, in reference pixels."""


def asset_cost_factor(assets: Iterable[SceneAsset]) -> float:
    """Sum of ``cost_factor`` over the enabled assets (every LED pixel renders each of them)."""
    return float(sum(a.cost_factor for a in assets if a.enabled))


def estimate_load(frustum: NodeFrustum, assets: Iterable[SceneAsset], outer_weight: float = 1.0) -> NodeLoad:
    """The load of one node this frame (see the module docstring)."""
    if outer_weight < 0:
        raise ValueError(f"outer_weight must be >= 0, got {outer_weight}")
    inner, outer = frustum.inner_pixels, frustum.outer_pixels
    cost = asset_cost_factor(assets) * (inner + outer_weight * outer)
    return NodeLoad(frustum.node, inner, outer, cost)


def estimate_loads(frusta: Mapping[str, NodeFrustum], assets: Iterable[SceneAsset],
                   outer_weight: float = 1.0) -> dict[str, NodeLoad]:
    """``estimate_load`` for every node in ``frusta`` (e.g. from ``StageFrustum.nodes``)."""
    chosen = list(assets)
    return {name: estimate_load(f, chosen, outer_weight) for name, f in frusta.items()}
