"""``main.py takes ...`` in a subprocess: output, JSON, exports, edits, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.takes.synthetic import make_frame, record_take
from vpstage.takes import FrameRecord, TakeRecorder


def run(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *flags, "takes", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def _gappy(i: int) -> FrameRecord:
    return make_frame(i, stale=["A"] if 5 <= i <= 7 else [], dropped=["gpu0"] if i == 3 else [])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "takes" / "takes.sqlite"  # where --project tmp_path/show.yaml points
    with TakeRecorder(path) as recorder:
        record_take(recorder, "A001", 20, make=_gappy, scene="12A", notes="first")
        record_take(recorder, "A001", 10, scene="12A", notes="second", circled=True)
    return path


def test_list_json_show_and_export(db: Path, tmp_path: Path) -> None:
    listed = run("list", "--json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert [(t["name"], t["frame_count"], t["circled"]) for t in json.loads(listed.stdout)] == [
        ("A001_T01", 20, False), ("A001_T02", 10, True)]
    table = run("list", "--project", str(tmp_path / "show.yaml"), "--circled")
    assert table.returncode == 0, table.stderr
    assert "A001_T02" in table.stdout and "A001_T01" not in table.stdout

    shown = run("show", "A001_T01", "--db", str(db), "--json")
    assert shown.returncode == 0, shown.stderr
    stats = json.loads(shown.stdout)["stats"]
    assert stats["frame_count"] == 20 and stats["nodes"][0]["dropped"] == 1
    assert [(g["camera"], g["range"]["first_frame"], g["range"]["last_frame"]) for g in stats["tracking_gaps"]] == [
        ("A", 1005, 1007)]
    text = run("show", "1", "--db", str(db))
    assert "tracking gaps (> 100 ms or missing): 1" in text.stdout and "01:00:00:05 - 01:00:00:07" in text.stdout

    out = tmp_path / "exports" / "a.json"
    exported = run("export", "A001_T01", "--format", "json", "-o", str(out), "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads(out.read_text())["frames"]) == 20
    assert exported.stderr == ""  # stderr is a pipe: no bar, and progress lines only with -v
    verbose = run("export", "A001_T01", "--format", "csv", "-o", str(tmp_path / "a.csv"), "--db", str(db),
                  flags=("-v",))
    assert verbose.returncode == 0, verbose.stderr
    lines = [line for line in verbose.stderr.splitlines() if line.startswith("INFO cli.progress: ")]
    assert lines[0] == "INFO cli.progress: takes export csv: frame 1/20 (5 %)"
    assert lines[-1].startswith("INFO cli.progress: takes export csv: frame 20/20 (100 %), ")


def test_rename_edit_delete_restore(db: Path) -> None:
    where = ("--db", str(db))
    assert run("rename", "A001_T02", "B002", *where).stdout.strip() == "renamed to B002_T01"
    assert run("rename", "B002_T01", "B002_T04", *where).stdout.strip() == "renamed to B002_T04"
    edited = run("edit", "B002_T04", "--notes", "print it", "--uncircle", *where)
    assert edited.returncode == 0 and "print it" in edited.stdout
    assert run("delete", "A001_T01", *where).stdout.strip() == "deleted A001_T01"
    visible = json.loads(run("list", "--json", *where).stdout)
    assert [(t["name"], t["notes"], t["circled"]) for t in visible] == [("B002_T04", "print it", False)]
    assert len(json.loads(run("list", "--json", "--all", *where).stdout)) == 2
    assert run("restore", "A001_T01", *where).returncode == 0
    assert len(json.loads(run("list", "--json", *where).stdout)) == 2


def test_errors_and_exit_codes(db: Path, tmp_path: Path) -> None:
    missing = run("show", "A001_T09", "--db", str(db))
    assert missing.returncode == 1 and "no take A001_T09" in missing.stderr
    bad = run("show", "A001-9", "--db", str(db))
    assert bad.returncode == 2 and "SLATE_TNN" in bad.stderr
    nodb = run("list", "--db", str(tmp_path / "nope.sqlite"))
    assert nodb.returncode == 1 and "no takes database" in nodb.stderr
    assert not (tmp_path / "nope.sqlite").exists()
    neither = run("list")
    assert neither.returncode == 2 and "--db" in neither.stderr
    taken = run("rename", "A001_T02", "A001_T01", "--db", str(db))
    assert taken.returncode == 2 and "A001_T01 already exists" in taken.stderr
    wrong = run("export", "A001_T01", "--format", "fbx", "-o", str(tmp_path / "x"), "--db", str(db))
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
