"""Triton's kernel cache folder: the user's cache directory by the platform's rules, never over a
TRITON_CACHE_DIR the user set, and set on the render path before Triton loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from render.kernel_cache import ENV, kernel_cache_dir, use_kernel_cache
from tests.conftest import ROOT


def test_a_users_triton_cache_dir_is_left_alone(tmp_path: Path) -> None:
    env = {ENV: str(tmp_path / "mine"), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert use_kernel_cache(env, "linux") == tmp_path / "mine"
    assert env[ENV] == str(tmp_path / "mine") and not (tmp_path / "xdg").exists()


def test_without_one_the_folder_is_made_under_the_xdg_cache_home(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    folder = use_kernel_cache(env, "linux")
    assert folder == tmp_path / "xdg" / "vpstage" / "triton" and folder.is_dir()
    assert env[ENV] == str(folder)


def test_platform_rules() -> None:
    home = Path.home()
    assert kernel_cache_dir({}, "linux") == home / ".cache" / "vpstage" / "triton"
    assert kernel_cache_dir({"XDG_CACHE_HOME": "relative/ignored"}, "linux") == home / ".cache" / "vpstage" / "triton"
    assert kernel_cache_dir({}, "darwin") == home / "Library" / "Caches" / "vpstage" / "triton"
    assert kernel_cache_dir({"LOCALAPPDATA": "C:/Users/op/AppData/Local"}, "win32") == Path(
        "C:/Users/op/AppData/Local/vpstage/triton")


def test_a_folder_that_cannot_be_made_leaves_tritons_default(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {"XDG_CACHE_HOME": str(blocker)}
    assert use_kernel_cache(env, "linux") is None and ENV not in env


def test_the_render_package_sets_it_before_anything_imports_triton(tmp_path: Path) -> None:
    code = "import os, sys, render; print(os.environ['TRITON_CACHE_DIR']); print('triton' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != ENV}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out == [str(tmp_path / "vpstage" / "triton"), "False"]
    env[ENV] = str(tmp_path / "users")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out[0] == str(tmp_path / "users")
