"""Messages between the frame master and its render nodes: golden bytes, round trips, and every
kind of bad message refused with a named reason, over a real socket pair."""

from __future__ import annotations

import math
import socket
import struct

import msgpack
import numpy as np
import pytest

from vpstage.colour.grading import RegionGrade
from vpstage.nodes.channel import Channel, ChannelClosed
from vpstage.nodes.codec import HEADER_SIZE, MAGIC, Kind, WireError, decode, decode_header, encode
from vpstage.nodes.jobs import AssetPlacement, OuterView, RenderQuality
from vpstage.nodes.messages import (
    CameraOrder,
    FrameOrder,
    FrameReport,
    Ping,
    Pong,
    SceneOrder,
    Stop,
    Thumbnail,
    ThumbnailRequest,
)
from vpstage.patterns import PatternSpec
from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import LensDistortion

PING_GOLDEN = bytes.fromhex("56504e44" "01" "09" "0000" "00000009") + bytes.fromhex("81a46e6f6465cd3039")
"""Ping(node_ns=12345): magic VPND, version 1, kind 9, flags 0, length 9, then {"node": 12345}."""


DISTORTION = LensDistortion(model="Brown-Conrady U-D", radial=(-0.21, 0.034, -0.0021, 0.0013, -4e-4, 2.5e-5),
                            tangential=(1.5e-4, -2.5e-4), overscan=1.125, offset_mm=(0.031, -0.047))


REGION = RegionGrade(canvas="front", rect=(10, 20, 110, 70), feather_px=12.5, lift=(0.01, -0.02, 0.0),
                     gamma=(1.1, 0.9, 1.0), gain=(1.05, 1.0, 0.95), saturation=0.8)


def camera_state() -> CameraState:
    return CameraState.from_pan_tilt_roll((0.5, -3.0, 1.6), 12.0, -3.0, 0.5, 35.0, 24.88, 13.99, 1920, 1080,
                                          focus_distance_m=4.0, time_ns=123_456, extra={"entrance_pupil_m": 0.12},
                                          distortion=DISTORTION)


def frame_order() -> FrameOrder:
    matrix = np.eye(4)
    matrix[:3, 3] = (1.0, 2.0, 3.0)
    scene = SceneOrder(placements=(AssetPlacement("demo", matrix, True),),
                       outer=OuterView((0.0, 0.0, 1.7), "abc123"), quality=RenderQuality(0.5, 0.25, (0.1, 0.2, 0.3)),
                       regions=(REGION,))
    camera = CameraOrder(name="A", state=camera_state(), data_time_ns=99, lost=False, rects={"front": (1, 2, 30, 40)},
                         priority=-3, active=True, on_wall=False)
    return FrameOrder(frame=7, count=1234, time_ns=10**12, deadline_ns=10**12 + 16_666_666, sent_ns=10**12 + 5,
                      canvases=("front", "side"), patterns={"side": PatternSpec(name="sync", color=(1, 2, 3))},
                      cameras=(camera,), scene=scene)


def test_ping_golden_bytes() -> None:
    assert encode(Ping(12345)) == PING_GOLDEN
    assert decode(PING_GOLDEN) == Ping(12345)


def test_frame_order_round_trip_keeps_every_field() -> None:
    order = frame_order()
    back = decode(encode(order))
    assert isinstance(back, FrameOrder)
    assert (back.frame, back.count, back.time_ns, back.deadline_ns, back.canvases, back.patterns) == \
        (order.frame, order.count, order.time_ns, order.deadline_ns, order.canvases, order.patterns)
    state, original = back.cameras[0].state, camera_state()
    assert state is not None
    np.testing.assert_array_equal(state.eye, original.eye)
    np.testing.assert_array_equal(state.rotation, original.rotation)
    assert (state.focal_length_mm, state.focus_distance_m, state.time_ns, state.extra) == \
        (35.0, 4.0, 123_456, {"entrance_pupil_m": 0.12})
    assert back.cameras[0].rects == {"front": (1, 2, 30, 40)}
    assert state.distortion == DISTORTION  # the whole lens model: name, k1..k6, p1, p2, overscan, offset
    assert (back.cameras[0].priority, back.cameras[0].active, back.cameras[0].on_wall) == (-3, True, False)
    assert back.scene is not None and order.scene is not None
    np.testing.assert_array_equal(back.scene.placements[0].stage_to_scene, order.scene.placements[0].stage_to_scene)
    assert back.scene.outer == order.scene.outer and back.scene.quality == order.scene.quality
    assert back.scene.regions == (REGION,)


