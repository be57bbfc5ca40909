"""The preview's encoder: NVENC only for CUDA renders where it opens (libx264 otherwise, with the
reason), and an encoder opening on a worker thread that keeps every frame, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av", reason="PyAV is needed to encode preview videos")

from devices.video import VideoEncoderError, nvenc_available  # noqa: E402
from render.preview_encoder import NVENC, X264, PreviewEncoder, choose_encoder  # noqa: E402


def _never(*_: object) -> bool:
    raise AssertionError("asked although the answer cannot matter")


def test_cpu_renders_use_libx264_without_probing_nvenc() -> None:
    choice = choose_encoder("cpu", available=_never, nvenc_opens=_never)
    assert choice.codec == X264 and "rendering on cpu" in choice.reason


def test_cuda_renders_fall_back_to_libx264_without_an_nvenc_build_or_session() -> None:
    no_build = choose_encoder("cuda", available=lambda: {X264}, nvenc_opens=_never)
    assert no_build.codec == X264 and "no h264_nvenc" in no_build.reason
    no_session = choose_encoder("cuda:0", available=lambda: {X264, NVENC}, nvenc_opens=lambda: False)
    assert no_session.codec == X264 and "did not open" in no_session.reason
    assert choose_encoder("cuda", available=lambda: {NVENC}, nvenc_opens=lambda: True).codec == NVENC


def test_this_machine_falls_back_to_libx264() -> None:
    if nvenc_available():
        pytest.skip("NVENC opens on this machine")
    assert choose_encoder("cuda").codec == X264


def test_a_requested_codec_is_taken_as_it_is() -> None:
    assert choose_encoder("cuda", "libx264", available=_never, nvenc_opens=_never).reason == "requested"


def test_frames_written_while_the_encoder_opens_are_kept_in_order(tmp_path: Path) -> None:
    colours = [(i * 20, 255 - i * 20, (i * 53) % 256) for i in range(12)]
    with PreviewEncoder(tmp_path / "v.mp4", 64, 32, 30, crf=0, render_device="cpu") as encoder:
        for colour in colours:  # the first ones arrive before the worker has opened the encoder
            encoder.write(np.full((32, 64, 3), colour, dtype=np.uint8))
        encoded = encoder.close()
    assert encoded.frames == 12 and encoded.codec == X264 and encoder.choice is not None
    with av.open(str(tmp_path / "v.mp4")) as container:
        decoded = [f.to_ndarray(format="rgb24")[16, 32].astype(int) for f in container.decode(video=0)]
    assert len(decoded) == 12
    for got, want in zip(decoded, colours, strict=True):
        assert np.abs(got - want).max() <= 8  # yuv420p rounding
    assert encoder.timings_s["encoder_ready"] > 0.0


def test_an_encoder_that_cannot_open_fails_on_the_callers_thread_and_leaves_nothing(tmp_path: Path) -> None:
    encoder = PreviewEncoder(tmp_path / "v.mp4", 64, 32, 30, codec="no-such-codec")
    with pytest.raises(VideoEncoderError, match="cannot open no-such-codec"), encoder:
        for _ in range(20):
            encoder.write(np.zeros((32, 64, 3), dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_abort_before_the_encoder_is_ready_leaves_nothing(tmp_path: Path) -> None:
    encoder = PreviewEncoder(tmp_path / "v.mp4", 64, 32, 30)
    encoder.write(np.zeros((32, 64, 3), dtype=np.uint8))
    encoder.abort()
    encoder.abort()
    assert list(tmp_path.iterdir()) == []
