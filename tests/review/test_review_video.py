"""Review videos of real recorded takes on the demo stage, read back with PyAV."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="PyAV is needed to encode review videos")
pytest.importorskip("torch", reason="the scene renderer needs torch")

from devices.video import top_level_boxes  # noqa: E402
from render.review import ReviewCancelled, ReviewError, ReviewOptions, render_take_review  # noqa: E402
from render.review_scene import ReviewScene  # noqa: E402
from tests.review.takes import DEMO_STAGE, record_review_take, write_slab  # noqa: E402
from vpstage.patterns.burnin import BurnInLine, burn_in_box  # noqa: E402
from vpstage.stage import Stage, save_project  # noqa: E402
from vpstage.stage.model import Placement, SceneAsset  # noqa: E402
from vpstage.takes import TakeLibrary  # noqa: E402

SIZE = (160, 90)
RATE = Fraction(24000, 1001)


def decode(path: Path) -> tuple[list[np.ndarray], list[int], object]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.to_ndarray(format="rgb24"), f.pts) for f in container.decode(stream)]
        info = (stream.codec_context.name, stream.codec_context.pix_fmt, stream.average_rate, stream.time_base,
                stream.duration, stream.codec_context.width, stream.codec_context.height)
    return [f for f, _ in frames], [p for _, p in frames], info


def box_mask(alert: bool) -> np.ndarray:
    """Where the burn-in box is, without or with the hold line."""
    lines = [BurnInLine("A001_T01  CAM A"), BurnInLine("TC 01:00:00:00")]
    if alert:
        lines.append(BurnInLine("tracking gap - hold", alert=True))
    x0, y0, x1, y1, _ = burn_in_box(SIZE[1], SIZE[0], lines)
    mask = np.zeros((SIZE[1], SIZE[0]), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def diff(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute difference (0..255) over the pixels of ``mask``."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16))[mask].mean())


def changed(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> int:
    """Pixels of ``mask`` that differ by more than coding noise (a glyph stroke on the dark box)."""
    return int((np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > 60)[mask].sum())


@pytest.fixture(scope="module")
def demo_take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A001_T01: 20 frames at 24000/1001 (the camera moves every 4 frames), frame 9 lost by the
    recorder, tracking gap at frames 15-17."""
    db = tmp_path_factory.mktemp("show") / "takes" / "takes.sqlite"
    record_review_take(db, "A001", 20, rate=RATE, gap=(15, 16, 17), skip=(9,))
    return db


def test_review_video_of_a_take(demo_take: Path, tmp_path: Path) -> None:
    out = tmp_path / "review" / "take.mp4"
    seen: list[tuple[int, int]] = []
    with TakeLibrary(demo_take) as library:
        result = render_take_review(library, "A001_T01", out, ReviewOptions(size=SIZE, codec="libx264", crf=8),
                                    project_dir=demo_take.parent.parent, progress=lambda d, n: seen.append((d, n)))
    assert (result.frames, result.tracking_gaps, result.not_recorded, result.camera) == (20, 3, 1, "A")
    assert result.rendered == 5  # one picture per camera position seen, none in the gap
    assert result.duration_s == pytest.approx(20 * 1001 / 24000)
    assert seen[-1] == (20, 20) and len(seen) == 20
    assert sorted(p.name for p in out.parent.iterdir()) == ["take.mp4"]

    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    frames, pts, info = decode(out)
    assert info == ("h264", "yuv420p", RATE, Fraction(1, 24000), 20 * 1001, *SIZE)
    assert pts == [i * 1001 for i in range(20)]

    box, scene = box_mask(False), ~box_mask(True)
    hold_line = box_mask(True) & ~box
    assert frames[1][scene].mean() > 20 and frames[1][scene].std() > 20  # the scene is there
    assert diff(frames[1], frames[2], scene) < 2                          # same position, same picture,
    assert changed(frames[1], frames[2], box) >= 5                        # but another timecode
    assert diff(frames[3], frames[4], scene) > 5                          # the camera moved
    for held in (15, 16, 17):                                             # gap: frame 14's picture (the
        assert diff(frames[held], frames[14], scene) < 2                  # camera moved at 16), and
        assert changed(frames[held], frames[14], hold_line) >= 20        # the amber line says so
    assert diff(frames[18], frames[14], scene) > 5
    assert changed(frames[9], frames[8], hold_line) >= 20                 # not recorded: held, said so


