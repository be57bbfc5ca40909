"""A minimal scene renderer for the frame-renderer tests: fills each inner launch rectangle with a
colour that encodes the number of inner views, black elsewhere. It only exists to exercise the
plug-in path."""

from __future__ import annotations

import torch

from render.splat.pair_checks import current as current_pair_checks
from vpstage.nodes.jobs import CanvasJob, FrameJob, SceneContent
from vpstage.stage import Stage


def flat_colour(views: int) -> tuple[float, float, float]:
    """RGB 0..1 of a launch rectangle covered by ``views`` inner views (BGRX (0, 200, 50 * views))."""
    return 50 * views / 255, 200 / 255, 0.0


class FlatSceneRenderer:
    def __init__(self, stage: Stage, device: str) -> None:
        self.device = device
        self.canvases = {c.name for c in stage.project.canvases}

    def render_canvas(self, job: CanvasJob, content: SceneContent, colour: torch.Tensor) -> None:
        colour.zero_()
        rgb = torch.tensor(flat_colour(len(content.inner)), dtype=colour.dtype, device=colour.device)
        for view in content.inner:
            for x0, y0, x1, y1 in view.launch_rects:
                colour[y0:y1, x0:x1] = rgb

    def close(self) -> None:
        pass


class OverflowingSceneRenderer(FlatSceneRenderer):
    """Its first canvas hands the frame a deferred pair check that reports an overflow, as the fast
    splat rasterizer does when a layer ran out of pair room (``render.splat.pair_checks``)."""

    def __init__(self, stage: Stage, device: str) -> None:
        super().__init__(stage, device)
        self.renders = 0
        self.begun: list[tuple[str, int]] = []

    def begin_frame(self, job: FrameJob) -> None:
        self.begun.append(("frame", job.frame))

    def begin_retry(self, job: FrameJob) -> None:
        self.begun.append(("retry", job.frame))

    def render_canvas(self, job: CanvasJob, content: SceneContent, colour: torch.Tensor) -> None:
        self.renders += 1
        checks = current_pair_checks()
        if self.renders == 1 and checks is not None:
            checks.add(lambda: True)
        super().render_canvas(job, content, colour)


def build(stage: Stage, device: str) -> FlatSceneRenderer:
    return FlatSceneRenderer(stage, device)


def overflowing(stage: Stage, device: str) -> OverflowingSceneRenderer:
    return OverflowingSceneRenderer(stage, device)


def broken(stage: Stage, device: str) -> FlatSceneRenderer:
    raise FileNotFoundError("scenes/garden.ply does not exist")
