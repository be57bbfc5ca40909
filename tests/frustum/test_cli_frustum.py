"""``main.py frustum``: JSON for a hand-checked camera, and exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, STAGES

SQUARE = {"x_m": 0, "y_m": -4, "z_m": 1.5, "pan_deg": 0, "tilt_deg": 0, "roll_deg": 0, "focal_length_mm": 35,
          "sensor_width_mm": 24.88, "sensor_height_mm": 13.99}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "frustum", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_flat_wall_json() -> None:
    camera = dict(SQUARE, overscan_pct=[10, 0, 0, 0])
    result = run(str(STAGES / "flat_wall.yaml"), "--camera", json.dumps(camera),
                 "--pixels", "main:1152,576;main:0,0;main:550,600", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    main = report["canvases"]["main"]
    # 10 % of the 2.843 m window on the left: 109 more columns than the plain 606..1698
    assert main["inner_rect"] == [497, 269, 1698, 883]
    assert main["inner_pixels"] == (1698 - 497) * (883 - 269)
    assert main["outer_pixels"] == 2304 * 1152 - main["inner_pixels"]
    centre, corner, left = report["pixels"]
    assert centre["world"] == pytest.approx([0.5 / 384, 0.0, 1.5 - 0.5 / 384], abs=1e-6)
    assert centre["inner"] is True
    # u: the window spans X -1.706..1.422 m on the wall; v: Z 0.701..2.299 m
    assert centre["uv"] == pytest.approx([(0.5 / 384 + 1.7061) / 3.1277, (2.2994 - 1.4987) / 1.5988], abs=1e-4)
    assert centre["camera_uv"] == pytest.approx([0.5 + (0.5 / 384) / 2.8434, 0.5 + (0.5 / 384) / 1.5988], abs=1e-4)
    assert corner == {"canvas": "main", "x": 0, "y": 0, "world": pytest.approx([-3 + 0.5 / 384, 0, 3 - 0.5 / 384]),
                      "inner": False}
    assert left["inner"] is True and left["camera_uv"][0] < 0  # in the overscan band, outside the sensor
    node = report["nodes"]["node1"]
    crop = node["dod_crop"]
    assert len(crop["corners"]) == 8 and crop["min"][1] == pytest.approx(-4.0, abs=1e-6)
    assert crop["max"][1] == pytest.approx(96.0, abs=1e-6)  # the 100 m far plane from the camera at y = -4
    assert report["scene"]["asset"] == "demo" and report["scene"]["bounds"]["max"][1] == 100.0  # 100 m past the wall
    assert node["inner_pixels"] == main["inner_pixels"] and node["load"] == 2304 * 1152


def test_camera_facing_away_has_no_rect_or_crop() -> None:
    result = run(str(STAGES / "flat_wall.yaml"), "--camera", json.dumps(dict(SQUARE, pan_deg=180)), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["canvases"]["main"]["inner_rect"] is None and report["canvases"]["main"]["inner_pixels"] == 0
    assert report["nodes"]["node1"]["dod_crop"] is None


@pytest.mark.parametrize("camera, pixels, message", [
    ("{not json", None, "not valid JSON"),
    (json.dumps({k: v for k, v in SQUARE.items() if k != "tilt_deg"}), None, "missing keys ['tilt_deg']"),
    (json.dumps(dict(SQUARE, focal_length_mm="35")), None, "focal_length_mm must be a finite number"),
    (json.dumps(SQUARE), "main:1,2,3", "is not CANVAS:X,Y"),
    (json.dumps(SQUARE), "nope:1,2", "no canvas named 'nope'"),
    (json.dumps(SQUARE), "main:5000,2", "outside canvas main"),
])
def test_bad_arguments_exit_2(camera: str, pixels: str | None, message: str) -> None:
    args = [str(STAGES / "flat_wall.yaml"), "--camera", camera] + (["--pixels", pixels] if pixels else [])
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
