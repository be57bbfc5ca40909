"""Each receiver limit at its edge: OpenTrackIO reassembly (bytes, segments, pending payloads,
senders, expiry), datagram sizes, OSC structure (address length, arguments, messages, bundles),
the stream cap, and python-osc's log records kept off the terminal."""

from __future__ import annotations

import logging
import struct
import threading
from collections import Counter
from pathlib import Path

import pytest
from pythonosc.osc_packet import OscPacket

from devices.tracking import osc_log
from devices.tracking.decoders import Decoder, FreeDDecoder, OpenTrackIODecoder, OscDecoder
from devices.tracking.limits import DEFAULT_LIMITS, ReceiverLimits
from devices.tracking.receiver import Receiver
from devices.tracking.receiver_health import StreamRegistry
from devices.tracking.transports import Read
from vpstage.protocols import freed, opentrackio, osc_map, osc_wire
from vpstage.protocols.errors import BAD_REASONS, DISCARD_REASONS
from vpstage.protocols.opentrackio import Reassembler, ReassemblyLimits
from vpstage.tracking.sample import CameraSample

MS = 1_000_000
A = ("127.0.0.1", 5000)


def segment(sequence: int, offset: int, size: int, last: bool = False) -> opentrackio.Packet:
    return opentrackio.parse_packet(opentrackio.write_packet(bytes(size), 1, sequence, offset, last))


def refusal(reassembler: Reassembler, sender: object, packet: opentrackio.Packet, now_ns: int = 0) -> str:
    with pytest.raises(opentrackio.ParseError) as info:
        reassembler.feed(sender, packet, now_ns)
    return info.value.reason


# ---------------------------------------------------------------------------------- reassembly

def test_segments_of_one_sequence_without_a_last_flag_stop_at_the_sender_byte_limit() -> None:
    r = Reassembler(ReassemblyLimits(max_sender_bytes=10_000))
    for i in range(7):
        assert r.feed(A, segment(1, i * 1400, 1400)) is None
    assert r.held_bytes == 9800
    assert refusal(r, A, segment(1, 7 * 1400, 1400)) == "sender_limit"
    assert r.held_bytes == 9800
    assert r.feed(A, segment(1, 7 * 1400, 200)) is None  # what still fits is taken
    assert r.held_bytes == 10_000


def test_tiny_segments_stop_at_the_sender_segment_limit() -> None:
    r = Reassembler(ReassemblyLimits(max_sender_segments=50))
    for i in range(50):
        r.feed(A, segment(1, i, 1))
    assert refusal(r, A, segment(1, 50, 1)) == "sender_limit"
    assert r.held_segments == 50


def test_many_source_ports_stop_at_the_total_limits() -> None:
    r = Reassembler(ReassemblyLimits(max_total_bytes=50_000, max_total_segments=10_000))
    reasons = Counter[str]()
    for port in range(100):
        try:
            r.feed(("127.0.0.1", port), segment(1, 0, 1000))
        except opentrackio.ParseError as exc:
            reasons[exc.reason] += 1
    assert r.held_bytes == 50_000 and reasons == {"memory_limit": 50}
    r = Reassembler(ReassemblyLimits(max_total_segments=30))
    for port in range(30):
        r.feed(("127.0.0.1", port), segment(1, 0, 1))
    assert refusal(r, ("127.0.0.1", 99), segment(1, 0, 1)) == "memory_limit"


def test_senders_beyond_the_limit_evict_the_least_recently_heard() -> None:
    r = Reassembler(ReassemblyLimits(max_senders=3))
    for port in range(3):
        r.feed(("h", port), segment(1, 0, 10))
    r.feed(("h", 0), segment(1, 10, 10))  # port 0 is now the most recent
    r.feed(("h", 3), segment(1, 0, 10))   # evicts port 1 and its partial payload
    assert r.senders == 3 and r.dropped == {"evicted": 1} and r.held_bytes == 40
    assert r.drain_dropped() == ["evicted"] and r.drain_dropped() == []


