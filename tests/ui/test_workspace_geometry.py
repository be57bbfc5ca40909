"""The Live and Edit workspaces on a real X display (Xvfb) at 1920x1080 and 2560x1440: widget
rectangles, not pixels. Live gives Health and Tracking real room (Health's columns fit without
sideways scrolling, its plots on screen, the tracking readout whole, the take list's columns
shown); Edit favours the stage view, the wall plan and the pixel map.

``tools/workspace_geometry.py`` opens the real console window in a child process on the Xvfb this
module starts (a Qt process has one platform: this one is offscreen) and writes the rectangles
as JSON; the tracking panel there shows a real TrackingHub fed FreeD on loopback.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT

XVFB = shutil.which("Xvfb")
SIZES = ((1920, 1080), (2560, 1440))
LIVE = {"health", "tracking", "colour", "preview", "takes"}
EDIT = {"catalog", "plan", "section", "canvases", "map", "problems"}
HEALTH_MIN_WIDTH_PX = 860
TAKE_LIST_MIN_PX = 520
"""A take list with takes in it (name, scene, roll, two timecodes, frames, status, circled) needs
about 500 px (measured at the console's font)."""

pytestmark = pytest.mark.skipif(XVFB is None, reason="Xvfb is not installed (Debian: apt-get install xvfb "
                                                     "libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0)")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb server, large enough for the largest size; its DISPLAY."""
    assert XVFB is not None
    read, write = os.pipe()
    server = subprocess.Popen([XVFB, "-displayfd", str(write), "-screen", "0", "2560x1440x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 15.0)  # Xvfb writes its display number once it listens
        number = os.read(read, 16).decode().strip() if ready else ""
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        os.close(read)
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def layouts(display: str, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, int, str], dict[str, Any]]:
    out = tmp_path_factory.mktemp("geometry") / "geometry.json"
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "VPSTAGE_CONFIG_DIR": str(out.parent / "config")}
    sizes = ",".join(f"{w}x{h}" for w, h in SIZES)
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "workspace_geometry.py"), "--out", str(out),
                             "--sizes", sizes], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return {(*r["window"], r["workspace"]): r for r in json.loads(out.read_text())}


def _needed(table: dict[str, Any]) -> int:
    """Width the columns need: each as its contents (the stretched last one: its header)."""
    return int(sum(table["widths"][:-1]) + table["header_hints"][-1])


def _inside(item: dict[str, Any]) -> bool:
    x, y, w, h = item["rect"]
    return x >= 0 and y >= 0 and x + w <= item["viewport"][0] and y + h <= item["viewport"][1]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_live_gives_health_tracking_and_takes_room(layouts: dict[tuple[int, int, str], Any],
                                                   size: tuple[int, int]) -> None:
    live = layouts[(*size, "live")]
    assert live["window"] == list(size)
    docks = live["docks"]
    assert {k for k, d in docks.items() if d["visible"]} == LIVE
    assert all(docks[k]["locked"] and not docks[k]["floating"] for k in LIVE)
    health, tracking, takes = live["health"], live["tracking"], live["takes"]
    assert docks["health"]["rect"][2] >= HEALTH_MIN_WIDTH_PX  # not a 190 px strip
    nodes = health["nodes"]
    assert _needed(nodes) <= nodes["viewport_width"] and not nodes["hscroll_visible"]  # GPU ... power W in view
    assert all(w >= hint for w, hint in zip(nodes["widths"], nodes["header_hints"], strict=True))
    assert _inside(health["panel"])  # the panel fits its dock: nothing below the fold
    assert health["plots"]["visible"] and _inside(health["plots"]) and health["plots"]["rect"][3] >= 300
    readout = tracking["readout"]
    assert tracking["tab"] == 0 and "focus" in tracking["readout_text"] and "stage" in tracking["readout_text"]
    assert readout["rect"][2] >= tracking["readout_hint"][0] and readout["rect"][3] >= tracking["readout_hint"][1]
    assert _inside(readout)  # the whole readout on screen: no "focus 2…"
    assert _needed(tracking["streams"]) <= tracking["streams"]["viewport_width"]
    assert _needed(takes) <= takes["viewport_width"] and not takes["hscroll_visible"] and _inside(takes)
    assert takes["viewport_width"] >= TAKE_LIST_MIN_PX  # a take list's timecodes, status... whole
    assert _inside(live["preview"])  # the preview's tiles and camera view without sideways scrolling
    stage = live["stage_view"]
    assert stage[2] >= size[0] * 0.2 and stage[3] >= size[1] * 0.35  # smaller than in Edit, still there


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_edit_favours_the_stage_view_plan_and_map(layouts: dict[tuple[int, int, str], Any],
                                                  size: tuple[int, int]) -> None:
    edit = layouts[(*size, "edit")]
    docks = edit["docks"]
    assert {k for k, d in docks.items() if not d["hidden"]} == EDIT
    assert not any(d["locked"] for d in docks.values())
    stage, plan, pixel_map = edit["stage_view"], edit["plan"], edit["map"]
    assert stage[2] >= size[0] * 0.5 and stage[3] >= size[1] * 0.5
    assert plan[2] >= size[0] * 0.25 and plan[3] >= size[1] * 0.45
    assert pixel_map[2] >= stage[2] * 0.95 and pixel_map[3] >= size[1] * 0.3
    assert pixel_map[1] > stage[1] + stage[3]  # under the stage view
    assert plan[0] >= stage[0] + stage[2]  # beside it
