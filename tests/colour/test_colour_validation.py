"""Colour problems are located like every other: file, line, field, and the valid choices.

The fixtures live with the other invalid stages (tests/core/fixtures/invalid/colour_*.yaml, each
also checked by tests/core/test_validation.py); these tests look closer at a few of them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.colour.conftest import ACES_CONFIG
from vpstage.colour.checks import colour_problems
from vpstage.colour.ocio_config import MAX_CHOICES, choices
from vpstage.colour.settings import CanvasColour, ColourSettings, CubeCalibration
from vpstage.config import ConfigError, Problem
from vpstage.stage import Stage
from vpstage.stage.validation import check_colour

FIXTURES = Path(__file__).resolve().parents[1] / "core" / "fixtures" / "invalid"
STAGES = Path(__file__).resolve().parents[2] / "configs" / "stages"


def _problems(name: str) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        Stage.open(FIXTURES / name)
    return info.value.problems


def test_missing_config_file_is_located_at_the_config_field() -> None:
    [problem] = _problems("colour_missing_config.yaml")
    assert (problem.file, problem.line) == (str(FIXTURES / "colour_missing_config.yaml"), 14)
    assert problem.path == ("colour", "config")
    assert str((FIXTURES / "configs" / "no_such_config.ocio").resolve()) in problem.message


def test_unknown_space_lists_the_closest_names_first() -> None:
    [problem] = _problems("colour_unknown_space.yaml")
    assert problem.line == 15 and problem.path == ("colour", "working_space")
    listed = problem.message.split("colour spaces: ", 1)[1]
    assert listed.startswith("'ACEScg'") and listed.count("'") == 2 * MAX_CHOICES and "more)" in listed


def test_malformed_cube_is_reported_at_its_own_line() -> None:
    [problem] = _problems("colour_malformed_cube.yaml")
    assert problem.file == str((FIXTURES / "colour_malformed.cube").resolve()) and problem.line == 6
    assert problem.path == ("colour", "canvases", "main", "calibration", "cube")
    assert "a data line holds 3 numbers (r g b), got 2" in problem.message


def test_every_colour_fixture_fails_with_colour_problems_only() -> None:
    for fixture in sorted(FIXTURES.glob("colour_*.yaml")):
        problems = _problems(fixture.name)
        assert problems and all(p.path[0] == "colour" for p in problems), (fixture.name, problems)


def test_choices_are_capped_and_counted() -> None:
    assert choices("b", ["a", "b", "c"], limit=2) == "'b', 'a' (and 1 more)"
    assert choices("x", []) == "(none)"


def test_a_config_file_relative_to_the_project(tmp_path: Path, aces: Any) -> None:
    (tmp_path / "ocio").mkdir()
    (tmp_path / "ocio" / "studio.ocio").write_text(aces.serialize())
    settings = ColourSettings(config="ocio/studio.ocio", working_space="ACEScg",
                              canvases={"main": CanvasColour(display="sRGB - Display")})
    assert colour_problems(settings, ["main"], [], tmp_path) == []
    (tmp_path / "ocio" / "studio.ocio").write_text("ocio_profile_version: 2\nroles: [not, a, mapping\n")
    [problem] = colour_problems(settings, ["main"], [], tmp_path)
    assert problem.path == ("colour", "config") and "OpenColorIO cannot load" in problem.message


def test_an_edited_cube_is_checked_again(tmp_path: Path) -> None:
    (tmp_path / "wall.cube").write_text("LUT_1D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n0 0 0\n1 1 1\n")
    canvas = CanvasColour(calibration=CubeCalibration(cube="wall.cube"))
    settings = ColourSettings(config=ACES_CONFIG, working_space="ACEScg", canvases={"main": canvas})
    assert colour_problems(settings, ["main"], [], tmp_path) == []
    (tmp_path / "wall.cube").write_text("LUT_1D_SIZE 2\n0 0 0\n1 1\n")
    [problem] = colour_problems(settings, ["main"], [], tmp_path)
    assert problem.file == str(tmp_path / "wall.cube") and problem.line == 3


def test_checking_the_demo_stage_again_is_cheap() -> None:
    """The console validates on every edit: configs, processors and cubes come from caches
    (measured 0.3 ms a check; the first one loads the config and builds the chains)."""
    stage = Stage.open(STAGES / "demo.yaml")
    start = time.perf_counter()
    assert check_colour(stage.project, stage.layout.base_dir) == []
    assert time.perf_counter() - start < 0.1


def test_without_opencolorio_the_section_is_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PyOpenColorIO", None)  # what an environment without the wheel sees
    settings = ColourSettings(config=ACES_CONFIG, working_space="ACEScg")
    [problem] = colour_problems(settings, [], [], Path("."))
    assert problem.path == ("colour", "config") and "needs OpenColorIO (pip install opencolorio)" in problem.message
