"""Preview videos: the video file (PyAV), the camera path JSON and the failure modes."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch

av = pytest.importorskip("av", reason="PyAV is needed to encode preview videos")

from cli import main  # noqa: E402
from devices.video import top_level_boxes  # noqa: E402
from render.assets import PinholeCamera, RenderOutput  # noqa: E402
from render.preview import PreviewOptions, render_preview  # noqa: E402
from render.splat.asset import SplatAsset  # noqa: E402
from render.splat.io import save_splat  # noqa: E402
from render.splat.model import AssetFrame, SplatModel  # noqa: E402

SMALL = {"width": 64, "height": 36, "seconds": 5.0}


def small_asset(up: str = "z") -> SplatAsset:
    rng = np.random.default_rng(0)
    n = 400
    positions = rng.normal(size=(n, 3)) * [1.0, 0.6, 0.4] + [2.0, -1.0, 0.5]
    model = SplatModel.from_numpy(positions, np.full((n, 3), 0.08), np.tile([1.0, 0, 0, 0], (n, 1)),
                                  np.full(n, 0.9), rng.uniform(-1, 1, (n, 1, 3)), frame=AssetFrame("test", up))
    return SplatAsset(model, "blob")


def test_video_is_h264_yuv420p_30fps_faststart(tmp_path) -> None:
    seen: list[tuple[int, int, float]] = []
    result = render_preview(small_asset(), tmp_path / "preview.mp4", PreviewOptions(**SMALL),
                            progress=lambda done, total, render_s: seen.append((done, total, render_s)))
    assert result.frames == 150
    assert [(done, total) for done, total, _ in seen] == [(i, 150) for i in range(1, 151)]  # after every frame
    assert all(a[2] <= b[2] for a, b in itertools.pairwise(seen)) and seen[-1][2] > 0
    boxes = top_level_boxes(result.video)
    assert boxes.index("moov") < boxes.index("mdat")
    with av.open(str(result.video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 30
        assert float(stream.duration * stream.time_base) == pytest.approx(5.0)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == 150
    assert all(f.mean() > 3 for f in frames[::25])  # the asset is in view all the way round
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.mp4", "preview.path.json",
                                                          "preview.thumbnail.png"]
    import cv2

    thumbnail = cv2.imread(str(result.thumbnail))
    assert thumbnail.shape == (36, 64, 3)


def _azimuths_and_elevations(doc: dict, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centroid = np.array(doc["centroid"])
    helper = np.roll(np.abs(up), 1)
    e1 = helper - helper @ up * up
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    azimuths, elevations = [], []
    for frame in doc["frames"]:
        pose = np.array(frame["camera_to_world"])
        offset = pose[:3, 3] - centroid
        elevations.append(math.degrees(math.asin(offset @ up / np.linalg.norm(offset))))
        azimuths.append(math.degrees(math.atan2(offset @ e2, offset @ e1)))
        forward = pose[:3, 2]  # OpenCV +z looks at the centroid
        np.testing.assert_allclose(forward, -offset / np.linalg.norm(offset), atol=1e-9)
        assert pose[:3, 1] @ up < 0  # image down points away from up
        np.testing.assert_allclose(pose[:3, :3].T @ pose[:3, :3], np.eye(3), atol=1e-9)
    return np.unwrap(np.radians(azimuths)), np.array(elevations)


@pytest.mark.parametrize(("arc", "elevation", "up"), [(360.0, 35.0, "z"), (270.0, 42.0, "-y")])
def test_camera_path_orbits_the_centroid(tmp_path, arc: float, elevation: float, up: str) -> None:
    asset = small_asset(up)
    options = PreviewOptions(**SMALL, arc_deg=arc, elevation_deg=elevation)
    result = render_preview(asset, tmp_path / "p.mp4", options)
    doc = json.loads(result.path_json.read_text())
    lo, hi = asset.bounds()
    np.testing.assert_allclose(doc["centroid"], (lo + hi) / 2)
    assert len(doc["frames"]) == 150 and doc["frames"][0]["vertical_fov_deg"] == 45.0
    up_vector = np.array(doc["up"])
    azimuths, elevations = _azimuths_and_elevations(doc, up_vector)
    np.testing.assert_allclose(elevations, elevation, atol=1e-9)
    covered = math.degrees(abs(azimuths[-1] - azimuths[0]))
    assert covered >= 270.0 - 1e-6 and covered == pytest.approx(arc * (149 / 150 if arc == 360 else 1.0))
    steps = np.diff(azimuths)
    np.testing.assert_allclose(steps, steps[0], atol=1e-9)  # constant angular speed: smooth
    radius = np.linalg.norm(np.array(doc["frames"][0]["camera_to_world"])[:3, 3] - doc["centroid"])
    assert radius > 0.5 * np.linalg.norm(hi - lo) / math.sin(math.radians(22.5))  # frames the asset


class _DiesAfter:
    """A SceneAsset double whose renderer fails part-way (a GPU dropping out, say)."""

    kind, supports_rays, name, up_axis = "splat", False, "dies", "z"

    def __init__(self, inner: SplatAsset, frames: int) -> None:
        self.inner, self.left = inner, frames

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.bounds()

    def render_pinhole(self, camera: PinholeCamera, **kwargs: object) -> RenderOutput:
        self.left -= 1
        if self.left < 0:
            raise RuntimeError("device lost")
        return self.inner.render_pinhole(camera)


def test_failure_part_way_leaves_no_partial_video(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="device lost"):
        render_preview(_DiesAfter(small_asset(), 20), tmp_path / "p.mp4", PreviewOptions(**SMALL))
    assert list(tmp_path.iterdir()) == []


def test_options_are_validated() -> None:
    for bad in ({"elevation_deg": 50.0}, {"arc_deg": 200.0}, {"seconds": 12.0}, {"width": 63}):
        with pytest.raises(ValueError):
            PreviewOptions(**{**SMALL, **bad}).validate()


def test_cli_preview_and_best_effort(tmp_path, capsys) -> None:
    asset_path = tmp_path / "blob.ply"
    save_splat(small_asset().model, asset_path)
    out = tmp_path / "out" / "preview.mp4"
    code = main(["preview", str(asset_path), "-o", str(out), "--size", "64x36", "--seconds", "5",
                 "--elevation", "30", "--arc", "300", "--up", "z"])
    assert code == 0 and out.is_file()
    doc = json.loads((tmp_path / "out" / "preview.path.json").read_text())
    assert doc["arc_deg"] == 300.0 and doc["elevation_deg"] == 30.0
    missing = tmp_path / "gone.ply"
    assert main(["preview", str(missing), "-o", str(tmp_path / "x.mp4"), "--size", "64x36"]) == 1
    code = main(["preview", str(missing), "-o", str(tmp_path / "x.mp4"), "--size", "64x36", "--best-effort"])
    assert code == 0
    assert "warning: preview of" in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()
    assert torch.cuda.is_available() or main(["preview", str(asset_path), "--device", "cuda",
                                              "-o", str(tmp_path / "y.mp4"), "--best-effort"]) == 0
