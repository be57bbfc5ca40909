"""`main.py run` headless: the demo stage (scaled down 8 times), the procedural demo scene, a
simulated orbit on loopback, no outputs, render nodes as local processes (the default cluster);
writes a valid report and records a take that `takes show` finds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vpstage.takes import TakeLibrary

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "stages" / "demo.yaml"
FRAMES = 30


def main(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("run")
    stage = folder / "demo.yaml"
    shutil.copy(DEMO, stage)
    report = folder / "report.json"
    done = main("-v", "run", "--stage", str(stage), "--simulate", "orbit", "--frames", str(FRAMES), "--outputs", "none",
                "--scale", "8", "--inner-scale", "0.25", "--outer-scale", "0.05", "--report", str(report),
                "--record", "R001", "--take-scene", "rehearsal", "--timecode", "01:00:00:00")
    assert done.returncode == 0, done.stderr
    return folder, done, json.loads(report.read_text())


def percentiles(value: Any) -> None:
    assert set(value) == {"p50", "p99", "max"}
    for v in value.values():
        assert v is None or isinstance(v, float)


def test_it_says_how_many_frames_are_done(run: tuple[Path, subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    _, done, _ = run
    lines = [line for line in done.stderr.splitlines() if line.startswith("INFO cli.progress: run: frame ")]
    assert lines and lines[-1].startswith(f"INFO cli.progress: run: frame {FRAMES}/{FRAMES} (100 %), ")
    counts = [int(line.split("frame ")[1].split("/")[0]) for line in lines]
    assert counts == sorted(set(counts)) and counts[0] < FRAMES  # the first presented frames, then the last


def test_the_report_has_every_figure(run: tuple[Path, subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    _, done, report = run
    assert report["frames"] == FRAMES and report["rate"] == "30"
    for key in ("late", "dropped", "skipped"):
        assert isinstance(report[key], int) and report[key] >= 0
    for key in ("render_ms", "present_skew_ms", "tracking_to_present_ms", "plan_ms", "send_ms", "present_ms"):
        percentiles(report[key])
    assert report["plan_ms"]["p50"] is not None and report["present_skew_ms"]["p50"] is not None
    assert report["send_ms"]["p50"] is not None
    percentiles(report["render_all_ms"])  # CPU renders may all miss their deadlines on a loaded machine
    assert report["tracking_to_present_ms"]["p50"] is not None  # the simulated camera was tracked
    assert set(report["nodes"]) == {"node1", "node2"}
    for node in report["nodes"].values():
        assert node["frames"] == FRAMES + report["skipped"]
        for key in ("late", "dropped"):
            assert isinstance(node[key], int)
        for key in ("render_ms", "present_skew_ms", "tracking_to_present_ms"):
            percentiles(node[key])
    assert report["outputs"] == []  # --outputs none
    (tracker,) = report["tracking"]
    assert tracker["address"].startswith("udp://127.0.0.1:") and tracker["samples"] > 0
    assert "30 frames" in done.stdout


def test_the_recorded_take_is_in_the_projects_database(
        run: tuple[Path, subprocess.CompletedProcess[str], dict[str, Any]]) -> None:
    folder, _, report = run
    db = folder / "takes" / "takes.sqlite"
    shown = main("takes", "show", "R001_T01", "--db", str(db), "--json", timeout=60)
    assert shown.returncode == 0, shown.stderr
    take = json.loads(shown.stdout)
    assert take["take"]["status"] == "complete" and take["take"]["scene"] == "rehearsal"
    assert take["take"]["frame_count"] == FRAMES == report["take"]["frame_count"]
    assert take["take"]["start_timecode"].startswith("01:00:00:0")  # jam-synced as the loop started
    with TakeLibrary(db) as library:
        frames = library.frames("R001_T01")
    hashes = {s.content_hash for f in frames for s in f.scene}
    assert len(hashes) == 1 and len(hashes.pop()) == 64  # the demo scene's content hash, from the render nodes
    tracked = [f.camera("A") for f in frames if f.camera("A") is not None and f.camera("A").raw is not None]
    assert len(tracked) >= FRAMES - 3


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    missing = main("run", "--stage", str(tmp_path / "nope.yaml"), "--report", str(tmp_path / "r.json"), timeout=60)
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    shutil.copy(DEMO, tmp_path / "demo.yaml")
    bad = main("run", "--stage", str(tmp_path / "demo.yaml"), "--tracker", "tcp://1.2.3.4", "--report",
               str(tmp_path / "r.json"), "--outputs", "none", timeout=60)
    assert bad.returncode == 2 and "tcp" in bad.stderr
    deadline = main("run", "--stage", str(tmp_path / "demo.yaml"), "--deadline-ms", "0", "--report",
                    str(tmp_path / "r.json"), timeout=60)
    assert deadline.returncode == 2 and "--deadline-ms" in deadline.stderr
    assert not (tmp_path / "r.json").exists()
