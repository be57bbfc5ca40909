"""CLI exit codes and JSON keys for validate / stage-info."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, STAGES


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_validate_ok() -> None:
    result = run("validate", str(STAGES / "flat_wall.yaml"))
    assert result.returncode == 0, result.stderr
    assert "72 cabinets" in result.stdout and "OK" in result.stdout


def test_validate_reports_every_problem_with_exit_2() -> None:
    fixture = Path(__file__).parent / "fixtures" / "invalid" / "overlap.yaml"
    result = run("validate", str(fixture))
    assert result.returncode == 2
    assert f"{fixture}:11: pixel_map[1]: cabinet wall/c01r00 overlaps" in result.stderr


def test_stage_info_json() -> None:
    result = run("stage-info", str(STAGES / "flat_wall.yaml"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["cabinets"] == 72 and info["led_pixels"] == 72 * 192 * 192
    assert info["sections"] == [{"name": "wall", "kind": "flat", "panel": "unilumin-upad3-2.6",
                                 "cabinets": 72, "led_pixels": 2654208}]
    canvas, = info["canvases"]
    assert {k: canvas[k] for k in ("name", "width", "height", "node", "used_pixels")} == {
        "name": "main", "width": 2304, "height": 1152, "node": "node1", "used_pixels": 2654208}
    node, = info["nodes"]
    assert (node["name"], node["canvases"], node["led_pixels"]) == ("node1", ["main"], 2654208)


def test_large_volume_is_at_production_scale() -> None:
    info = json.loads(run("stage-info", str(STAGES / "large_volume.yaml"), "--json").stdout)
    arcs = [s for s in info["sections"] if s["kind"] == "arc"]
    assert info["led_pixels"] > 20_000_000
    assert len(info["canvases"]) >= 8 and len([n for n in info["nodes"] if n["canvases"]]) >= 4
    assert any(s["kind"] == "ceiling" for s in info["sections"]) and len(arcs) >= 1


def test_stage_info_missing_file_exit_2(tmp_path: Path) -> None:
    result = run("stage-info", str(tmp_path / "nope.yaml"), "--json")
    assert result.returncode == 2 and "cannot read file" in result.stderr
