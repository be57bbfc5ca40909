"""A render node's colour transforms: per colour-managed canvas, its baked OCIO LUT on the device.

Built once when the node loads its stage (``render.colour`` bakes each chain to a shaper + 3D
LUT; unchanged chains come from the bake cache). Each frame, a scene canvas's colour buffer (scene
values in the project's working space) is replaced in place by the canvas's code values (0..1),
ready for packing; canvases without colour settings keep the rendered values, as before.

Assets declared in another colour space than the working space reach the canvas already converted
to the working space (``render.scene.asset_colour``), so one LUT per canvas serves every asset.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from render.colour.apply import apply_lut
from render.colour.canvas_luts import bake_canvas, device_lut
from render.colour.device_lut import DeviceLut
from render.node.canvas_errors import CanvasError
from vpstage.colour.plan import colour_plan
from vpstage.nodes.failures import failure_text
from vpstage.stage.model import Project

log = logging.getLogger(__name__)


class CanvasColour:
    """Canvas -> its LUT on ``device`` (see the module docstring)."""

    def __init__(self, project: Project, base_dir: str | Path, device: torch.device) -> None:
        self.luts: dict[str, DeviceLut] = {}
        self.error: str | None = None
        self.managed: frozenset[str] = frozenset(project.colour.canvases) if project.colour else frozenset()
        if project.colour is None or not project.colour.canvases:
            return
        try:
            plan = colour_plan(project.colour, Path(base_dir))
            source = plan.settings.ocio[1]
            for canvas in plan.canvases:
                self.luts[canvas] = device_lut(bake_canvas(plan, canvas, [source]).for_source(source), device)
        except Exception as exc:  # the node still runs: colour-managed canvases say why they are dark
            self.error = f"colour transform failed to load: {failure_text(exc)}"
            log.error("%s", self.error)

    def apply(self, canvas: str, colour: torch.Tensor) -> None:
        """Turn ``canvas``'s scene colour into its code values, in place (nothing for an unmanaged
        canvas); CanvasError when the canvas is managed but its transform could not be built."""
        lut = self.luts.get(canvas)
        if lut is not None:
            apply_lut(colour, lut, colour)
        elif canvas in self.managed:
            raise CanvasError(self.error or f"no colour transform for canvas {canvas}")