def test_composites_assets_by_depth_with_relative_paths(tmp_path: Path) -> None:
    """A second asset in a file beside the project, in a scene frame twice the stage's: its red
    slab, 3 m in front of the camera, covers the demo scene behind it."""
    (tmp_path / "assets").mkdir()
    write_slab(tmp_path / "assets" / "slab.ply", 2.0)
    project = Stage.open(DEMO_STAGE).project
    slab = SceneAsset(name="slab", path="assets/slab.ply", placement=Placement(scale=2.0))
    project = project.model_copy(update={"scene": [*project.scene, slab]})
    save_project(project, tmp_path / "show.yaml")
    db = tmp_path / "takes" / "takes.sqlite"
    record_review_take(db, "S001", 2, rate=Fraction(25), stage_file=tmp_path / "show.yaml")
    with TakeLibrary(db) as library:
        result = render_take_review(library, "S001_T01", tmp_path / "s.mp4", ReviewOptions(size=SIZE),
                                    project_dir=tmp_path)
    frames, _, _ = decode(result.path)
    red = (frames[0][..., 0] > 150) & (frames[0][..., 1] < 80) & (frames[0][..., 2] < 80)
    assert 0.05 < red.mean() < 0.6                                # the slab covers part of the view
    ys, xs = np.nonzero(red)
    assert SIZE[1] * 0.1 < ys.mean() < SIZE[1] * 0.9 and SIZE[0] * 0.2 < xs.mean() < SIZE[0] * 0.8

    with TakeLibrary(db) as library:  # draft: rendered at half size, scaled up to the same picture
        draft = render_take_review(library, "S001_T01", tmp_path / "d.mp4", ReviewOptions(size=SIZE, quality="draft"),
                                   project_dir=tmp_path)
    frames, _, _ = decode(draft.path)
    assert (draft.width, draft.height, draft.rendered) == (*SIZE, 1)
    red_draft = (frames[0][..., 0] > 150) & (frames[0][..., 1] < 80) & (frames[0][..., 2] < 80)
    assert (red_draft != red).mean() < 0.03

    (tmp_path / "assets" / "slab.ply").unlink()
    with TakeLibrary(db) as library, pytest.raises(ReviewError, match=r"slab.*assets/slab\.ply"):
        render_take_review(library, "S001_T01", tmp_path / "gone.mp4", ReviewOptions(size=SIZE), project_dir=tmp_path)
    assert not (tmp_path / "gone.mp4").exists()


def test_a_failure_or_cancel_leaves_no_file(demo_take: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "take.mp4"
    out.write_bytes(b"the previous review")
    calls = 0
    original = ReviewScene.render

    def failing(self: ReviewScene, *args: object) -> object:  # the device fails on the second picture
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("CUDA error: device lost")
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ReviewScene, "render", failing)
    with TakeLibrary(demo_take) as library:
        with pytest.raises(ReviewError, match="device lost"):
            render_take_review(library, "A001_T01", out, ReviewOptions(size=SIZE), project_dir=tmp_path)
        cancel = threading.Event()
        with pytest.raises(ReviewCancelled):
            render_take_review(library, "A001_T01", tmp_path / "c.mp4", ReviewOptions(size=SIZE), project_dir=tmp_path,
                               progress=lambda done, total: cancel.set(), cancel=cancel)
    assert out.read_bytes() == b"the previous review"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mp4"]
