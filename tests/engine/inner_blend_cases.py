"""Inner-blend cases shared by the interpreter checks and the GPU test: real pixel runs (a subset of
the scaled demo stage's wall-centre for a tracked camera) and asset windows with random colour,
coverage and depth, laid out as the renderers lay them out (an (h, w, 5) image's channel views, or
separate tensors), overlapping in depth."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from render.assets import RenderOutput
from render.scene.inner_pixels import InnerPixels
from render.scene.window_source import WindowSource
from vpstage.frustum.node import StageFrustum
from vpstage.frustum.pixel_runs import PixelRuns, pixel_runs
from vpstage.stage import Stage
from vpstage.stage.scaling import scaled_stage

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"
RUNS = 48
"""Pixel runs per case (the interpreter runs one Python program per run)."""


@dataclass(frozen=True)
class Case:
    name: str
    sources: int
    soft_edge: float
    interleaved: bool


CASES = [Case("no assets", 0, 0.05, True), Case("one splat", 1, 0.05, True), Case("two, hard edge", 2, 0.0, False),
         Case("two overlapping", 2, 0.05, True), Case("four", 4, 0.1, False)]


def _runs(tmp: Path) -> tuple[PixelRuns, object]:
    from tests.engine.test_scene_renderer import plan

    stage = scaled_stage(Stage.open(DEMO), 8, tmp)
    _, jobs = plan(stage, _quality())
    view = jobs["wall-centre"].content.inner[0]
    canvas = StageFrustum(stage).canvas("wall-centre", view.frustum())
    runs = pixel_runs(canvas)
    pick = np.linspace(0, len(runs.length) - 1, RUNS).astype(int)
    subset = PixelRuns(base=runs.base[pick], x0=runs.x0[pick], length=runs.length[pick], a=runs.a[pick],
                       b=runs.b[pick])
    return subset, canvas.frustum


def _quality():  # type: ignore[no-untyped-def]
    from vpstage.nodes.jobs import RenderQuality

    return RenderQuality()


def _window(generator: torch.Generator, k: int, interleaved: bool, device: torch.device) -> WindowSource:
    size = (160 + 20 * k, 90 + 10 * k)
    rect = (10 + k, 5, 10 + k + 120, 5 + 70)
    h, w = rect[3] - rect[1], rect[2] - rect[0]
    image = torch.rand((h, w, 5), generator=generator)
    image[..., 3] = torch.where(image[..., 3] < 0.3, torch.zeros(()), image[..., 3])  # holes: no coverage
    image[..., :3] *= image[..., 3:4]  # premultiplied, as rendered over black
    image[..., 4] = 1.0 + 3.0 * image[..., 4]
    image = image.to(device)
    if interleaved:
        out = RenderOutput(image[..., :3], image[..., 3], image[..., 4])
    else:
        out = RenderOutput(image[..., :3].contiguous(), image[..., 3].contiguous(), image[..., 4].contiguous())
    return WindowSource(out=out, rect=rect, size=size, scale=0.5 + k)


def blend_case(case: Case, device: torch.device, tmp: Path | None = None
               ) -> tuple[torch.Tensor, InnerPixels, list[WindowSource], torch.Tensor]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        runs, frustum = _runs(tmp or Path(folder))
    frustum = dataclasses.replace(frustum, soft_edge=case.soft_edge)  # type: ignore[type-var]
    pixels = InnerPixels(runs, frustum, device)  # type: ignore[arg-type]
    generator = torch.Generator().manual_seed(7 + case.sources)
    sources = [_window(generator, k, case.interleaved, device) for k in range(case.sources)]
    colour = torch.rand((240 * 135, 3), generator=generator).to(device)
    background = torch.tensor([0.1, 0.2, 0.3], device=device)
    return colour, pixels, sources, background


def assert_fused_matches_reference(case: Case, device: torch.device) -> None:
    """The fused kernel over ``case`` on ``device`` equals the torch reference (2e-5)."""
    from render.scene.inner_blend import blend_reference, fused_available
    from render.scene.triton_inner_blend import blend_inner_triton

    colour, pixels, sources, background = blend_case(case, device)
    assert fused_available(colour.device, sources)
    expected = colour.clone()
    blend_reference(expected, pixels, sources, background)
    blend_inner_triton(colour, pixels, sources, background)
    torch.testing.assert_close(colour, expected, rtol=0, atol=2e-5)
