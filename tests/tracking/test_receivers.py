"""Receivers on real loopback sockets and a pty: every protocol, bad input, loss, restarts."""

from __future__ import annotations

import json
import os
import socket
import threading
import tty
from collections import Counter

import pytest

from devices.tracking.factory import make_receiver
from devices.tracking.receiver import Receiver
from devices.tracking.receiver_health import StreamStats
from devices.tracking.transports import UdpTransport
from tests.tracking.conftest import wait_until
from vpstage.protocols import freed, opentrackio, osc_map
from vpstage.stage.model import TrackingSource
from vpstage.tracking.sample import CameraSample

pytestmark = pytest.mark.network

POSE = freed.FreeDPosition(camera_id=4, pan_deg=45.0, tilt_deg=-10.5, roll_deg=0.0, x_mm=1000.0, y_mm=-2500.5,
                           z_mm=1650.0, zoom_raw=0x1234, focus_raw=0x800, spare=0x0118)


class Collector:
    def __init__(self) -> None:
        self.samples: list[CameraSample] = []
        self.lost: list[StreamStats] = []
        self.recovered: list[StreamStats] = []
        self.threads: set[str] = set()

    def on_sample(self, name: str, sample: CameraSample) -> None:
        self.threads.add(threading.current_thread().name)
        self.samples.append(sample)

    def receiver(self, protocol: str, address: str = "udp://127.0.0.1:0", **extra: object) -> Receiver:
        source = TrackingSource(name=f"test-{protocol}", protocol=protocol, address=address, **extra)  # type: ignore[arg-type]
        return make_receiver(source, self.on_sample, self.lost.append, self.recovered.append)


def _target(receiver: Receiver) -> tuple[str, int]:
    assert isinstance(receiver.transport, UdpTransport)
    return receiver.transport.bound()


