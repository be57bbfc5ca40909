"""Where Triton keeps the kernels it compiles: a vpstage folder in the user's cache directory.

Compiling the splat, NeRF and colour kernels costs seconds at the first render of a process (a
preview's cold start); Triton skips it when it finds them in its cache folder. ``use_kernel_cache``
points ``TRITON_CACHE_DIR`` at ``<user cache>/vpstage/triton`` (XDG on Linux: ``$XDG_CACHE_HOME``
or ``~/.cache``; ``~/Library/Caches`` on macOS; ``%LOCALAPPDATA%`` on Windows), unless the user
set the variable (then it is left alone) or the folder cannot be created (then Triton keeps its
own default). ``render/__init__`` calls it once, before any module of the render path imports
Triton (Triton reads the variable when it compiles).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

ENV = "TRITON_CACHE_DIR"


def user_cache_root(environ: MutableMapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The user's cache directory by the platform's rules (no folder is created)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return Path.home() / "Library" / "Caches"
    if platform.startswith("win"):
        local = env.get("LOCALAPPDATA", "")
        return Path(local) if local else Path.home() / "AppData" / "Local"
    xdg = env.get("XDG_CACHE_HOME", "")
    return Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"  # XDG: relative paths are invalid


def kernel_cache_dir(environ: MutableMapping[str, str] | None = None, platform: str | None = None) -> Path:
    """``<user cache>/vpstage/triton``."""
    return user_cache_root(environ, platform) / "vpstage" / "triton"


def use_kernel_cache(environ: MutableMapping[str, str] | None = None, platform: str | None = None) -> Path | None:
    """Point ``TRITON_CACHE_DIR`` at :func:`kernel_cache_dir` unless the user set it; returns the
    folder Triton will use (None: Triton's own default, this folder could not be made)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV, "")
    if chosen:
        return Path(chosen)
    folder = kernel_cache_dir(env, platform)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home, say: Triton's default is no worse
        return None
    env[ENV] = str(folder)
    return folder
