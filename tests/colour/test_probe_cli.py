"""``main.py colour probe``: one colour through a canvas's baked LUT, as JSON or a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli import EXIT_INVALID, EXIT_OK, main
from render.colour.accuracy import ocio_reference
from tests.colour.conftest import ACES_CONFIG, PQ_1000, SDR, SRGB_TEXTURE
from vpstage.colour.transforms import CanvasTransform, canvas_processor

DEMO = Path(__file__).resolve().parents[2] / "configs" / "stages" / "demo.yaml"


def _probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["colour", "probe", str(DEMO), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("canvas", "target", "bits"), [("wall-left", SDR, 8), ("wall-centre", PQ_1000, 10)])
def test_json_gives_the_code_values_ocio_gives(capsys: pytest.CaptureFixture[str], aces: Any, canvas: str,
                                               target: Any, bits: int) -> None:
    code, out, _ = _probe(capsys, "--canvas", canvas, "--rgb", "0.18,0.5,0.9", "--json")
    assert code == EXIT_OK
    result = json.loads(out)
    assert result["bits"] == bits
    assert result["ocio"] == {"config": ACES_CONFIG, "source": SRGB_TEXTURE, "display": target.display,
                              "view": target.view}
    processor = canvas_processor(aces, CanvasTransform(SRGB_TEXTURE, target)).getDefaultCPUProcessor()
    expected = ocio_reference(processor, np.array([[0.18, 0.5, 0.9]], np.float32))[0] * ((1 << bits) - 1)
    assert np.abs(np.array(result["code_values"]) - expected).max() <= 1.0  # LUT error < one code value here
    assert result["code_values"] == [round(v * ((1 << bits) - 1)) for v in result["values"]]


def test_human_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _probe(capsys, "--canvas", "wall-centre", "--rgb", "0,0,0")
    assert code == EXIT_OK
    assert out.startswith("wall-centre: (0, 0, 0) in sRGB Encoded Rec.709 (sRGB) -> Rec.2100-PQ - Display / "
                          "ACES 2.0 - HDR 1000 nits (P3 D65) -> code values (0, 0, 0) at 10 bits")


def test_asset_working_space_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = DEMO.read_text().replace("  working_space: sRGB Encoded Rec.709 (sRGB)\n",
                                    "  working_space: sRGB Encoded Rec.709 (sRGB)\n  assets: {demo: ACEScg}\n")
    stage = tmp_path / "demo_acescg.yaml"
    stage.write_text(text)
    assert main(["colour", "probe", str(stage), "--canvas", "wall-left", "--rgb", "0.18,0.18,0.18",
                 "--asset", "demo", "--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["ocio"]["source"] == "ACEScg" and result["code_values"] == [89, 89, 89]  # 0.349188 * 255


@pytest.mark.parametrize(("args", "message"), [
    (["--canvas", "ceiling", "--rgb", "1,1,1"], "canvas 'ceiling' has no colour settings"),
    (["--canvas", "wall-left", "--rgb", "1,1,1", "--asset", "nope"], "unknown scene asset 'nope'"),
])
def test_bad_names_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, _, err = _probe(capsys, *args)
    assert code == EXIT_INVALID and message in err


def test_bad_rgb_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["colour", "probe", str(DEMO), "--canvas", "wall-left", "--rgb", "1,2"])
    assert info.value.code == 2 and "is not R,G,B" in capsys.readouterr().err
