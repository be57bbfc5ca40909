"""Host CPU of a frame-loop run: ``python bench/cpu_probe.py OUT.json -- main.py run ...``.

Runs ``main.py`` in this process with ``FrameLoop.run`` wrapped to note the process's CPU time
(all threads) and wall time from the first frame to the last, and writes them to OUT.json. It
works on any version of the project that has ``vpstage.frame_master.loop.FrameLoop.run`` (the current
tree, or an older checkout given as the working directory), so a before/after comparison measures
both the same way. Start-up (imports, scene loading, kernel compilation) is not counted. With
render nodes in processes of their own, their CPU is in the run report (``cpu``), not here.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        raise SystemExit(__doc__)
    out, script, args = Path(sys.argv[1]), sys.argv[3], sys.argv[4:]
    sys.path.insert(0, os.getcwd())
    try:
        from vpstage.frame_master import loop as loop_module
    except ModuleNotFoundError:  # a checkout from before the frame master's rename (bench baselines)
        from vpstage.engine import loop as loop_module  # type: ignore[no-redef]

    measured: dict[str, Any] = {}
    original = loop_module.FrameLoop.run

    def run(self: Any, *a: Any, **k: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return original(self, *a, **k)
        finally:
            measured["cpu_s"] = measured.get("cpu_s", 0.0) + time.process_time() - cpu
            measured["wall_s"] = measured.get("wall_s", 0.0) + time.perf_counter() - wall
            measured["frames"] = int(self.history.frames)

    loop_module.FrameLoop.run = run  # type: ignore[method-assign]
    sys.argv = [script, *args]
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        out.write_text(json.dumps(measured, indent=1) + "\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