def test_an_order_without_regions_still_decodes() -> None:
    """Orders from a master built before colour regions carry no ``regions`` key: no regions."""
    fields = msgpack.unpackb(encode(frame_order())[HEADER_SIZE:])
    del fields["scene"]["regions"]
    back = decode(_framed(Kind.FRAME, msgpack.packb(fields)))
    assert isinstance(back, FrameOrder) and back.scene is not None and back.scene.regions == ()


@pytest.mark.parametrize(("key", "value", "why"), [
    ("rect", [10, 20, 10, 70], "empty rectangle"),
    ("rect", [10, 20, 110], "4 integers"),
    ("gamma", [1.0, 0.0, 1.0], "out of range"),
    ("gain", [1.0, float("nan"), 1.0], "not finite"),
    ("feather", -1.0, "out of range"),
    ("sat", 9.0, "out of range"),
    ("canvas", None, "missing"),
])
def test_a_bad_region_is_refused(key: str, value: object, why: str) -> None:
    fields = msgpack.unpackb(encode(frame_order())[HEADER_SIZE:])
    region = fields["scene"]["regions"][0]
    if value is None:
        del region[key]
    else:
        region[key] = value
    with pytest.raises(WireError, match=why) as caught:
        decode(_framed(Kind.FRAME, msgpack.packb(fields)))
    assert caught.value.reason == "bad_field"


def test_report_and_small_messages_round_trip() -> None:
    report = FrameReport(frame=3, status="repeat", present_ns=5, present_ms=0.2, render_ms=math.nan, gpu_ms=math.nan,
                         cpu_ms=1.5, skipped=1, late_renders=((2, 21.5),), errors={"front": "no scene"},
                         outputs=("front",), output_info=({"canvas": "front", "kind": "ndi", "address": None},),
                         output_errors={}, clock_offset_ns=-40, clock_rtt_ns=90)
    back = decode(encode(report))
    assert isinstance(back, FrameReport) and math.isnan(back.render_ms)
    assert (back.status, back.late_renders, back.errors, back.output_info, back.clock_offset_ns) == \
        ("repeat", ((2, 21.5),), {"front": "no scene"}, report.output_info, -40)
    for message in (Pong(1, 2), Stop("bye"), ThumbnailRequest(request=4, canvases=("a",), max_width=64, max_bytes=9),
                    ThumbnailRequest(request=5, canvases=("a",), max_width=64, max_bytes=9, scene_referred=True),
                    Thumbnail(request=4, canvas="a", frame=2, width=2, height=1, pixels=bytes(8))):
        assert decode(encode(message)) == message


def _header(kind: int, length: int, magic: bytes = MAGIC, version: int = 1) -> bytes:
    return struct.pack(">4sBBHI", magic, version, kind, 0, length)


@pytest.mark.parametrize(("data", "reason"), [
    (_header(9, 4)[:7], "truncated"),
    (_header(9, 4, magic=b"HTTP"), "bad_magic"),
    (_header(9, 4, version=2), "bad_version"),
    (_header(200, 4), "unknown_kind"),
    (_header(Kind.FRAME, 50 << 20), "too_large"),
])
def test_bad_headers_are_named(data: bytes, reason: str) -> None:
    with pytest.raises(WireError) as caught:
        decode_header(data)
    assert caught.value.reason == reason


def _framed(kind: Kind, payload: bytes) -> bytes:
    return _header(kind, len(payload)) + payload


