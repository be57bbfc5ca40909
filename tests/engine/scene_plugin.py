"""A minimal scene renderer for the worker tests: fills each inner launch rectangle with a colour
that encodes the number of inner views. It only exists to exercise the plug-in path."""

from __future__ import annotations

import numpy as np

from vpstage.engine.jobs import CanvasJob, SceneContent
from vpstage.stage import Stage


class FlatSceneRenderer:
    def __init__(self, stage: Stage, device: str) -> None:
        self.device = device
        self.canvases = {c.name for c in stage.project.canvases}

    def render_canvas(self, job: CanvasJob, content: SceneContent, out: np.ndarray) -> None:
        for view in content.inner:
            for x0, y0, x1, y1 in view.launch_rects:
                out[y0:y1, x0:x1, :3] = (0, 200, 50 * len(content.inner))

    def close(self) -> None:
        pass


def build(stage: Stage, device: str) -> FlatSceneRenderer:
    return FlatSceneRenderer(stage, device)


def broken(stage: Stage, device: str) -> FlatSceneRenderer:
    raise FileNotFoundError("scenes/garden.ply does not exist")
