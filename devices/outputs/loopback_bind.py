"""Keep a render node's listening sockets on loopback in rehearsal (``network.mode: loopback``).

The NDI runtime listens for receivers on every interface (``0.0.0.0``) and has no setting for
it. A node process started with ``LD_PRELOAD`` of a tiny library built from ``loopback_bind.c``
binds every wildcard ``bind()`` to 127.0.0.1 (or ::1) instead. The library is compiled once with
the system C compiler into the user's cache folder. Where that cannot be done (no compiler, not
Linux), :func:`loopback_preload` returns None with the reason, and the node runs without it: its
NDI listeners are then reachable from the network, and the run report says so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).with_name("loopback_bind.c")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpstage"


def loopback_preload() -> tuple[Path | None, str]:
    """(path of the shared library, "") or (None, why it is not available)."""
    if not sys.platform.startswith("linux"):
        return None, f"binding NDI to loopback needs Linux (LD_PRELOAD), not {sys.platform}"
    source = SOURCE.read_bytes()
    target = cache_dir() / f"loopback_bind-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if target.is_file():
        return target, ""
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        return None, "no C compiler to build the loopback bind library (apt-get install gcc)"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    result = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SOURCE), "-ldl"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        return None, f"building the loopback bind library failed: {result.stderr.strip()[:300]}"
    partial.replace(target)
    return target, ""
