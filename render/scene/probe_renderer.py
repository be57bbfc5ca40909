"""The delay probe's picture, rendered by the render nodes: each canvas black, each tracked camera's
exact inner pixels white (scaled by the soft-edge weight). Nothing else: the picture shows only
where the engine placed the inner frustum, so a watcher on the outputs sees when a camera move
reached the wall (``main.py measure-delay``, ``live.delay_probe``).
"""

from __future__ import annotations

import torch

from render.node.canvas_errors import CanvasError
from render.scene.inner_pixels import inner_pixels
from vpstage.frustum.node import StageFrustum
from vpstage.nodes.jobs import CanvasJob, SceneContent
from vpstage.stage import Stage

PROBE_RENDERER = "render.scene.probe_renderer:build_probe_renderer"
"""What a probe run's nodes load as their scene engine (``NodeSpec.scene_renderer``)."""
INNER_LEVEL, OUTER_LEVEL = 1.0, 0.0


class ProbeRenderer:
    """A scene engine for render nodes (``NodeSpec.scene_renderer = PROBE_RENDERER``): each canvas
    black, each camera's exact inner pixels white (scaled by the soft-edge weight). Nothing else:
    the picture shows only where the engine placed the inner frustum."""

    def __init__(self, stage: Stage, device: str) -> None:
        self.device = torch.device(device)
        self.frusta = StageFrustum(stage)

    def render_canvas(self, job: CanvasJob, content: SceneContent, colour: torch.Tensor) -> None:
        colour.fill_(OUTER_LEVEL)
        flat = colour.view(-1, 3)
        for view in content.inner:
            if view.state is None:
                raise CanvasError(f"inner view of camera {view.camera} carries no camera state")
            pixels = inner_pixels(self.frusta.canvas(job.canvas, view.frustum()), self.device)
            if len(pixels):
                level = OUTER_LEVEL + (INNER_LEVEL - OUTER_LEVEL) * pixels.weight[:, None]
                flat[pixels.index] = torch.maximum(flat[pixels.index], level.expand(-1, 3))

    def describe(self) -> dict[str, object]:
        return {"device": str(self.device), "assets": {}, "probe": "inner frustum white on black"}

    def close(self) -> None:
        pass


def build_probe_renderer(stage: Stage, device: str) -> ProbeRenderer:
    return ProbeRenderer(stage, device)
