"""Colour regions in the project: the section's rules (regions need no OCIO config), located
checks, undoable edits, the project file, and a rehearsal's scaled-down stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.colour.conftest import ACES_CONFIG
from tests.engine.helpers import tiny_stage
from vpstage.colour.region_checks import region_problems
from vpstage.colour.settings import ColourRegion, ColourSettings
from vpstage.stage import Stage
from vpstage.stage.change import EditError
from vpstage.stage.colour_edits import add_region, remove_region, set_region_enabled, update_region
from vpstage.stage.document import StageDocument
from vpstage.stage.project_io import save_project
from vpstage.stage.scaling import scaled_stage

SIZES = {"front": (192, 64), "side": (96, 96)}


def region(**fields: object) -> ColourRegion:
    return ColourRegion.model_validate({"name": "r", "canvas": "front", "rect": (0, 0, 10, 10)} | fields)


def test_a_section_of_regions_only_needs_no_ocio_config() -> None:
    settings = ColourSettings(regions=[region()])
    assert settings.config is None and region_problems(settings, SIZES) == []
    with pytest.raises(ValidationError, match="need an OCIO 'config'"):
        ColourSettings(assets={"set": "ACEScg"})
    with pytest.raises(ValidationError, match="together"):
        ColourSettings(config=ACES_CONFIG)
    with pytest.raises(ValidationError, match="unique: r"):
        ColourSettings(regions=[region(), region()])
    with pytest.raises(ValueError, match="names no OCIO config"):
        settings.asset_space("set")


@pytest.mark.parametrize(("fields", "where", "message"), [
    ({"canvas": "fornt"}, "canvas", "unknown canvas 'fornt'; canvases: 'front'"),
    ({"rect": (180, 0, 200, 10)}, "rect", "outside canvas 'front' (192 x 64 pixels)"),
    ({"rect": (-1, 0, 10, 10)}, "rect", "outside canvas"),
    ({"feather_px": 6.0}, "feather_px", "at most half its shorter side: 5 px"),
])
def test_region_problems_are_located(fields: dict[str, object], where: str, message: str) -> None:
    settings = ColourSettings(regions=[region(name="ok"), region(**fields)])
    [problem] = region_problems(settings, SIZES)
    assert problem.path == ("colour", "regions", 1, where) and message in problem.message


def test_edits_go_through_changes_and_undo_restores_the_project() -> None:
    stage = tiny_stage()
    document = StageDocument(stage.project.model_copy(deep=True), stage.layout.base_dir)
    assert document.project.colour is None
    added = add_region(document.project, "front")
    document.apply(added)
    [new] = document.project.colour.regions  # type: ignore[union-attr]
    assert (new.name, new.rect, new.gain) == ("region 1", (48, 16, 144, 48), (1.0, 1.0, 1.0))
    warmer = update_region(document.project, "region 1", gain=(1.2, 1.0, 0.8), feather_px=8.0)
    document.apply(warmer)
    assert document.project.colour.regions[0].gain == (1.2, 1.0, 0.8)  # type: ignore[union-attr]
    document.apply(set_region_enabled(document.project, "region 1", False))
    assert not document.project.colour.regions[0].enabled  # type: ignore[union-attr]
    document.apply(warmer.inverse())  # (as the undo stack would, in order: see tests/ui)
    removed = remove_region(document.project, "region 1")
    document.apply(removed)
    assert document.project.colour is None  # the section held nothing else
    document.apply(removed.inverse())
    document.apply(added.inverse())
    assert document.project.colour is None


def test_refused_edits_say_why() -> None:
    project = tiny_stage().project.model_copy(deep=True)
    with pytest.raises(EditError, match="no canvas named 'wall'"):
        add_region(project, "wall")
    with pytest.raises(EditError, match="no colour region named 'x'"):
        update_region(project, "x", saturation=0.5)
    project.colour = ColourSettings(regions=[region(name="a")])
    with pytest.raises(EditError, match="greater than 0"):
        update_region(project, "a", gamma=(1.0, 0.0, 1.0))
    with pytest.raises(EditError, match="no editable field canvas"):
        update_region(project, "a", canvas="side")
    with pytest.raises(EditError, match="already exists"):
        add_region(project, "side", name="a")
    with pytest.raises(EditError, match="outside canvas 'front'"):
        update_region(project, "a", rect=(0, 0, 500, 10))
    with pytest.raises(EditError, match="does not fit"):
        update_region(project, "a", feather_px=20.0)


def test_regions_are_stored_in_the_project_file(tmp_path: Path) -> None:
    project = tiny_stage().project.model_copy(deep=True)
    project.colour = ColourSettings(regions=[region(name="warm", lift=(0.01, 0.0, 0.0), saturation=0.9,
                                                    feather_px=4.0)])
    base = tiny_stage().layout.base_dir
    project.catalog = str((base / project.catalog).resolve()) if project.catalog else None
    save_project(project, tmp_path / "stage.yaml")
    text = (tmp_path / "stage.yaml").read_text()
    assert "regions:" in text and "config" not in text.split("colour:", 1)[1]
    loaded = Stage.open(tmp_path / "stage.yaml").project.colour
    assert loaded is not None and loaded.regions == project.colour.regions


def test_a_scaled_down_stage_scales_its_regions(tmp_path: Path) -> None:
    base = tiny_stage()
    project = base.project.model_copy(deep=True)
    project.colour = ColourSettings(regions=[region(rect=(10, 6, 65, 40), feather_px=9.0)])
    stage = Stage.from_project(project, base.layout.base_dir)
    scaled = scaled_stage(stage, 2, tmp_path).project.colour
    assert scaled is not None and scaled.regions[0].rect == (5, 3, 32, 20) and scaled.regions[0].feather_px == 4.5
