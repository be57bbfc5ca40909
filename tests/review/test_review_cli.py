"""``main.py takes render`` in a subprocess: the file it writes, what it prints, exit codes."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

av = pytest.importorskip("av", reason="PyAV is needed to encode review videos")

from tests.conftest import ROOT  # noqa: E402
from tests.review.takes import DEMO_STAGE, record_review_take  # noqa: E402
from vpstage.stage import Stage, save_project  # noqa: E402


def run(*args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *flags, "takes", "render", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """show.yaml (the demo stage) with take B001_T01: 6 frames at 30 fps, the camera moving once."""
    folder = tmp_path_factory.mktemp("show")
    save_project(Stage.open(DEMO_STAGE).project, folder / "show.yaml")
    record_review_take(folder / "takes" / "takes.sqlite", "B001", 6, rate=Fraction(30), stage_file=folder / "show.yaml")
    return folder / "show.yaml"


def test_render_high_quality(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.mp4"
    done = run("B001_T01", "-o", str(out), "--size", "160x90", "--quality", "high", "--device", "cpu",
               "--project", str(project), flags=("-v",))
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("INFO cli.progress: ")]
    assert progress[0] == "INFO cli.progress: takes render: frame 1/6 (16 %)"
    assert progress[-1].startswith("INFO cli.progress: takes render: frame 6/6 (100 %), ")
    assert f"wrote {out}: 6 frames (2 rendered" in done.stdout
    assert "0.200 s at 30/1 fps, 160x90" in done.stdout and "quality high, camera A" in done.stdout
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (stream.average_rate, stream.time_base, stream.duration) == (30, Fraction(1, 30), 6)
        assert len(list(container.decode(stream))) == 6


def test_errors_exit_codes_and_no_file(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    missing = run("B001_T07", "-o", str(out), "--project", str(project))
    assert missing.returncode == 1 and "no take B001_T07" in missing.stderr
    camera = run("B001_T01", "-o", str(out), "--camera", "Z", "--db", str(project.parent / "takes" / "takes.sqlite"))
    assert camera.returncode == 1 and "no camera 'Z' (cameras: A)" in camera.stderr
    size = run("B001_T01", "-o", str(out), "--size", "161x90", "--project", str(project))
    assert size.returncode == 2 and "even" in size.stderr
    garbled = run("B001_T01", "-o", str(out), "--size", "big", "--project", str(project))
    assert garbled.returncode == 2 and "WxH" in garbled.stderr
    assert list(tmp_path.iterdir()) == []
