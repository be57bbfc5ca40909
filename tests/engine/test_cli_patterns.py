"""``main.py patterns``: a headless run from the command line (render nodes as local processes, the
default cluster) that writes its report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.engine.helpers import TINY


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_patterns_command_runs_and_writes_a_report(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = run("-v", "patterns", str(TINY), "--pattern", "grid", "--outputs", "none", "--frames", "12",
                 "--timecode", "01:00:00:00", "--report", str(report_path))
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("INFO cli.progress: patterns: ")]
    assert progress[-1].startswith("INFO cli.progress: patterns: frame 12/12 (100 %), ")
    report = json.loads(report_path.read_text())
    assert report["frames"] == 12 and set(report["nodes"]) == {"n1", "n2", "n3"}
    assert report["outputs"] == [] and report["canvas_errors"] == {}
    for node in ("n1", "n2"):  # the spare n3 has no canvases
        assert report["nodes"][node]["frames"] == 12 + report["skipped"]
        assert report["nodes"][node]["render_ms"]["p50"] is not None
    assert "12 frames" in result.stdout


def test_patterns_command_refuses_bad_input(tmp_path: Path) -> None:
    result = run("patterns", str(TINY), "--pattern", "solid", "--color", "1,2", "--outputs", "none")
    assert result.returncode == 2 and "R,G,B" in result.stderr
    result = run("patterns", str(TINY), "--timecode", "00:01:00;00", "--outputs", "none")
    assert result.returncode == 2  # 30 fps has no drop-frame labels
    bad = Path(__file__).parents[1] / "core" / "fixtures" / "invalid" / "overlap.yaml"
    assert run("patterns", str(bad), "--outputs", "none").returncode == 2
    result = run("patterns", str(TINY), "--cluster", "embedded", "--outputs", "none")
    assert result.returncode == 2 and "--cluster" in result.stderr  # local, ray or threads
