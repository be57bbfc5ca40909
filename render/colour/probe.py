"""One colour through one canvas: what ``main.py colour probe`` prints.

It goes through the same baked shaper + LUT and the same torch code (on the CPU) as a render
node's frames, so it shows what the wall gets, LUT error included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from render.colour.apply import apply_lut
from render.colour.bake import bake_canvas_lut
from render.colour.canvas_luts import device_lut
from vpstage.colour.plan import ColourPlan, colour_plan
from vpstage.stage.model import Project


class ProbeError(ValueError):
    """A probe that cannot run (no colour section, unknown canvas or asset)."""


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    code_values: list[int]
    values: list[float]
    """Code values as 0..1 before quantisation."""
    bits: int
    config: str
    source: str
    display: str | None
    view: str | None
    colour_space: str | None

    def as_json(self) -> dict[str, Any]:
        ocio: dict[str, Any] = {"config": self.config, "source": self.source, "display": self.display,
                                "view": self.view}
        if self.colour_space is not None:
            ocio["colour_space"] = self.colour_space
        return {"code_values": self.code_values, "bits": self.bits, "values": self.values, "ocio": ocio}


def code_values(values: NDArray[np.float32], bits: int) -> NDArray[np.int64]:
    """0..1 -> integer code values ``round(v * (2**bits - 1))``."""
    top = (1 << bits) - 1
    return np.rint(np.clip(values.astype(np.float64), 0.0, 1.0) * top).astype(np.int64)


def _checked_names(project: Project, canvas: str, asset: str | None) -> None:
    if project.colour is None:
        raise ProbeError("the stage has no colour section")
    if canvas not in project.colour.canvases:
        known = ", ".join(project.colour.canvases) or "none"
        raise ProbeError(f"canvas {canvas!r} has no colour settings (colour-managed canvases: {known})")
    if asset is not None and asset not in {a.name for a in project.scene}:
        raise ProbeError(f"unknown scene asset {asset!r}")


def probe_plan(plan: ColourPlan, canvas: str, rgb: tuple[float, float, float], source: str) -> ProbeResult:
    """``rgb`` in ``source`` through ``canvas``'s baked LUT, on the CPU."""
    canvas_plan = plan.canvases[canvas]
    baked = bake_canvas_lut(plan.config, canvas_plan.transform(source), plan.settings.lut_size)
    pixel = torch.tensor([[rgb]], dtype=torch.float32)
    out = apply_lut(pixel, device_lut(baked, "cpu"), torch.empty_like(pixel)).reshape(3).numpy()
    target = canvas_plan.target
    return ProbeResult(code_values=[int(v) for v in code_values(out, canvas_plan.bits)], values=[float(v) for v in out],
                       bits=canvas_plan.bits, config=plan.settings.ocio[0], source=source, display=target.display,
                       view=target.view, colour_space=target.colour_space)


def probe_colour(project: Project, base_dir: Path, canvas: str, rgb: tuple[float, float, float],
                 asset: str | None = None) -> ProbeResult:
    """What ``canvas`` sends for scene colour ``rgb`` in ``asset``'s working space (default space
    without an asset). Raises ProbeError, or the colour errors of an invalid section."""
    _checked_names(project, canvas, asset)
    assert project.colour is not None
    plan = colour_plan(project.colour, base_dir)
    return probe_plan(plan, canvas, rgb, plan.source_for(asset))
