"""``python main.py`` in a subprocess: rehearsal mode opens, runs ~2 s and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

NO_DISPLAY_NOTICE = "no display found: the console runs offscreen"


def _run(tmp_path: Path, *args: str, quit_after: str = "2") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(VPSTAGE_QUIT_AFTER_S=quit_after, VPSTAGE_CONFIG_DIR=str(tmp_path / "config"),
               QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_rehearsal_mode_runs_and_quits_cleanly(tmp_path: Path) -> None:
    result = _run(tmp_path)
    unexpected = [line for line in result.stderr.splitlines() if line.strip() and NO_DISPLAY_NOTICE not in line]
    assert result.returncode == 0, result.stderr
    assert unexpected == [], "\n".join(unexpected)  # no traceback, no Qt warning ("qt: ..." lines)
    assert (tmp_path / "config" / "console.ini").is_file()  # the dock layout was saved on close


def test_a_broken_project_exits_with_its_problems(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsections:\n- {kind: arc, name: a, panel: roe-bp2v2, radius_m: -1, start_deg: 0}\n")
    result = _run(tmp_path, "--project", str(broken))
    assert result.returncode == 2
    assert f"{broken}:3: sections[0]" in result.stderr
