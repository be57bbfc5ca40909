"""NDI over loopback: the render nodes' senders, received by a real NDI receiver on 127.0.0.1.

Receivers connect straight to the sender's address as the node reports it (mDNS does not work on
this machine, and NDI's per-host listing answers for one process only).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from devices.outputs import NdiSender, bgrx_to_uyvy, write_loopback_config
from devices.outputs.ndi_runtime import ndi
from render.node.cluster import default_outputs, make_node_cluster
from tests.engine.helpers import tiny_stage, without_spare
from tests.waiting import wait_for
from vpstage.frame_master import FrameLoop, PatternSource
from vpstage.patterns import PatternPainter, PatternSpec, read_frame_counter
from vpstage.timing import Timecode, count_to_ndi_100ns

pytest.importorskip("NDIlib", reason="ndi-python is not installed")
pytestmark = pytest.mark.network


@dataclass(kw_only=True)
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
                out.append(Received(image=np.array(video.data, copy=True), timecode=video.timecode, xres=video.xres,
                                    yres=video.yres, rate=Fraction(video.frame_rate_N, video.frame_rate_D),
                                    fourcc=video.FourCC.name))
                self.lib.recv_free_video_v2(self.instance, video)
        return out

    def close(self) -> None:
        self.lib.recv_destroy(self.instance)




def test_loopback_config_file(tmp_path: object) -> None:
    from pathlib import Path

    path = write_loopback_config(Path(str(tmp_path)))
    assert json.loads(path.read_text()) == {"ndi": {"networks": {"ips": "127.0.0.1", "discovery": "127.0.0.1"}}}


@pytest.mark.slow
def test_two_node_processes_send_their_own_canvases() -> None:
    """Each render node is its own process with its own NDI sender; a receiver on loopback gets
    every canvas's frames with consecutive timecodes and the expected pixels, while the frame
    master receives no canvas pixels at all (nothing asked for a preview)."""
    stage = without_spare(tiny_stage())
    prefix = f"vpstage-test-{uuid.uuid4().hex[:6]}"
    cluster = make_node_cluster(stage, "local", outputs=default_outputs(stage, prefix=prefix, fourcc="UYVY"))
    loop = FrameLoop(stage, PatternSource(stage, PatternSpec(name="sync")), cluster)
    loop.clock.set_timecode(Timecode.parse("01:00:00:00", 30))
    painter = PatternPainter(stage.layout)
    try:
        loop.cluster.start()
        loop.start()
        assert loop.clock.tick(0).count >= 30 * 3600  # labelled from 01:00:00:00 on
        assert wait_for(lambda: {o["canvas"] for o in loop.report()["outputs"] if o["address"]} == {"front", "side"},
                        30)
        outputs = {o["canvas"]: o for o in loop.report()["outputs"]}
        assert outputs["front"]["node"] == "n1" and outputs["side"]["node"] == "n2"
        pids = {loop.cluster.node_info(n)["pid"] for n in ("n1", "n2")}
        assert len(pids) == 2 and os.getpid() not in pids
        for canvas in ("front", "side"):
            assert outputs[canvas]["name"].endswith(f"({prefix} {canvas})")
            assert "listening on 127.0.0.1" in outputs[canvas]["detail"]  # rehearsal: nothing on the network
            receiver = Receiver(outputs[canvas]["address"])
            got = consecutive_run(receiver, loop, run=8)
            receiver.close()
            check_frames(got, loop, painter, canvas, run=8)
    finally:
        loop.stop()
        report = loop.report()
        loop.close()
    previews = report["previews"]
    assert previews["bytes_received"] == 0 and previews["budget_bytes"] == 0
    frame_bytes = 192 * 64 * 2
    assert previews["link_bytes_received"] < frame_bytes  # every report of the run, less than one canvas


def frame_count(loop: FrameLoop, timecode_100ns: int) -> int:
    """The frame count an NDI timecode of ``loop``'s run names (30 fps)."""
    first = loop.clock.tick(0).count
    return next(c for c in range(first, first + 100_000) if count_to_ndi_100ns(c, Fraction(30)) == timecode_100ns)


def consecutive_run(receiver: Receiver, loop: FrameLoop, run: int = 4, limit: int = 150,
                    timeout_s: float = 30.0) -> list[Received]:
    """Frames until the last ``run`` of them carry consecutive timecodes (at most ``limit`` frames
    or ``timeout_s``). A loaded machine makes nodes miss deadlines: a missed frame repeats the
    previous picture with its own timecode, so the run may take a while to come."""
    out: list[Received] = []
    counts: list[int] = []
    give_up = time.monotonic() + timeout_s
    while len(out) < limit and time.monotonic() < give_up:
        got = receiver.frames(1, timeout_s=max(0.1, give_up - time.monotonic()))
        out += got
        counts += [frame_count(loop, frame.timecode) for frame in got]
        if len(counts) >= run and np.diff(counts[-run:]).tolist() == [1] * (run - 1):
            break
    return out