def test_freed_over_udp_loopback(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("freed")
    receiver.start()
    try:
        udp_sender.sendto(freed.write_d1(POSE), _target(receiver))
        assert wait_until(lambda: len(got.samples) == 1)
    finally:
        receiver.stop()
    (sample,) = got.samples
    assert (sample.protocol, sample.source, sample.camera_id) == ("freed", "127.0.0.1", 4)
    assert sample.position_m == (1.0, -2.5005, 1.65)
    assert (sample.pan_deg, sample.tilt_deg, sample.zoom_raw, sample.focus_raw, sample.user_bits) == (
        45.0, -10.5, 0x1234, 0x800, 0x0118)
    assert got.threads == {"tracking-test-freed"}  # callbacks run on the receiver thread


def test_opentrackio_over_udp_loopback_segmented_cbor_and_json(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("opentrackio")
    receiver.start()
    base = CameraSample(protocol="opentrackio", source="x", camera_id=3, arrival_ns=0, x_m=0.5, y_m=1.5, z_m=2.5,
                        pan_deg=10.0, tilt_deg=20.0, roll_deg=30.0, focal_length_mm=32.0, focus_distance_m=4.0,
                        status="x" * 3000)  # a long status forces segmentation
    try:
        for sequence, encoding in ((1, opentrackio.ENCODING_CBOR), (2, opentrackio.ENCODING_JSON)):
            datagrams = opentrackio.write_sample_packets(base, sequence, encoding, mtu=1000)
            assert len(datagrams) > 2
            for datagram in reversed(datagrams):
                udp_sender.sendto(datagram, _target(receiver))
        assert wait_until(lambda: len(got.samples) == 2)
    finally:
        receiver.stop()
    for sample in got.samples:
        assert (sample.camera_id, sample.position_m, sample.roll_deg, sample.focal_length_mm) == (
            3, (0.5, 1.5, 2.5), 30.0, 32.0)
    assert receiver.stats().bad_packets == 0


def test_osc_over_udp_loopback(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("osc")
    receiver.start()
    sample = CameraSample(protocol="osc", source="x", camera_id=2, arrival_ns=0, x_m=1.0, y_m=2.0, z_m=3.0, pan_deg=4.0,
                          tilt_deg=5.0, roll_deg=6.0, focal_length_mm=50.0)
    try:
        udp_sender.sendto(osc_map.write_bundle(osc_map.vp_messages(sample)), _target(receiver))
        assert wait_until(lambda: len(got.samples) == 1)
    finally:
        receiver.stop()
    assert got.samples[0].position_m == (1.0, 2.0, 3.0) and got.samples[0].focal_length_mm == 50.0


def test_a_live_receiver_counts_and_drops_garbage_and_keeps_running(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("opentrackio")
    receiver.start()
    good = CameraSample(protocol="opentrackio", source="x", camera_id=1, arrival_ns=0, x_m=0.0, y_m=0.0, z_m=1.0,
                        pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0)
    packet = {seq: opentrackio.write_sample_packets(good, seq)[0] for seq in (1, 2, 20, 21)}
    nan_doc = opentrackio.document_from_sample(good)
    nan_doc["transforms"][0]["translation"]["x"] = float("nan")
    stream = [
        (packet[1], None), (b"", "truncated"), (b"garbage", "truncated"), (packet[1][:10], "truncated"),
        (packet[2], None), (packet[2], "duplicate"), (packet[1], "out_of_order"),
        (packet[20][:14] + b"\x00\x00" + packet[20][16:], "checksum"),
        (opentrackio.write_packet(b'{"hello": "world"}', 1, 10), "not_a_sample"),
        (opentrackio.write_packet(json.dumps(nan_doc).encode(), 1, 11), "non_finite"),
        (packet[20] + b"tail", "oversized"), (b"XXXX" + bytes(1400), "identifier"),
        (packet[20], None), (packet[21], None),
    ]
    expected = Counter(reason for _, reason in stream if reason)
    try:
        for datagram, _ in stream:
            udp_sender.sendto(datagram, _target(receiver))
        assert wait_until(lambda: len(got.samples) == 4 and receiver.stats().bad_packets == len(stream) - 4)
        assert receiver.running
    finally:
        receiver.stop()
    stats = receiver.stats()
    assert (stats.packets, stats.samples) == (4, 4)
    assert stats.bad_by_reason == dict(expected)


def test_freed_receiver_counts_each_kind_of_bad_datagram(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("freed")
    receiver.start()
    good = freed.write_d1(POSE)
    bad = [good[:-1], good + b"\x00", b"\xd2" + good[1:], good[:-1] + b"\x00", freed.write_d0(1, 1)]
    try:
        for datagram in [good, *bad, good]:
            udp_sender.sendto(datagram, _target(receiver))
        assert wait_until(lambda: receiver.stats().bad_packets == 5 and len(got.samples) == 2)
    finally:
        receiver.stop()
    assert receiver.stats().bad_by_reason == {"size": 3, "type": 1, "checksum": 1}


def test_a_silent_stream_is_reported_lost_then_recovered(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("freed", lost_after_ms=100.0)
    receiver.start()
    try:
        udp_sender.sendto(freed.write_d1(POSE), _target(receiver))
        assert wait_until(lambda: len(got.lost) == 1, 3.0)
        (stats,) = receiver.stream_stats()
        assert stats.lost and stats.camera_id == 4 and stats.samples == 1
        udp_sender.sendto(freed.write_d1(POSE), _target(receiver))
        assert wait_until(lambda: len(got.recovered) == 1, 3.0)
    finally:
        receiver.stop()
    assert got.recovered[0].samples == 2 and not got.recovered[0].lost
    assert len(got.lost) == 1


def test_rate_and_jitter_of_a_stream(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("freed")
    receiver.start()
    try:
        for i in range(20):
            receiver.feed(freed.write_d1(POSE), ("127.0.0.1", 5), i * 10_000_000)  # exactly 100 Hz
    finally:
        receiver.stop()
    (stats,) = receiver.stream_stats()
    assert stats.rate_hz == pytest.approx(100.0) and stats.jitter_ms == pytest.approx(0.0)


def test_restart_on_a_port_change(udp_sender: socket.socket) -> None:
    got = Collector()
    receiver = got.receiver("freed")
    receiver.start()
    try:
        first = _target(receiver)
        receiver.restart(UdpTransport("127.0.0.1", 0))
        second = _target(receiver)
        assert second != first and receiver.running
        udp_sender.sendto(freed.write_d1(POSE), second)
        assert wait_until(lambda: len(got.samples) == 1)
    finally:
        receiver.stop()
    assert not receiver.running


def test_a_port_in_use_fails_at_start() -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    try:
        receiver = Collector().receiver("freed", f"udp://127.0.0.1:{blocker.getsockname()[1]}")
        with pytest.raises(OSError):
            receiver.start()
        assert not receiver.running
    finally:
        blocker.close()


def test_freed_over_serial_through_a_pty_pair() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    got = Collector()
    receiver = got.receiver("freed", f"serial://{os.ttyname(slave)}")
    receiver.start()
    try:
        other = freed.write_d1(freed.FreeDPosition(camera_id=9, pan_deg=-30.0, tilt_deg=5.0, roll_deg=1.0, x_mm=10.0,
                                                   y_mm=20.0, z_mm=30.0, zoom_raw=1, focus_raw=2))
        stream = b"\xff\xd1noise" + freed.write_d1(POSE) + freed.write_d1(POSE)[:12] + other
        for i in range(0, len(stream), 5):  # dribble it in as a serial line would
            os.write(master, stream[i:i + 5])
        assert wait_until(lambda: len(got.samples) == 2)
    finally:
        receiver.stop()
        os.close(master)
        os.close(slave)
    assert [s.camera_id for s in got.samples] == [4, 9]
    assert got.samples[1].pan_deg == -30.0 and got.samples[0].source.startswith("/dev/")
    stats = receiver.stats()
    assert stats.packets == 2 and stats.bad_by_reason == {"garbage": 2}
    assert stats.address.startswith("serial://")
