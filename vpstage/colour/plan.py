"""A project's colour section resolved against its OCIO config: per canvas, what it sends.

``colour_plan`` is what the render side bakes from (after validation passed); the checks call the
same per-canvas step, so what validates is what renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vpstage.colour.ocio_config import OcioConfig, load_config
from vpstage.colour.outputs import OutputTarget, resolve_output
from vpstage.colour.settings import CanvasColour, ColourSettings
from vpstage.colour.transforms import Calibration, CanvasTransform, cube_path


@dataclass(frozen=True, kw_only=True)
class CanvasPlan:
    """One canvas's output: OCIO target, code-value depth, calibration."""

    canvas: str
    target: OutputTarget
    encoding: str
    bits: int
    calibration: Calibration | None = None
    cube_path: Path | None = None

    def transform(self, source: str) -> CanvasTransform:
        """The chain from scene colour space ``source`` to this canvas's code values."""
        return CanvasTransform(source, self.target, self.calibration, self.cube_path)


@dataclass(frozen=True)
class ColourPlan:
    """The resolved colour section: the config, the sources per asset, the canvases' plans."""

    settings: ColourSettings
    config: OcioConfig
    base_dir: Path
    canvases: dict[str, CanvasPlan] = field(default_factory=dict)

    def source_for(self, asset: str | None) -> str:
        return self.settings.ocio[1] if asset is None else self.settings.asset_space(asset)


def plan_canvas(config: OcioConfig, name: str, canvas: CanvasColour, base_dir: Path) -> CanvasPlan:
    """Resolve one canvas (raises OutputError naming the field at fault)."""
    target = resolve_output(config, canvas)
    return CanvasPlan(canvas=name, target=target, encoding=canvas.encoding, bits=canvas.bits,
                      calibration=canvas.calibration, cube_path=cube_path(canvas.calibration, base_dir))


def colour_plan(settings: ColourSettings, base_dir: Path) -> ColourPlan:
    """The plan of a validated colour section with an OCIO config (ColourConfigError / OutputError
    otherwise; ValueError for a section of regions only)."""
    config = load_config(settings.ocio[0], base_dir)
    canvases = {name: plan_canvas(config, name, c, base_dir) for name, c in settings.canvases.items()}
    return ColourPlan(settings, config, base_dir, canvases)
