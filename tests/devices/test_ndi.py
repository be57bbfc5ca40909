"""NDI over loopback: the frame loop's senders, received by a real NDI receiver on 127.0.0.1.

Receivers connect straight to the sender's address (mDNS does not work on this machine; the
loopback configuration makes the senders findable through 127.0.0.1).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from devices.outputs import NdiPresenter, NdiSender, bgrx_to_uyvy, find_source_addresses, write_loopback_config
from devices.outputs.ndi_runtime import ndi
from render.worker import RenderWorker
from tests.engine.helpers import tiny_stage
from vpstage.engine import EmbeddedCluster, FrameLoop, PatternJobSource, worker_specs
from vpstage.patterns import PatternPainter, PatternSpec, read_frame_counter
from vpstage.timing import Timecode, count_to_ndi_100ns

pytest.importorskip("NDIlib", reason="ndi-python is not installed")
pytestmark = pytest.mark.network


@dataclass
class Received:
    image: np.ndarray
    timecode: int
    xres: int
    yres: int
    rate: Fraction
    fourcc: str


class Receiver:
    """A plain NDI receiver asking for BGRX, connected to ``address``."""

    def __init__(self, address: str) -> None:
        self.lib = ndi("loopback")
        settings = self.lib.RecvCreateV3()
        settings.color_format = self.lib.RECV_COLOR_FORMAT_BGRX_BGRA
        self.instance = self.lib.recv_create_v3(settings)
        source = self.lib.Source()
        source.url_address = address
        self.lib.recv_connect(self.instance, source)

    def frames(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        out: list[Received] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < count and time.monotonic() < deadline:
            kind, video, _audio, _meta = self.lib.recv_capture_v2(self.instance, 100)
            if kind == self.lib.FRAME_TYPE_VIDEO:
                out.append(Received(np.array(video.data, copy=True), video.timecode, video.xres, video.yres,
                                    Fraction(video.frame_rate_N, video.frame_rate_D), video.FourCC.name))
                self.lib.recv_free_video_v2(self.instance, video)
        return out

    def close(self) -> None:
        self.lib.recv_destroy(self.instance)


@pytest.fixture
def running_loop() -> Iterator[tuple[FrameLoop, NdiPresenter]]:
    stage = tiny_stage()
    presenter = NdiPresenter(stage, prefix=f"vpstage-test-{uuid.uuid4().hex[:6]}")
    loop = FrameLoop(stage, PatternJobSource(stage, PatternSpec("sync")),
                     EmbeddedCluster(worker_specs(stage), RenderWorker), [presenter])
    loop.clock.set_timecode(Timecode.parse("01:00:00:00", 30))
    errors: list[tuple[str, str]] = []
    loop.events.output_error.connect(lambda canvas, message: errors.append((canvas, message)))
    loop.start()
    yield loop, presenter
    loop.close()
    assert errors == []


def check_frames(frames: list[Received], loop: FrameLoop, painter: PatternPainter) -> list[int]:
    numbers = []
    for got in frames:
        assert (got.xres, got.yres, got.rate) == (192, 64, Fraction(30))
        frame = read_frame_counter(got.image)
        assert frame is not None, "the frame counter strip did not survive"
        numbers.append(frame)
        assert got.timecode == count_to_ndi_100ns(loop.clock.tick(frame).count, Fraction(30))
        assert got.timecode >= 36_000_000_000  # labelled from 01:00:00:00 on
        expected = painter.paint("front", PatternSpec("sync"), frame)[..., :3].astype(np.int16)
        assert np.abs(got.image[..., :3].astype(np.int16) - expected).mean() < 6  # SpeedHQ is lossy
    assert numbers == sorted(numbers)
    return numbers


def test_loopback_config_file(tmp_path: object) -> None:
    from pathlib import Path

    path = write_loopback_config(Path(str(tmp_path)))
    assert json.loads(path.read_text()) == {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": "127.0.0.1"}}}


def test_frames_arrive_with_their_pixels_and_timecode_and_survive_a_reconnect(
        running_loop: tuple[FrameLoop, NdiPresenter]) -> None:
    loop, presenter = running_loop
    painter = PatternPainter(loop.stage.layout)
    outputs = {o.canvas: o for o in presenter.outputs()}
    assert set(outputs) == {"front", "side"}
    front = outputs["front"]
    assert front.address is not None and front.address.startswith("127.0.0.1:")
    assert front.name.endswith(f"({presenter.senders['front'].name})")
    receiver = Receiver(front.address)
    first = check_frames(receiver.frames(10), loop, painter)
    assert len(first) == 10
    receiver.close()  # the receiver goes away; the sender carries on
    frames_before = loop.history.frames
    time.sleep(0.5)
    assert loop.history.frames > frames_before + 5 and loop.error is None
    receiver = Receiver(front.address)
    again = check_frames(receiver.frames(5), loop, painter)
    receiver.close()
    assert len(again) == 5 and again[0] > first[-1] + 5
    report = loop.report()
    assert {(o["canvas"], o["kind"]) for o in report["outputs"]} == {("front", "ndi"), ("side", "ndi")}
    assert all(o["address"] for o in report["outputs"])


def test_uyvy_sender_round_trip() -> None:
    sender = NdiSender(f"vpstage-test-uyvy-{uuid.uuid4().hex[:6]}", Fraction(25), fourcc="UYVY")
    try:
        address = find_source_addresses([sender.source_name()])[sender.source_name()]
        image = np.zeros((64, 128, 4), np.uint8)
        image[..., 3] = 255
        for i, level in enumerate((0, 64, 128, 192, 255, 255, 0, 128)):
            image[:, i * 16:(i + 1) * 16, :3] = level
        receiver = Receiver(address)
        got: list[Received] = []
        for _ in range(50):
            sender.send(image, 1234)
            got += receiver.frames(1, timeout_s=0.1)
            if got:
                break
        receiver.close()
        assert got and got[0].timecode == 1234 and (got[0].xres, got[0].yres) == (128, 64)
        centres = got[0].image[32, 8::16, :3].astype(int)
        levels = image[32, 8::16, :3].astype(int)
        assert np.abs(centres - levels).max() <= 6
    finally:
        sender.close()


def test_uyvy_conversion_values() -> None:
    image = np.zeros((2, 4, 4), np.uint8)
    image[:, 0:2, :3] = 255  # white
    image[:, 2:4, 2] = 255  # red (BGRX: R is index 2)
    uyvy = bgrx_to_uyvy(image)
    assert uyvy.shape == (2, 4, 2)
    assert list(uyvy[0, 0:2].ravel()) == [128, 235, 128, 235]  # U Y V Y of white
    u, y0, v, y1 = uyvy[0, 2:4].ravel()
    assert (y0, y1) == (63, 63) and u == 102 and v == 240  # Rec. 709 red
    with pytest.raises(ValueError, match="even width"):
        bgrx_to_uyvy(np.zeros((2, 3, 4), np.uint8))
