"""Auto-layout on the example stages: everything mapped, nothing overlapping, ports within capacity."""

import pytest

from tests.conftest import STAGES
from vpstage.stage import Stage, auto_layout
from vpstage.stage.mapping import LayoutError
from vpstage.stage.model import Canvas


@pytest.mark.parametrize("name", ["flat_wall", "demo", "large_volume"])
def test_auto_layout_produces_a_valid_map(name: str) -> None:
    stage = Stage.open(STAGES / f"{name}.yaml")
    project = stage.project.model_copy(deep=True)
    project.pixel_map = auto_layout(stage.layout)
    relaid = Stage.from_project(project, STAGES)  # strict: raises on any problem
    assert (relaid.layout.pixel_map.canvas >= 0).all()
    assert relaid.summary()["led_pixels"] == stage.summary()["led_pixels"]


def test_auto_layout_keeps_sections_on_their_own_canvases() -> None:
    stage = Stage.open(STAGES / "demo.yaml")
    used = {c["name"]: c["used_pixels"] for c in stage.canvas_totals()}
    sections = {s["name"]: s["led_pixels"] for s in stage.section_totals()}
    assert used == sections  # demo canvases are named after the section they carry


def test_auto_layout_reports_when_cabinets_do_not_fit() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml", strict=True)
    project = stage.project.model_copy(deep=True)
    project.canvases = [Canvas(name="main", width=1920, height=1080, node="node1", processor="proc1")]
    small = Stage.from_project(project, STAGES, strict=False)
    with pytest.raises(LayoutError, match="do not fit"):
        auto_layout(small.layout)