def check_frames(frames: list[Received], loop: FrameLoop, painter: PatternPainter, canvas: str,
                 run: int = 4) -> None:
    """Each frame is the picture of the frame its timecode names (the counter strip agrees where the
    canvas is large enough to carry one; a repeat carries its own picture's timecode), timecodes
    never go back, and the last ``run`` frames' timecodes follow one another (``consecutive_run``)."""
    first = loop.clock.tick(0).count
    counts = []
    for got in frames:
        size = painter.still_layer(canvas, PatternSpec(name="sync")).shape
        assert (got.yres, got.xres, got.rate) == (size[0], size[1], Fraction(30))
        count = frame_count(loop, got.timecode)
        frame = count - first
        counter = read_frame_counter(got.image)
        assert counter in (None, frame)
        counts.append(count)
        expected = painter.paint(canvas, PatternSpec(name="sync"), frame)[..., :3].astype(np.int16)
        assert np.abs(got.image[..., :3].astype(np.int16) - expected).mean() < 6  # SpeedHQ is lossy
    assert counts == sorted(counts)
    assert len(counts) >= run and list(np.diff(counts[-run:])) == [1] * (run - 1), \
        f"no {run} consecutive timecodes: {counts}"


@pytest.mark.parametrize("packed", [False, True])
def test_uyvy_sender_round_trip(packed: bool) -> None:
    """A UYVY sender takes BGRX (converted here) or UYVY packed on a render node's GPU as it is."""
    sender = NdiSender(f"vpstage-test-uyvy-{uuid.uuid4().hex[:6]}", Fraction(25), fourcc="UYVY")
    try:
        address = sender.address()
        assert address is not None and address.startswith("127.0.0.1:")
        image = np.zeros((64, 128, 4), np.uint8)
        image[..., 3] = 255
        for i, level in enumerate((0, 64, 128, 192, 255, 255, 0, 128)):
            image[:, i * 16:(i + 1) * 16, :3] = level
        pixels = bgrx_to_uyvy(image) if packed else image
        receiver = Receiver(address)
        got: list[Received] = []
        for _ in range(50):
            sender.send(pixels, 1234)
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


def test_a_p216_sender_carries_10_bit_code_values_to_a_receiver() -> None:
    """A 10-bit canvas packed as P216 on its node reaches a receiver on loopback as 16-bit P216 with
    its luma codes intact on flat patches (ndi-python hands a receiver the Y plane only)."""
    import torch

    from render.node.pixel_formats import Packing, rgb_to_p216

    levels = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, 0.333)
    rgb = torch.zeros((64, 128, 3))
    for i, level in enumerate(levels):
        rgb[:, i * 16:(i + 1) * 16] = level
    packing = Packing("P216", 10, "709")
    pixels = rgb_to_p216(rgb, torch.empty(packing.shape(128, 64), dtype=torch.uint8), packing).numpy()
    sender = NdiSender(f"vpstage-test-p216-{uuid.uuid4().hex[:6]}", Fraction(25), fourcc="P216")
    try:
        address = sender.address()
        assert address is not None
        lib = ndi("loopback")
        settings = lib.RecvCreateV3()
        settings.color_format = lib.RECV_COLOR_FORMAT_BEST  # native formats: 16-bit stays 16-bit
        receiver = lib.recv_create_v3(settings)
        source = lib.Source()
        source.url_address = address
        lib.recv_connect(receiver, source)
        luma = None
        for _ in range(100):
            sender.send(pixels, 1234)
            kind, video, _audio, _meta = lib.recv_capture_v2(receiver, 100)
            if kind == lib.FRAME_TYPE_VIDEO:
                assert (video.FourCC.name, video.xres, video.yres) == ("FOURCC_VIDEO_TYPE_P216", 128, 64)
                luma = np.array(video.data, copy=True).reshape(-1).view(np.uint16)[:64 * 128].reshape(64, 128)
                lib.recv_free_video_v2(receiver, video)
                break
        lib.recv_destroy(receiver)
        assert luma is not None, "no frame arrived"
        sent = pixels.reshape(-1).view(np.uint16)[:64 * 128].reshape(64, 128)
        np.testing.assert_array_equal(luma[32, 8::16] >> 6, sent[32, 8::16] >> 6)
        assert list(sent[32, 8::16] >> 6) == [round((16 + 219 * v) * 4) for v in levels]
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


def test_the_async_send_frame_has_the_sdk_layout() -> None:
    """``NDIlib_video_frame_v2_t`` on x86-64, as the SDK header lays it out."""
    import ctypes

    from devices.outputs.ndi_async_send import VideoFrameV2

    offsets = {name: getattr(VideoFrameV2, name).offset for name, _ in VideoFrameV2._fields_}
    assert offsets == {"xres": 0, "yres": 4, "FourCC": 8, "frame_rate_N": 12, "frame_rate_D": 16,
                       "picture_aspect_ratio": 20, "frame_format_type": 24, "timecode": 32, "p_data": 40,
                       "line_stride_in_bytes": 48, "p_metadata": 56, "timestamp": 64}
    assert ctypes.sizeof(VideoFrameV2) == 72
