"""The ``colour`` section's model and how a canvas's display / view is chosen from the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.colour.conftest import PQ_1000, SDR
from vpstage.colour.outputs import OutputError, resolve_output, view_peak_nits
from vpstage.colour.settings import CanvasColour, ColourSettings, CubeCalibration, MatrixCalibration
from vpstage.stage import Stage

STAGES = Path(__file__).resolve().parents[2] / "configs" / "stages"


def test_a_project_without_colour_keeps_todays_output() -> None:
    stage = Stage.open(STAGES / "flat_wall.yaml")
    assert stage.project.colour is None


def test_demo_stage_has_an_sdr_and_a_10_bit_pq_canvas() -> None:
    colour = Stage.open(STAGES / "demo.yaml").project.colour
    assert colour is not None
    assert colour.canvases["wall-left"].encoding == "sdr" and colour.canvases["wall-left"].bits == 8
    hdr = colour.canvases["wall-centre"]
    assert (hdr.encoding, hdr.peak_nits, hdr.bits) == ("pq", 1000.0, 10)


def test_calibration_is_a_matrix_or_a_cube() -> None:
    canvas = CanvasColour.model_validate({"calibration": {"gains": [1, 0.9, 0.8]}})
    assert isinstance(canvas.calibration, MatrixCalibration) and canvas.calibration.matrix[1] == [0, 1, 0]
    canvas = CanvasColour.model_validate({"calibration": {"cube": "wall.cube"}})
    assert isinstance(canvas.calibration, CubeCalibration)
    with pytest.raises(ValidationError, match=r"Extra inputs"):
        CanvasColour.model_validate({"calibration": {"cube": "wall.cube", "gains": [1, 1, 1]}})


@pytest.mark.parametrize(("data", "message"), [
    ({"colour_space": "Rec.1886 Rec.709 - Display", "display": "sRGB - Display"}, "either colour_space or display"),
    ({"view": "Raw"}, "a view belongs to a display"),
    ({"calibration": {"matrix": [[1, 0, 0], [0, 1, 0], [0, 0]]}}, "3x3"),
    ({"calibration": {"gains": [1, 0, 1]}}, "greater than 0"),
    ({"bits": 12}, "Input should be 8, 10 or 16"),
    ({"encoding": "pq", "peak_nits": 50}, "greater than or equal to 100"),
])
def test_shape_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CanvasColour.model_validate(data)


def test_assets_fall_back_to_the_working_space() -> None:
    settings = ColourSettings(config="x.ocio", working_space="ACEScg", assets={"plate": "sRGB - Texture"})
    assert settings.asset_space("plate") == "sRGB - Texture" and settings.asset_space("nerf") == "ACEScg"
    assert settings.source_spaces(["nerf", "plate"]) == ["ACEScg", "sRGB - Texture"]


def test_view_peak_is_read_from_its_name() -> None:
    assert view_peak_nits("ACES 1.1 - HDR Video (1000 nits & Rec.2020 lim)") == 1000.0
    assert view_peak_nits("ACES 2.0 - HDR 500 nits (P3 D65)") == 500.0
    assert view_peak_nits("Un-tone-mapped") is None


def test_defaults_pick_the_display_and_view_for_the_encoding(aces: Any) -> None:
    assert resolve_output(aces, CanvasColour()) == SDR
    assert resolve_output(aces, CanvasColour(encoding="pq")) == PQ_1000
    picked = resolve_output(aces, CanvasColour(encoding="pq", peak_nits=500))
    assert picked.display == "Rec.2100-PQ - Display" and picked.view == "ACES 2.0 - HDR 500 nits (P3 D65)"
    # 108 nits exists only on the ST 2084 P3 display: the search goes on to it
    assert resolve_output(aces, CanvasColour(encoding="pq", peak_nits=108)).display == "ST2084-P3-D65 - Display"


@pytest.mark.parametrize(("canvas", "field", "message"), [
    (CanvasColour(display="Rec.2100-PQ - Display"), "encoding", "is a PQ display: set encoding: pq"),
    (CanvasColour(display="Rec.2100-PQ - Display", view="ACES 2.0 - HDR 2000 nits (P3 D65)", encoding="pq"),
     "peak_nits", "tone-maps to 2000 nits, not peak_nits 1000; views for 1000 nits: 'ACES 2.0 - HDR 1000 nits"),
    (CanvasColour(display="ST2084-P3-D65 - Display", encoding="pq", peak_nits=400), "peak_nits",
     "has no view for 400 nits"),
    (CanvasColour(colour_space="Rec.2100-PQ - Display"), "encoding", "is not an SDR encoding"),
    (CanvasColour(colour_space="Rec709 display"), "colour_space", "unknown colour space 'Rec709 display'"),
])
def test_impossible_outputs_name_the_field(aces: Any, canvas: CanvasColour, field: str, message: str) -> None:
    with pytest.raises(OutputError) as info:
        resolve_output(aces, canvas)
    assert info.value.field == field and message in str(info.value), str(info.value)


def test_a_named_pq_colour_space_is_an_output(aces: Any) -> None:
    target = resolve_output(aces, CanvasColour(colour_space="Rec.2100-PQ - Display", encoding="pq"))
    assert target.colour_space == "Rec.2100-PQ - Display" and target.display is None
