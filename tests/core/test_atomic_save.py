"""Atomic saves clean up after themselves: the temporary file goes on any failure, and the one a
killed save leaves behind goes at the next save (unless a live save still holds it)."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import vpstage.config.atomic as atomic
from tests.conftest import ROOT
from vpstage.config import atomic_write_text


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _fail(exc: BaseException) -> Callable[..., None]:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise exc
    return broken


FAILURES = {
    "write": (lambda m: m.setattr(atomic.os, "fsync", _fail(OSError("disk full"))), OSError),
    "backup": (lambda m: (m.setattr(atomic.os, "link", _fail(OSError("no links"))),
                          m.setattr(atomic.shutil, "copy2", _fail(OSError("no space for the backup")))), OSError),
    "rename": (lambda m: m.setattr(atomic.os, "replace", _fail(PermissionError("read-only"))), PermissionError),
    "interrupt": (lambda m: m.setattr(atomic.shutil, "copymode", _fail(KeyboardInterrupt())), KeyboardInterrupt),
}


@pytest.mark.parametrize("where", sorted(FAILURES))
def test_any_failure_keeps_the_old_file_and_removes_the_temporary(where: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "stage.yaml"
    target.write_text("old\n")
    patch, error = FAILURES[where]
    patch(monkeypatch)
    with pytest.raises(error):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert _temporaries(tmp_path) == []


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path: Path) -> None:
    target = tmp_path / "stage.yaml"
    target.write_text("old\n")
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(ROOT)!r})
        import vpstage.config.atomic as atomic
        def killed(src, dst):  # between the temporary file and the rename
            os.kill(os.getpid(), signal.SIGKILL)
        atomic.os.replace = killed
        atomic.atomic_write_text({str(target)!r}, "half-done\\n")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    stale = _temporaries(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".stage.yaml.")
    assert (tmp_path / stale[0]).read_text() == "half-done\n" and target.read_text() == "old\n"

    atomic_write_text(target, "new\n")
    assert _temporaries(tmp_path) == []
    assert target.read_text() == "new\n" and (tmp_path / "stage.yaml.bak").read_text() == "old\n"


def test_a_temporary_a_live_save_holds_and_other_files_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "stage.yaml"
    live = tmp_path / ".stage.yaml.abcd1234.tmp"
    others = [tmp_path / ".other.yaml.abcd1234.tmp", tmp_path / ".stage.yaml.not-ours.tmp"]
    for path in [live, *others]:
        path.write_text("x")
    with live.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as the writing process does until its rename
        atomic_write_text(target, "one\n")
        assert live.exists()
    atomic_write_text(target, "two\n")  # its writer is gone now
    assert not live.exists()
    assert all(p.exists() for p in others)
    assert target.read_text() == "two\n" and (tmp_path / "stage.yaml.bak").read_text() == "one\n"


def test_the_backup_is_the_previous_file_even_without_hard_links(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "stage.yaml"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    assert (tmp_path / "stage.yaml.bak").read_text() == "one\n"
    monkeypatch.setattr(atomic.os, "link", _fail(OSError("no hard links here")))
    copied: list[Path] = []
    monkeypatch.setattr(atomic.shutil, "copy2", lambda src, dst: copied.append(Path(dst)) or shutil.copyfile(src, dst))
    atomic_write_text(target, "three\n")
    assert copied == [tmp_path / "stage.yaml.bak"]
    assert (tmp_path / "stage.yaml.bak").read_text() == "two\n" and target.read_text() == "three\n"
    assert os.listdir(tmp_path) and _temporaries(tmp_path) == []
