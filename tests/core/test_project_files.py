"""Round trips, atomic saves and the refusal to write invalid projects."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, STAGES
from vpstage.config import ConfigError, atomic_write_text
from vpstage.stage import dump_project_yaml, load_project, save_project


@pytest.mark.parametrize("name", ["flat_wall", "demo", "large_volume"])
def test_load_save_load_is_identical(tmp_path: Path, name: str) -> None:
    first = load_project(STAGES / f"{name}.yaml").project
    out = tmp_path / f"{name}.yaml"
    save_project(first, out, base_dir=STAGES)
    second = load_project(out).project
    assert second == first
    # and the canonical text is stable
    assert dump_project_yaml(second) == out.read_text()


def test_save_keeps_backup_and_replaces_atomically(tmp_path: Path) -> None:
    project = load_project(STAGES / "flat_wall.yaml").project
    target = tmp_path / "stage.yaml"
    save_project(project, target, base_dir=STAGES)
    first_text = target.read_text()
    project.name = "Renamed wall"
    save_project(project, target, base_dir=STAGES)
    assert (tmp_path / "stage.yaml.bak").read_text() == first_text
    assert "Renamed wall" in target.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_invalid_project_is_not_written(tmp_path: Path) -> None:
    project = load_project(STAGES / "flat_wall.yaml").project
    target = tmp_path / "stage.yaml"
    target.write_text("original\n")
    project.canvases[0].node = "nobody"
    with pytest.raises(ConfigError, match="not a render node"):
        save_project(project, target, base_dir=STAGES)
    assert target.read_text() == "original\n"


def test_failed_write_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.yaml"
    target.write_text("old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_killed_mid_write_leaves_old_file(tmp_path: Path) -> None:
    """A process SIGKILLed while writing a large save leaves the previous file untouched."""
    target = tmp_path / "big.yaml"
    target.write_text("old\n")
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        import vpstage.config.atomic as atomic
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("writing", flush=True)
            import time; time.sleep(60)
        atomic.os.fsync = slow_fsync
        atomic.atomic_write_text({str(target)!r}, "x" * 10_000_000)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert target.read_text() == "old\n"
