"""``python main.py`` in a subprocess: rehearsal mode opens with the live engine running (simulated
tracker on loopback, demo scene, NDI senders on this machine), runs a few seconds and quits
cleanly, logging to the console's log file in its config folder; ``--project FILE`` opens without
starting the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

NO_DISPLAY_NOTICE = "no display found: the console runs offscreen"


def _run(tmp_path: Path, *args: str, quit_after: str = "2", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(extra)
    env.update(VPSTAGE_QUIT_AFTER_S=quit_after, VPSTAGE_CONFIG_DIR=str(tmp_path / "config"),
               VPSTAGE_ENGINE_REPORT=str(tmp_path / "report.json"), QT_QPA_PLATFORM="offscreen",
               PYTHONFAULTHANDLER="1")
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _unexpected(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip() and NO_DISPLAY_NOTICE not in line]


def test_rehearsal_mode_runs_the_engine_and_quits_cleanly(tmp_path: Path) -> None:
    result = _run(tmp_path, quit_after="100", VPSTAGE_QUIT_AFTER_FRAMES="30")  # 30 frames, however long the start
    assert result.returncode == 0, result.stderr
    assert _unexpected(result.stderr) == [], result.stderr  # no traceback, no Qt warning ("qt: ..." lines)
    assert (tmp_path / "config" / "console.ini").is_file()  # the dock layout was saved on close
    report = json.loads((tmp_path / "report.json").read_text())  # written as the engine stopped
    assert report["frames"] >= 30
    assert [o["kind"] for o in report["outputs"]] == ["ndi"] * 4  # a sender per canvas, on this machine
    assert report["tracking"][0]["samples"] > 10 and report["tracking"][0]["address"].startswith("udp://127.0.0.1:")
    assert (tmp_path / "config" / "rehearsal" / "takes" / "takes.sqlite").is_file()
    log = (tmp_path / "config" / "logs" / "console.log").read_text()  # rehearsal logs in the config folder
    assert "engine started after" in log and "Traceback" not in log


def test_a_project_opens_with_the_engine_stopped(tmp_path: Path) -> None:
    result = _run(tmp_path, "--project", str(ROOT / "configs" / "stages" / "flat_wall.yaml"), quit_after="1")
    assert result.returncode == 0, result.stderr
    assert _unexpected(result.stderr) == []
    assert not (tmp_path / "report.json").exists()  # never started


def test_a_broken_project_exits_with_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsections:\n- {kind: arc, name: a, panel: roe-bp2v2, radius_m: -1, start_deg: 0}\n")
    result = _run(tmp_path, "--project", str(broken))
    assert result.returncode == 2
    assert f"{broken}:3: sections[0]" in result.stderr