def test_partial_payloads_expire_and_silent_senders_are_forgotten() -> None:
    r = Reassembler(ReassemblyLimits(partial_expiry_ms=100.0, sender_expiry_ms=1000.0))
    r.feed(A, segment(1, 0, 100), now_ns=0)
    r.feed(("b", 1), opentrackio.parse_packet(opentrackio.write_packet(b"{}", 1, 7)), now_ns=0)
    r.feed(A, segment(1, 100, 100), now_ns=90 * MS)
    assert r.held_bytes == 200 and not r.dropped
    r.feed(("c", 1), segment(1, 0, 1), now_ns=160 * MS)  # the sweep (every 50 ms) expires A's partial
    assert r.dropped == {"expired": 1} and r.held_bytes == 1
    assert r.senders == 3
    r.feed(("c", 1), segment(2, 0, 1), now_ns=1200 * MS)  # A and b silent for over 1 s: forgotten
    assert r.senders == 1
    assert r.feed(("b", 1), opentrackio.parse_packet(opentrackio.write_packet(b"{}", 1, 7)), 1300 * MS) is not None


def test_more_pending_payloads_than_the_limit_evict_the_oldest() -> None:
    r = Reassembler(ReassemblyLimits(max_pending=2))
    for sequence in (1, 2, 3):
        r.feed(A, segment(sequence, 0, 10))
    assert r.dropped == {"evicted": 1} and r.held_bytes == 20


def test_a_payload_past_the_limit_and_inconsistent_segments_are_refused() -> None:
    r = Reassembler(ReassemblyLimits(max_payload_bytes=1000))
    assert refusal(r, A, segment(1, 900, 101)) == "payload_limit"
    assert refusal(r, A, segment(1, 0xFFFF_FF00, 10)) == "payload_limit"
    assert refusal(r, A, segment(1, 0, 0)) == "segment"          # empty and not the last
    r.feed(A, segment(1, 0, 100))
    assert refusal(r, A, segment(1, 50, 100)) == "segment"       # overlaps [0, 100)
    assert refusal(r, A, segment(1, 0, 100)) == "duplicate"
    assert refusal(r, A, segment(1, 50, 10, last=True)) == "segment"  # ends before what arrived
    assert r.feed(A, segment(1, 100, 50, last=True)) == (1, bytes(150))
    assert (r.held_bytes, r.held_segments) == (0, 0)  # delivered: nothing held


def test_a_completed_payload_releases_what_it_held_and_supersedes_older_ones() -> None:
    r = Reassembler()
    r.feed(A, segment(1, 0, 500))
    r.feed(A, segment(2, 0, 500))
    assert r.feed(A, segment(2, 500, 10, last=True)) == (1, bytes(510))
    assert (r.held_bytes, r.held_segments, dict(r.dropped)) == (0, 0, {"superseded": 1})


def test_the_decoder_counts_refused_segments_and_discarded_payloads() -> None:
    limits = ReceiverLimits(max_datagram_bytes=2000, reassembly=ReassemblyLimits(max_sender_bytes=3000,
                                                                                 partial_expiry_ms=100.0))
    receiver = Receiver("otio", Null(), OpenTrackIODecoder(limits))
    for i in range(5):
        receiver.feed(opentrackio.write_packet(bytes(1000), 1, 1, i * 1000, False), A, 0)
    receiver.feed(opentrackio.write_packet(bytes(10), 1, 2, 0, False), A, 500 * MS)
    receiver.feed(bytes(2001), A, 500 * MS)
    stats = receiver.stats()
    assert (stats.packets, stats.bad_by_reason) == (4, {"sender_limit": 2, "too_large": 1})
    assert stats.discarded_by_reason == {"expired": 1}


# ---------------------------------------------------------------------------------- datagram size

class Null:
    address = "null://"

    def open(self) -> None: ...
    def read(self, timeout_s: float) -> Read:
        return []
    def close(self) -> None: ...


@pytest.mark.parametrize("protocol", sorted(DEFAULT_LIMITS))
def test_datagrams_over_the_protocols_limit_are_refused_before_parsing(protocol: str) -> None:
    limit = DEFAULT_LIMITS[protocol].max_datagram_bytes
    decoders: dict[str, Decoder] = {"freed": FreeDDecoder(), "opentrackio": OpenTrackIODecoder(),
                                    "osc": OscDecoder(osc_map.PRESETS["vp"])}
    decoder = decoders[protocol]
    assert list(decoder.decode(bytes(limit + 1), A, 0).bad) == ["too_large"]
    assert list(decoder.decode(bytes(limit), A, 0).bad) != ["too_large"]


def test_a_smaller_datagram_limit_applies() -> None:
    small = OscDecoder(osc_map.PRESETS["vp"], ReceiverLimits(max_datagram_bytes=64))
    assert list(small.decode(osc_map.write_message("/vp/cam/1/pose", [1.0] * 12), A, 0).bad) == ["too_large"]
    assert not small.decode(osc_map.write_message("/vp/cam/1/pose", [1.0] * 6), A, 0).bad


