"""The streaming H.264 encoder, checked by reading its files back with PyAV."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av", reason="PyAV is needed to encode video")

from devices.video import VideoEncoder, VideoEncoderError, top_level_boxes  # noqa: E402


def _frames(n: int, w: int = 96, h: int = 64) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        img = np.zeros((h, w, 3), dtype=np.uint8)
        img[:, (3 * i) % w:(3 * i) % w + 8] = (255, 128, 0)
        frames.append(img)
    return frames


@pytest.mark.parametrize("threaded", [True, False])
def test_h264_yuv420p_faststart_file(tmp_path, threaded: bool) -> None:
    path = tmp_path / "clip.mp4"
    with VideoEncoder(path, 96, 64, 30, crf=23, codec="libx264", threaded=threaded) as encoder:
        for frame in _frames(45):
            encoder.write(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]  # no temporary files left
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 30
        assert (stream.codec_context.width, stream.codec_context.height) == (96, 64)
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert float(stream.duration * stream.time_base) == pytest.approx(1.5)
    assert len(decoded) == 45
    assert decoded[10][:, 30:38].mean() > 100  # the moving bar is where it was drawn


def test_failure_leaves_no_partial_file_and_keeps_the_old_one(tmp_path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"previous video")
    with pytest.raises(RuntimeError, match="render died"), VideoEncoder(path, 96, 64, 30) as encoder:
        for frame in _frames(5):
            encoder.write(frame)
        raise RuntimeError("render died")
    assert path.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_bad_input_is_rejected(tmp_path) -> None:
    with pytest.raises(ValueError, match="even"):
        VideoEncoder(tmp_path / "odd.mp4", 95, 64)
    encoder = VideoEncoder(tmp_path / "a.mp4", 96, 64, threaded=False)
    with pytest.raises(ValueError, match="uint8"):
        encoder.write(np.zeros((64, 96, 3), dtype=np.float32))
    with pytest.raises(VideoEncoderError, match="no frames"):
        encoder.close()
    assert list(tmp_path.iterdir()) == []
