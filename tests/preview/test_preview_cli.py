"""``main.py preview`` as an operator runs it: bad arguments refused before anything heavy loads,
progress while it renders (``-v`` off a terminal), and the procedural demo scene framed the way the console shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

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
    result = _main("-v", "preview", "procedural:demo", "-o", str(out), "--seconds", "5", "--fps", "1",
                   "--size", "64x36")
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("INFO cli.progress: preview: ")]
    assert progress[0].startswith("INFO cli.progress: preview: loading procedural:demo on cpu, then 5 frames")
    assert progress[1] == "INFO cli.progress: preview: frame 1/5 (20 %)"  # no rate yet: it paid for the loading
    assert progress[-1].startswith("INFO cli.progress: preview: frame 5/5 (100 %), ")
    assert progress[-1].endswith(("s a frame", "frames/s"))
    path = json.loads((tmp_path / "demo.path.json").read_text())
    assert path["framing"] == "stage"  # the procedural demo is a set in the stage frame
    eyes = np.array([np.array(f["camera_to_world"])[:3, 3] for f in path["frames"]])
    assert np.allclose(eyes[:, 2], 1.7) and np.all(np.linalg.norm(eyes[:, :2] - [0.0, 0.5], axis=1) < 2.01)
    thumbnail = cv2.imread(str(tmp_path / "demo.thumbnail.png"))[..., ::-1].astype(float)  # RGB
    assert (thumbnail.max(axis=2) < 16).mean() < 0.01  # the scene fills the frame: no black around a ball
    sky, ground = thumbnail[:4].mean(axis=(0, 1)), thumbnail[-6:].mean(axis=(0, 1))
    assert sky[2] > sky[0] and sky.mean() > 120  # a bright blue sky above
    assert ground[1] > ground[2] and ground[1] > ground[0] * 0.9  # green ground below