@pytest.mark.parametrize(("data", "reason"), [
    (_framed(Kind.PING, b"\xc1"), "bad_payload"),                                  # not MessagePack
    (_framed(Kind.PING, msgpack.packb([1, 2])), "bad_payload"),                      # not a map
    (_framed(Kind.PING, msgpack.packb({"node": "x"})), "bad_field"),                 # wrong type
    (_framed(Kind.FRAME, msgpack.packb({"frame": 1})), "bad_field"),                 # fields missing
    (_framed(Kind.THUMBNAIL, msgpack.packb({"request": 1, "canvas": "a", "frame": 1, "w": 4, "h": 4,
                                            "pixels": bytes(3)})), "bad_field"),    # pixels do not fit
    (encode(frame_order())[:-3], "truncated"),
])
def test_bad_payloads_are_named(data: bytes, reason: str) -> None:
    with pytest.raises(WireError) as caught:
        decode(data)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("path", "value", "why"), [
    (("distx",), None, "missing"),
    (("distx", "model"), 7, "string"),
    (("distx", "k"), [0.1, 0.2], "4 numbers"),
    (("distx", "overscan"), -1.0, "overscan"),
    (("dist",), [0.1, float("nan"), 0.0, 0.0], "not finite"),
])
def test_a_bad_distortion_field_is_refused(path: tuple[str, ...], value: object, why: str) -> None:
    fields = msgpack.unpackb(encode(frame_order())[HEADER_SIZE:])
    state = fields["cameras"][0]["state"]
    target = state if len(path) == 1 else state[path[0]]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(WireError, match=why) as caught:
        decode(_framed(Kind.FRAME, msgpack.packb(fields)))
    assert caught.value.reason == "bad_field"


def test_camera_order_flags_are_checked() -> None:
    fields = msgpack.unpackb(encode(frame_order())[HEADER_SIZE:])
    fields["cameras"][0]["active"] = 1
    with pytest.raises(WireError, match="true or false"):
        decode(_framed(Kind.FRAME, msgpack.packb(fields)))
    fields["cameras"][0]["active"] = True
    fields["cameras"][0]["priority"] = 10**9
    with pytest.raises(WireError, match="priority"):
        decode(_framed(Kind.FRAME, msgpack.packb(fields)))


def test_a_non_finite_camera_value_is_refused() -> None:
    fields = msgpack.unpackb(encode(frame_order())[HEADER_SIZE:])
    fields["cameras"][0]["state"]["f"] = float("inf")
    with pytest.raises(WireError, match="not finite"):
        decode(_framed(Kind.FRAME, msgpack.packb(fields)))


@pytest.fixture
def pair() -> tuple[Channel, socket.socket]:
    a, b = socket.socketpair()
    return Channel(a, "test"), b


def test_channel_skips_bad_payloads_and_counts_them(pair: tuple[Channel, socket.socket]) -> None:
    channel, peer = pair
    peer.sendall(_framed(Kind.PING, b"\xc1") + _framed(Kind.PING, msgpack.packb({"node": "x"})) + encode(Ping(7)))
    assert channel.recv() == Ping(7)
    assert channel.counters["bad_payload"] == 1 and channel.counters["bad_field"] == 1
    channel.close()


def test_channel_skips_messages_of_another_version_or_kind(pair: tuple[Channel, socket.socket]) -> None:
    channel, peer = pair
    payload = msgpack.packb({"node": 1})
    peer.sendall(_header(Kind.PING, len(payload), version=2) + payload + _header(99, 3) + b"abc" + encode(Ping(8)))
    assert channel.recv() == Ping(8)
    assert channel.counters["bad_version"] == 1 and channel.counters["unknown_kind"] == 1 and not channel.closed
    channel.close()


def test_channel_closes_on_a_stream_it_cannot_trust(pair: tuple[Channel, socket.socket]) -> None:
    channel, peer = pair
    peer.sendall(b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(ChannelClosed, match="bad stream"):
        channel.recv()
    assert channel.counters["bad_magic"] == 1 and channel.closed


def test_channel_reports_a_message_cut_short(pair: tuple[Channel, socket.socket]) -> None:
    channel, peer = pair
    peer.sendall(encode(frame_order())[:-10])
    peer.close()
    with pytest.raises(ChannelClosed, match="truncated"):
        channel.recv()
    assert channel.counters["truncated"] == 1


def test_channel_sends_through_its_outbox_and_drops_when_full() -> None:
    a, b = socket.socketpair()
    channel = Channel(a, "test", outbox_depth=2)
    assert channel.send(Ping(1))
    assert Channel(b, "peer").recv() == Ping(1)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    big = Thumbnail(request=1, canvas="a", frame=1, width=256, height=256, pixels=bytes(256 * 256 * 4))
    results = [channel.send(big) for _ in range(20)]  # nobody reads: the socket and then the outbox fill
    assert not all(results) and channel.counters["dropped_outgoing"] >= 1
    channel.close()