# ---------------------------------------------------------------------------------- OSC structure

def osc_bad(data: bytes, limits: osc_wire.OscLimits | None = None) -> list[str]:
    decoder = OscDecoder(osc_map.PRESETS["vp"], ReceiverLimits(max_datagram_bytes=8192,
                                                               osc=limits or osc_wire.OscLimits()))
    return list(decoder.decode(data, A, 0).bad)


def bundle(*elements: bytes, size: int | None = None) -> bytes:
    return b"#bundle\x00" + bytes(8) + b"".join(struct.pack(">i", len(e) if size is None else size) + e
                                                for e in elements)


def test_osc_address_length_limit() -> None:
    def pose(cam: str) -> bytes:
        return osc_map.write_message(f"/vp/cam/{cam}/pose", [1.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    at_limit = "c" * (256 - len("/vp/cam//pose"))
    decoder = OscDecoder(osc_map.PRESETS["vp"])
    (sample,) = decoder.decode(pose(at_limit), A, 0).samples
    assert sample.camera_id == at_limit
    assert list(decoder.decode(pose(at_limit + "c"), A, 0).bad) == ["address_length"]
    assert list(decoder.decode(pose("c" * 7000), A, 0).bad) == ["address_length"]
    inside = bundle(osc_map.write_message("/vp/cam/1/lens", [1.0, 2.0, 3.0]), pose("c" * 300))
    assert osc_bad(inside) == ["address_length"]


@pytest.mark.parametrize("data,reason", [
    (osc_map.write_message("/vp/cam/1/pose", [1.0] * 33), "arguments"),
    (bundle(*[osc_map.write_message("/a", [1.0])] * 33), "too_large"),
    (bundle(bundle(bundle(bundle(bundle(osc_map.write_message("/a", [1.0])))))), "too_large"),
    (bundle(b"", size=-4), "malformed"),  # python-osc loops forever on this one
    (bundle(b"/a\x00\x00", size=-8), "malformed"),
    (bundle(b"/a\x00\x00", size=0), "malformed"),
    (bundle(b"/a\x00\x00,f\x00\x00\x00\x00\x00\x00", size=6), "malformed"),
    (bundle(b"/a\x00\x00", size=400), "malformed"),
    (bundle(b"xyz\x00"), "malformed"),
    (b"/vp/cam/1/pose\x00\x00,fffxff\x00\x00" + bytes(24), "malformed"),  # python-osc logs and skips 'x'
    (b"/vp/cam/1/pose", "malformed"),
    (b"/vp/cam/1/pose\x00\x00,ffffff", "malformed"),
    (b"#bundle\x00\x00\x00", "malformed"),
    (osc_map.write_message("/vp/cam/{1,2}/pose", [1.0] * 6), "wildcard_address"),
])
def test_osc_structure_limits(data: bytes, reason: str) -> None:
    assert osc_bad(data) == [reason]


@pytest.mark.timeout(20)
def test_a_looping_bundle_is_refused_quickly() -> None:
    """python-osc never returns from a bundle element of size -4; the check refuses it first."""
    done: list[list[str]] = []
    worker = threading.Thread(target=lambda: done.append(osc_bad(bundle(b"", size=-4))), daemon=True)
    worker.start()
    worker.join(10.0)
    assert done == [["malformed"]]


def test_valid_osc_at_the_message_and_argument_limits_decodes() -> None:
    limits = osc_wire.OscLimits(max_arguments=6, max_messages=2, max_bundle_depth=1)
    data = bundle(osc_map.write_message("/vp/cam/1/lens", [35.0, 2.0, 2.8]),
                  osc_map.write_message("/vp/cam/1/pose", [1.0, 2.0, 3.0, 0.0, 0.0, 0.0]))
    assert osc_wire.check_datagram(data, limits) == 2
    assert osc_bad(data, limits) == []
    assert osc_bad(bundle(data), limits) == ["too_large"]


# ---------------------------------------------------------------------------------- streams

def pose_sample(camera_id: object, arrival_ns: int, source: str = "10.0.0.1") -> CameraSample:
    return CameraSample(protocol="freed", source=source, camera_id=camera_id,  # type: ignore[arg-type]
                        arrival_ns=arrival_ns, x_m=0.0, y_m=0.0, z_m=0.0, pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0)


def test_the_stream_registry_refuses_new_streams_when_full_and_recycles_stale_ones() -> None:
    registry = StreamRegistry("r", lost_after_ns=500 * MS, max_streams=3, expiry_ns=2000 * MS)
    assert [registry.note(pose_sample(i, 0)) for i in range(3)] == ["new"] * 3
    assert registry.note(pose_sample(9, 100 * MS)) == "refused"
    assert registry.note(pose_sample(1, 100 * MS)) == "seen"  # known streams go on
    assert registry.newly_lost(1000 * MS) == [("10.0.0.1", 0), ("10.0.0.1", 1), ("10.0.0.1", 2)]
    assert registry.note(pose_sample(9, 1900 * MS)) == "refused"  # lost, but not yet silent for 2 s
    assert registry.note(pose_sample(9, 2050 * MS)) == "new"      # stream 0 (silent longest) made room
    assert registry.note(pose_sample(1, 2060 * MS)) == "recovered"
    assert sorted(s.camera_id for s in registry.snapshot(2100 * MS)) == [1, 2, 9]
    assert (registry.refused, registry.forgotten) == (2, 1)


def test_a_receiver_counts_refused_streams_and_keeps_serving_live_ones() -> None:
    got: list[CameraSample] = []
    receiver = Receiver("f", Null(), FreeDDecoder(), on_sample=lambda name, s: got.append(s),
                        limits=ReceiverLimits(max_datagram_bytes=64, max_streams=4))
    live = freed.write_d1(freed.FreeDPosition(camera_id=200, pan_deg=1.0, tilt_deg=2.0, roll_deg=3.0, x_mm=4.0,
                                              y_mm=5.0, z_mm=6.0, zoom_raw=0, focus_raw=0))
    receiver.feed(live, A, 0)
    for cam in range(100):  # a flood of new camera ids, with the live camera in between
        receiver.feed(freed.write_d1(freed.FreeDPosition(camera_id=cam, pan_deg=0, tilt_deg=0, roll_deg=0, x_mm=0,
                                                         y_mm=0, z_mm=0, zoom_raw=0, focus_raw=0)), A, cam * MS)
        receiver.feed(live, A, cam * MS)
    stats = receiver.stats()
    assert len(receiver.streams) == 4 and stats.bad_by_reason == {"stream_limit": 97}
    assert stats.streams_refused == 97 and stats.packets == 101 + 3
    assert sum(s.camera_id == 200 for s in got) == 101


def test_osc_camera_ids_are_capped_in_the_decoder() -> None:
    decoder = OscDecoder(osc_map.PRESETS["vp"], ReceiverLimits(max_datagram_bytes=8192, max_streams=5,
                                                               stream_expiry_s=1.0))
    bad = Counter[str]()
    for i in range(1000):
        bad.update(decoder.decode(osc_map.write_message(f"/vp/cam/c{i}/pose", [1.0] * 6), A, i * MS).bad)
    assert decoder.assembler.cameras == 5 and bad == {"stream_limit": 995}
    assert not decoder.decode(osc_map.write_message("/vp/cam/new/pose", [1.0] * 6), A, 3000 * MS).bad


# ---------------------------------------------------------------------------------- logging

def test_python_osc_records_are_dropped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    hostile = b"/vp/cam/1/pose\x00\x00,fQ\x00" + bytes(4)  # an unknown type tag: python-osc logs it
    osc_log.install()
    with caplog.at_level(logging.DEBUG):
        with osc_log.capture() as records:
            OscPacket(hostile)
        before = osc_log.unattributed()
        OscPacket(hostile)
    assert records == ["WARNING"] and osc_log.unattributed() == before + 1
    assert not caplog.records
    root = logging.getLogger()
    root.removeFilter(osc_log._FILTER)  # without the filter the record would reach the terminal
    try:
        with caplog.at_level(logging.DEBUG):
            OscPacket(hostile)
        assert [r.levelname for r in caplog.records] == ["WARNING"]
    finally:
        osc_log.install()


def test_the_decoder_never_lets_python_osc_log(caplog: pytest.LogCaptureFixture) -> None:
    decoder = OscDecoder(osc_map.PRESETS["vp"])
    datagrams = [b"/vp/cam/1/pose\x00\x00,fQ\x00" + bytes(4), bundle(b"/a\x00\x00", b"zzzz"),
                 bundle(b"", size=-4)]
    with caplog.at_level(logging.DEBUG):
        assert [list(decoder.decode(d, A, 0).bad) for d in datagrams] == [["malformed"]] * 3
    assert not caplog.records


def test_every_reason_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "tracking.md").read_text(encoding="utf-8")
    for reason in (*BAD_REASONS, *DISCARD_REASONS):
        assert f"`{reason}`" in text, reason
