"""The tracker simulator: scripted paths, replay, real packets, loopback-only by default."""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

import pytest

from devices.tracking import paths
from devices.tracking.decoders import FreeDDecoder, OpenTrackIODecoder, OscDecoder
from devices.tracking.simulator import (
    FreeDEncoder,
    OpenTrackIOEncoder,
    OscEncoder,
    PtyLink,
    TrackerSimulator,
    UdpLink,
)
from vpstage.protocols import osc_map
from vpstage.tracking.lens import PRESETS


class MemoryLink:
    def __init__(self) -> None:
        self.datagrams: list[bytes] = []

    def send(self, data: bytes) -> bool:
        self.datagrams.append(data)
        return True

    def close(self) -> None:
        pass


def test_orbit_keeps_the_target_framed() -> None:
    path = paths.orbit(radius_m=3.0, height_m=1.7, period_s=12.0, target=paths.WALL_TARGET)
    for t in (0.0, 1.3, 6.0, 9.9):
        point = path(t)
        assert math.dist((point.x_m, point.y_m), (0.0, 2.0)) == pytest.approx(3.0)
        pan, tilt = paths.look_at((point.x_m, point.y_m, point.z_m), paths.WALL_TARGET)
        assert (point.pan_deg, point.tilt_deg) == pytest.approx((pan, tilt))


def test_default_orbit_stays_inside_the_demo_volume() -> None:
    path = paths.orbit()
    for t in (i * 0.25 for i in range(48)):  # one 12 s period
        point = path(t)
        assert math.hypot(point.x_m, point.y_m) <= 2.5 + 1e-9  # the demo wall stands at 4.5 m
        pan, tilt = paths.look_at((point.x_m, point.y_m, point.z_m), paths.SUBJECT)
        assert (point.pan_deg, point.tilt_deg) == pytest.approx((pan, tilt))


def test_paths_are_deterministic_and_dropouts_go_silent() -> None:
    assert paths.handheld()(0.37) == paths.handheld()(0.37)
    assert paths.handheld()(0.37) != paths.handheld()(0.38)
    crane = paths.crane()
    assert crane(0).z_m == pytest.approx(0.8) and crane(5).z_m == pytest.approx(3.5)
    gappy = paths.with_dropouts(paths.static(), every_s=1.0, length_s=0.25)
    assert gappy(0.5) is not None and gappy(0.8) is None


@pytest.mark.parametrize("make_encoder,decoder", [
    (FreeDEncoder, FreeDDecoder()), (lambda: OpenTrackIOEncoder("cbor"), OpenTrackIODecoder()),
    (OscEncoder, OscDecoder(osc_map.PRESETS["vp"])),
])
def test_every_encoder_produces_packets_our_decoders_read_back(make_encoder, decoder) -> None:  # type: ignore[no-untyped-def]
    link = MemoryLink()
    sim = TrackerSimulator(make_encoder(), link, paths.orbit(), rate_hz=48.0, camera_id=3)
    for frame in range(5):
        sim.tick(frame)
    samples = [s for d in link.datagrams for s in decoder.decode(d, ("127.0.0.1", 1), 0).samples]
    assert len(samples) == 5 and sim.sent == len(link.datagrams)
    expected = paths.orbit()(4 / 48)
    last = samples[-1]
    assert (last.x_m, last.y_m, last.z_m) == pytest.approx((expected.x_m, expected.y_m, expected.z_m), abs=1e-4)
    assert last.pan_deg == pytest.approx(expected.pan_deg, abs=1e-4) and last.camera_id == 3
    if last.protocol == "freed":  # the Z CAM convention: the zcam-freed preset reads it back
        lens = PRESETS["zcam-freed"].evaluate(last)
        assert lens.focal_length_mm == pytest.approx(expected.focal_length_mm, abs=0.01)
        assert lens.focus_distance_m == pytest.approx(expected.focus_distance_m, abs=1e-4)
        assert lens.f_stop == pytest.approx(2.8)
    else:
        assert last.focal_length_mm == pytest.approx(expected.focal_length_mm, abs=1e-4)


def test_opentrackio_simulator_carries_timing() -> None:
    link = MemoryLink()
    sim = TrackerSimulator(OpenTrackIOEncoder(), link, paths.static(), rate_hz=25.0)
    for frame in range(30):
        sim.tick(frame)
    decoder = OpenTrackIODecoder()
    samples = [s for d in link.datagrams for s in decoder.decode(d, ("127.0.0.1", 1), 0).samples]
    assert str(samples[-1].timecode) == "00:00:01:04" and samples[-1].sequence == 29


def test_replay_of_a_recorded_path(tmp_path: Path) -> None:
    record = tmp_path / "take.jsonl"
    rows = [{"t_s": 10.0 + i * 0.1, "x_m": i * 1.0, "y_m": 0.0, "z_m": 1.0, "pan_deg": 170.0 + 5 * i,
             "tilt_deg": 0.0, "roll_deg": 0.0, "zoom_raw": 100 + i} for i in range(3)]
    record.write_text("\n".join(json.dumps(r) for r in rows) + '\n{"packets": 3, "bad_packets": 0}\n')
    replay = paths.RecordedPath.load(record)
    assert replay.duration_s == pytest.approx(0.2)
    mid = replay(0.15)
    assert mid.x_m == pytest.approx(1.5) and mid.pan_deg == pytest.approx(177.5)
    assert replay(0.2 + 0.05).x_m == pytest.approx(0.5)  # loops
    assert paths.RecordedPath.load(record)(0.1).zoom_raw == 101


def test_loopback_only_unless_allowed_and_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="loopback"):
        UdpLink("192.0.2.10", 40000)
    UdpLink("192.0.2.10", 40000, allow_network=True).close()  # constructing sends nothing
    with pytest.raises(ValueError, match="outside"):
        TrackerSimulator(FreeDEncoder(), MemoryLink(), paths.static(), rate_hz=500.0)
    serial_line = MemoryLink()
    serial_line.baud = 38400  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="at most 120 FreeD frames"):
        TrackerSimulator(FreeDEncoder(), serial_line, paths.static(), rate_hz=200.0)


@pytest.mark.network
def test_simulator_runs_at_its_rate_over_udp() -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2.0)
    link = UdpLink("127.0.0.1", receiver.getsockname()[1])
    sim = TrackerSimulator(FreeDEncoder(), link, paths.dolly(), rate_hz=100.0)
    try:
        sim.run(0.25)
        got = [receiver.recv(100) for _ in range(sim.sent)]
    finally:
        link.close()
        receiver.close()
    assert 24 <= sim.sent <= 25 and all(len(d) == 29 for d in got)


def test_pty_link_exposes_a_serial_device() -> None:
    link = PtyLink()
    try:
        assert link.device.startswith("/dev/") and link.send(b"\xd1" * 10)
    finally:
        link.close()
