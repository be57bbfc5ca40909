"""The OCIO transform one canvas applies to one source colour space, calibration included.

``source -> output (display/view or colour space) -> calibration``, as one OCIO GroupTransform,
so OCIO's own CPU processor is the reference every baked LUT is measured against. The
calibration works in output code values (0..1) and is built from OCIO transforms too:

* matrix / gains / gamma: ``MatrixTransform(diag(gains) @ matrix)``, a clamp to 0..1
  (``RangeTransform``), ``ExponentTransform(gamma)`` (v ** gamma per channel);
* ``cube``: a ``FileTransform`` of the ``.cube`` file (tetrahedral for 3D, linear for 1D).
  Values outside the file's domain are clamped to it, as OCIO does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpstage.colour.ocio_config import OcioConfig
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.settings import CubeCalibration, MatrixCalibration

Calibration = MatrixCalibration | CubeCalibration


@dataclass(frozen=True)
class CanvasTransform:
    """Everything that decides one canvas's colours for one source space."""

    source: str
    target: OutputTarget
    calibration: Calibration | None = None
    cube_path: Path | None = None
    """The calibration ``.cube`` file, resolved (None without one)."""


def cube_path(calibration: Calibration | None, base_dir: Path) -> Path | None:
    if isinstance(calibration, CubeCalibration):
        return (base_dir / calibration.cube).resolve()
    return None


def _matrix_transforms(calibration: MatrixCalibration) -> list[Any]:
    import PyOpenColorIO as ocio

    m, g = calibration.matrix, calibration.gains
    m44 = [g[0] * m[0][0], g[0] * m[0][1], g[0] * m[0][2], 0.0,
           g[1] * m[1][0], g[1] * m[1][1], g[1] * m[1][2], 0.0,
           g[2] * m[2][0], g[2] * m[2][1], g[2] * m[2][2], 0.0,
           0.0, 0.0, 0.0, 1.0]
    steps: list[Any] = [ocio.MatrixTransform(m44), ocio.RangeTransform(0.0, 1.0, 0.0, 1.0)]
    if tuple(calibration.gamma) != (1.0, 1.0, 1.0):
        steps.append(ocio.ExponentTransform([*calibration.gamma, 1.0]))
    return steps


def _cube_transform(path: Path) -> Any:
    import PyOpenColorIO as ocio

    # INTERP_BEST: tetrahedral for a 3D table, linear for a 1D one
    return ocio.FileTransform(str(path), interpolation=ocio.INTERP_BEST, direction=ocio.TRANSFORM_DIR_FORWARD)


def calibration_transforms(spec: CanvasTransform) -> list[Any]:
    """The OCIO transforms of the calibration (none without one)."""
    if isinstance(spec.calibration, MatrixCalibration):
        return _matrix_transforms(spec.calibration)
    if spec.cube_path is not None:
        return [_cube_transform(spec.cube_path)]
    return []


def output_transform(source: str, target: OutputTarget) -> Any:
    import PyOpenColorIO as ocio

    if target.colour_space is not None:
        return ocio.ColorSpaceTransform(src=source, dst=target.colour_space)
    return ocio.DisplayViewTransform(src=source, display=target.display, view=target.view)


def canvas_group(spec: CanvasTransform) -> Any:
    """The whole chain as one ``GroupTransform``."""
    import PyOpenColorIO as ocio

    group = ocio.GroupTransform()
    group.appendTransform(output_transform(spec.source, spec.target))
    for step in calibration_transforms(spec):
        group.appendTransform(step)
    return group


def canvas_processor(config: OcioConfig, spec: CanvasTransform) -> Any:
    """OCIO's processor for the chain (raises OCIO's Exception when OCIO refuses it)."""
    return config.getProcessor(canvas_group(spec))
