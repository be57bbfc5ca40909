"""``main.py preview`` as an operator runs it: bad arguments refused before anything heavy loads,
progress while it renders, and the procedural demo scene framed the way the console shows it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.render_commands import FrameProgress, duration_text
from tests.conftest import ROOT


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("args", "message"), [
    (("--seconds", "2"), "seconds must be 5..10, got 2.0"),
    (("--size", "1279x720"), "size must be positive and even"),
    (("--fov", "5"), "vertical fov must be 10..120"),
    (("--background", "1,2"), "--background must be R,G,B"),
])
def test_bad_arguments_are_refused_before_the_renderer_loads(tmp_path: Path, args: tuple[str, ...],
                                                             message: str) -> None:
    out = tmp_path / "p.mp4"
    code = ("import sys\nfrom cli import main\n"
            f"code = main(['preview', 'procedural:demo', '-o', {str(out)!r}, *{list(args)!r}])\n"
            "print(code, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["2", "False"], result.stderr  # exit 2, torch never imported
    assert message in result.stderr and not out.exists()


def test_the_demo_scene_preview_reports_progress_and_shows_the_scene(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2", reason="OpenCV reads the thumbnail")
    pytest.importorskip("av", reason="PyAV encodes the video")
    out = tmp_path / "demo.mp4"
    result = _main("preview", "procedural:demo", "-o", str(out), "--seconds", "5", "--fps", "1", "--size", "64x36")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("preview: frame ")]
    assert progress[0].startswith("preview: frame 1/5 (20 %), ") and "left" in progress[0]
    assert progress[-1].startswith("preview: frame 5/5 (100 %), ")
    path = json.loads((tmp_path / "demo.path.json").read_text())
    assert path["framing"] == "stage"  # the procedural demo is a set in the stage frame
    eyes = np.array([np.array(f["camera_to_world"])[:3, 3] for f in path["frames"]])
    assert np.allclose(eyes[:, 2], 1.7) and np.all(np.linalg.norm(eyes[:, :2] - [0.0, 0.5], axis=1) < 2.01)
    thumbnail = cv2.imread(str(tmp_path / "demo.thumbnail.png"))[..., ::-1].astype(float)  # RGB
    assert (thumbnail.max(axis=2) < 16).mean() < 0.01  # the scene fills the frame: no black around a ball
    sky, ground = thumbnail[:4].mean(axis=(0, 1)), thumbnail[-6:].mean(axis=(0, 1))
    assert sky[2] > sky[0] and sky.mean() > 120  # a bright blue sky above
    assert ground[1] > ground[2] and ground[1] > ground[0] * 0.9  # green ground below


def test_progress_lines_say_how_far_and_how_long_is_left() -> None:
    now = [0.0]
    out = io.StringIO()
    progress = FrameProgress(out, every_s=2.0, clock=lambda: now[0])
    for done in range(1, 241):
        now[0] = done * 4.0  # four seconds a frame, as a 1280x720 CPU preview of the demo scene
        progress(done, 240, 0.0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "preview: frame 1/240 (0 %), 4.0 s a frame, about 15 min 56 s left"
    assert lines[-1] == "preview: frame 240/240 (100 %), 4.0 s a frame"
    assert len(lines) == 240  # a frame every 4 s is more than every 2 s: each one is reported
    assert duration_text(3725) == "1 h 02 min" and duration_text(59.6) == "1 min 00 s"
