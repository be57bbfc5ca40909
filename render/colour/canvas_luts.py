"""A project's baked LUTs: for each canvas with colour settings, one per source space in use.

``bake_project_luts`` is what a render node calls once its stage is loaded (and again when the
colour section changes: unchanged chains come from the bake cache); ``device_lut`` puts one on
the node's device for :func:`render.colour.apply.apply_lut`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from render.colour.bake import BakedLut, bake_canvas_lut
from render.colour.device_lut import DeviceLut
from vpstage.colour.plan import CanvasPlan, ColourPlan


@dataclass(frozen=True)
class CanvasLuts:
    """One canvas's output and its LUT per source colour space."""

    plan: CanvasPlan
    luts: dict[str, BakedLut] = field(default_factory=dict)

    def for_source(self, source: str) -> BakedLut:
        return self.luts[source]


def bake_canvas(plan: ColourPlan, canvas: str, sources: list[str]) -> CanvasLuts:
    """Bake ``canvas``'s chain from each of ``sources`` (KeyError: the canvas has no colour settings)."""
    canvas_plan = plan.canvases[canvas]
    size = plan.settings.lut_size
    luts = {source: bake_canvas_lut(plan.config, canvas_plan.transform(source), size) for source in sources}
    return CanvasLuts(canvas_plan, luts)


def bake_project_luts(plan: ColourPlan, assets: list[str]) -> dict[str, CanvasLuts]:
    """Every colour-managed canvas, from the working space and each of ``assets``' spaces."""
    sources = plan.settings.source_spaces(assets)
    return {canvas: bake_canvas(plan, canvas, sources) for canvas in plan.canvases}


def device_lut(baked: BakedLut, device: torch.device | str) -> DeviceLut:
    """``baked`` on ``device`` (one copy of its table)."""
    return DeviceLut(baked.shaper, torch.from_numpy(baked.table).to(device))
