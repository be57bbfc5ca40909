"""``./dev.sh run`` on a fresh Debian machine under xvfb-run: Qt's X11 platform plugin needs system
libraries (libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0, ...). dev.sh asks ``ldd`` which ones the
plugin cannot find and prints the exact ``apt-get install`` line instead of launching a console
that would abort; the README lists them.

The machine's missing libraries are what ``ldd`` says, so the tests put an ``ldd`` on PATH that
answers as a fresh machine's would; the console itself is a virtual environment whose ``python``
only records that it was launched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

FRESH_DEBIAN = ["libQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x1)",
                "libxcb-icccm.so.4 => not found", "libxcb-keysyms.so.1 => not found",
                "libxcb-cursor.so.0 => not found", "libxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x2)",
                "libxcb-icccm.so.4 => not found"]
APT_LINE = "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or os.uname().sysname != "Linux",
                                reason="dev.sh is a bash script for Linux")


def _machine(tmp_path: Path, ldd_lines: list[str]) -> dict[str, str]:
    """A console virtual environment and an ``ldd`` answering ``ldd_lines``; the environment to run with."""
    venv = tmp_path / "venv"
    plugins = venv / "lib" / "python3.11" / "site-packages" / "PySide6" / "Qt" / "plugins" / "platforms"
    plugins.mkdir(parents=True)
    (plugins / "libqxcb.so").write_bytes(b"")
    python = venv / "bin" / "python"
    python.parent.mkdir()
    python.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'launched'}\n")
    python.chmod(0o755)
    (venv / ".vpstage-setup").touch()  # set up already: dev.sh goes straight to the launch
    tools = tmp_path / "bin"
    tools.mkdir()
    ldd = tools / "ldd"
    ldd.write_text("#!/bin/sh\n" + "".join(f"printf '\\t%s\\n' '{line}'\n" for line in ldd_lines))
    ldd.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "VPSTAGE_SKIP_QT_CHECK")}
    env.update(VPSTAGE_VENV=str(venv), PATH=f"{tools}:{env.get('PATH', '')}", DISPLAY=":99")
    return env


def _dev(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "dev.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_missing_qt_libraries_stop_the_launch_with_the_apt_get_line(tmp_path: Path) -> None:
    env = _machine(tmp_path, FRESH_DEBIAN)
    result = _dev(env, "run")
    assert result.returncode == 1
    assert APT_LINE in result.stderr.splitlines()[-1]
    assert "libxcb-icccm.so.4" in result.stderr and "libxcb.so.1" not in result.stderr
    assert not (tmp_path / "launched").exists()  # no console that would abort on its own


def test_with_every_library_present_or_no_display_the_console_starts(tmp_path: Path) -> None:
    env = _machine(tmp_path, [line for line in FRESH_DEBIAN if "not found" not in line])
    assert _dev(env, "run", "--project", "x.yaml").returncode == 0
    assert (tmp_path / "launched").read_text().split() == ["main.py", "--project", "x.yaml"]
    (tmp_path / "launched").unlink()
    env = _machine(tmp_path / "offscreen", FRESH_DEBIAN)
    del env["DISPLAY"]  # no display: the console runs offscreen and needs none of them
    assert _dev(env, "run").returncode == 0 and (tmp_path / "offscreen" / "launched").is_file()


def test_check_qt_answers_for_this_machine() -> None:
    plugin = next((ROOT / ".venv" / "lib").glob("python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so"),
                  None)
    if plugin is None or shutil.which("ldd") is None:
        pytest.skip("no PySide6 in .venv, or no ldd")
    ldd = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=30).stdout
    missing = "not found" in ldd
    result = _dev(dict(os.environ), "check-qt")
    assert result.returncode == (1 if missing else 0)
    assert ("sudo apt-get install" in result.stderr) == missing


def test_the_readme_lists_the_libraries() -> None:
    readme = (ROOT / "README.md").read_text()
    assert all(package in readme for package in ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "check-qt"))
