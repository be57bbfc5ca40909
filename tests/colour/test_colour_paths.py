"""Save-as elsewhere keeps the colour section's files (OCIO config, calibration cubes)."""

from __future__ import annotations

from pathlib import Path

from vpstage.colour.settings import CanvasColour, ColourSettings, CubeCalibration, MatrixCalibration
from vpstage.stage.model import Project
from vpstage.stage.rebase import rebase_paths

WALL = {"kind": "flat", "name": "w", "panel": "unilumin-upad3-2.6", "origin": [0, 0, 0], "columns": 1, "rows": 1}


def _project(config: str) -> Project:
    colour = ColourSettings(config=config, working_space="ACEScg", canvases={
        "a": CanvasColour(calibration=CubeCalibration(cube="cal/a.cube")),
        "b": CanvasColour(calibration=MatrixCalibration())})
    return Project.model_validate({"name": "p", "sections": [WALL], "colour": colour.model_dump()})


def test_relative_config_and_cubes_are_rebased(tmp_path: Path) -> None:
    old, new = tmp_path / "show", tmp_path / "backup" / "v2"
    change = rebase_paths(_project("ocio/wall.ocio"), old, new)
    assert change is not None
    colour = change.after["colour"]
    assert colour.config == "../../show/ocio/wall.ocio"
    assert colour.canvases["a"].calibration == CubeCalibration(cube="../../show/cal/a.cube")
    assert isinstance(colour.canvases["b"].calibration, MatrixCalibration)


def test_builtin_configs_are_not_paths(tmp_path: Path) -> None:
    change = rebase_paths(_project("ocio://studio-config-latest"), tmp_path / "a", tmp_path / "b")
    assert change is not None and change.after["colour"].config == "ocio://studio-config-latest"
