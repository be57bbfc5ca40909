"""OpenTrackIO codec: header golden bytes (TV-O1, TV-O2), Fletcher self-tests, reassembly, samples."""

import json
import math
from fractions import Fraction

import cbor2
import pytest

from vpstage.protocols import opentrackio as otio
from vpstage.timing.timecode import Timecode
from vpstage.tracking.distortion import LensDistortion
from vpstage.tracking.sample import CameraSample

TV_O1 = bytes.fromhex("4f54726b000100070000000080 1257bb".replace(" ", "")) + b'{"sourceNumber":1}'
TV_O1_V100_CHECKSUM = bytes.fromhex("d2c3")
TV_O2_PAYLOAD = bytes.fromhex("a16c736f757263654e756d62657201")
TV_O2 = bytes.fromhex("4f54726b00020007000000008 00f5e20".replace(" ", "")) + TV_O2_PAYLOAD

EXAMPLE = {  # the reference's "recommended dynamic" example (§2.5)
    "protocol": {"name": "OpenTrackIO", "version": [1, 0, 1]},
    "sampleId": "urn:uuid:b5c4292e-8bb7-431d-a719-9f8efa04e916",
    "sourceId": "urn:uuid:a44ae08e-f1e7-4fe9-952e-a043007073c9", "sourceNumber": 1,
    "tracker": {"recording": False, "slate": "A101_A_4", "status": "Optical Good"},
    "timing": {"mode": "external", "sampleRate": {"num": 24000, "denom": 1001},
               "timecode": {"hours": 1, "minutes": 2, "seconds": 3, "frames": 4,
                            "frameRate": {"num": 24000, "denom": 1001}}},
    "transforms": [{"id": "Camera", "translation": {"x": 1.0, "y": 2.0, "z": 3.0},
                    "rotation": {"pan": 180.0, "tilt": 90.0, "roll": 45.0}}],
    "lens": {"pinholeFocalLength": 24.305, "focusDistance": 10.0, "fStop": 4.0,
             "encoders": {"focus": 0.1, "iris": 0.2, "zoom": 0.3}, "entrancePupilOffset": 0.123,
             "distortion": [{"radial": [1.0, 2.0, 3.0], "tangential": [1.0, 2.0], "overscan": 3.1}],
             "projectionOffset": {"x": 0.1, "y": 0.2}},
}


def test_fletcher16_self_tests() -> None:
    assert otio.fletcher16(b"abcde", 255) == 0xC8F0
    assert otio.fletcher16(b"abcde", 256) == 0xC3EF


def test_tv_o1_golden_bytes_both_ways() -> None:
    assert otio.write_packet(b'{"sourceNumber":1}', otio.ENCODING_JSON, 7) == TV_O1
    packet = otio.parse_packet(TV_O1)
    assert (packet.encoding, packet.sequence, packet.segment_offset, packet.last_segment) == (1, 7, 0, True)
    assert packet.checksum_modulus == 256
    assert otio.decode_payload(packet.payload, packet.encoding) == {"sourceNumber": 1}


def test_tv_o1_with_the_version_1_0_0_checksum_is_accepted() -> None:
    legacy = TV_O1[:14] + TV_O1_V100_CHECKSUM + TV_O1[16:]
    assert otio.write_packet(b'{"sourceNumber":1}', otio.ENCODING_JSON, 7, modulus=255) == legacy
    assert otio.parse_packet(legacy).checksum_modulus == 255


def test_tv_o2_cbor_golden_bytes() -> None:
    assert bytes(cbor2.dumps({"sourceNumber": 1})) == TV_O2_PAYLOAD
    assert otio.write_packet(TV_O2_PAYLOAD, otio.ENCODING_CBOR, 7) == TV_O2
    packet = otio.parse_packet(TV_O2)
    assert otio.decode_payload(packet.payload, packet.encoding) == {"sourceNumber": 1}


@pytest.mark.parametrize("data,reason", [
    (TV_O1[:15], "truncated"), (TV_O1[:-1], "truncated"), (TV_O1 + b" ", "oversized"),
    (b"OTrX" + TV_O1[4:], "identifier"), (TV_O1[:14] + b"\x00\x00" + TV_O1[16:], "checksum"),
    (TV_O1[:-2] + b"2}", "checksum"),
])
def test_bad_packets_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(otio.ParseError) as info:
        otio.parse_packet(data)
    assert info.value.reason == reason


@pytest.mark.parametrize("payload,encoding,reason", [
    (b"[1, 2]", otio.ENCODING_JSON, "not_a_sample"), (b'"hello"', otio.ENCODING_JSON, "not_a_sample"),
    (b'{"foo": 1}', otio.ENCODING_JSON, "not_a_sample"), (b"{", otio.ENCODING_JSON, "payload"),
    (b'{"protocol": {"name": "Other"}}', otio.ENCODING_JSON, "not_a_sample"),
    (b"\xff\xfe", otio.ENCODING_JSON, "payload"), (b"\x1f", otio.ENCODING_CBOR, "payload"),
    (b"{}", 0x80, "encoding"),
])
def test_payloads_that_are_not_samples(payload: bytes, encoding: int, reason: str) -> None:
    with pytest.raises(otio.ParseError) as info:
        otio.decode_payload(payload, encoding)
    assert info.value.reason == reason


@pytest.mark.parametrize("patch,reason", [
    ({"transforms": [{"translation": {"x": float("nan"), "y": 0, "z": 0}, "rotation": {}}]}, "non_finite"),
    ({"transforms": [{"translation": {"x": "1", "y": 0, "z": 0}, "rotation": {}}]}, "bad_value"),
    ({"transforms": {"translation": {}}}, "bad_value"),
    ({"lens": {"pinholeFocalLength": float("inf")}}, "non_finite"),
    ({"lens": {"focusDistance": True}}, "bad_value"),
    ({"timing": {"timecode": {"hours": 25, "minutes": 0, "seconds": 0, "frames": 0,
                              "frameRate": {"num": 24, "denom": 1}}}}, "bad_value"),
    ({"timing": {"sampleRate": {"num": 0, "denom": 1}}}, "bad_value"),
    # labels no clock shows: frame 30 at 24 fps, and a number drop-frame counting skips
    ({"timing": {"timecode": {"hours": 1, "minutes": 0, "seconds": 0, "frames": 30,
                              "frameRate": {"num": 24, "denom": 1}}}}, "bad_value"),
    ({"timing": {"timecode": {"hours": 0, "minutes": 1, "seconds": 0, "frames": 0, "dropFrame": True,
                              "frameRate": {"num": 30000, "denom": 1001}}}}, "bad_value"),
])
def test_bad_fields_refuse_the_whole_sample(patch: dict[str, object], reason: str) -> None:
    doc = {**EXAMPLE, **patch}
    with pytest.raises(otio.ParseError) as info:
        otio.sample_from_document(doc, "src", 0)
    assert info.value.reason == reason


def test_nan_in_json_text_is_refused() -> None:
    payload = json.dumps(EXAMPLE).replace("24.305", "NaN").encode()
    with pytest.raises(otio.ParseError, match="not finite"):
        otio.parse_sample_payload(payload, otio.ENCODING_JSON, "src", 0)


def test_the_reference_example_parses_into_our_model() -> None:
    sample = otio.sample_from_document(EXAMPLE, "10.0.0.5", 123)
    assert sample is not None
    assert (sample.protocol, sample.source, sample.camera_id, sample.arrival_ns) == ("opentrackio", "10.0.0.5", 1, 123)
    assert sample.position_m == (1.0, 2.0, 3.0)
    assert (sample.pan_deg, sample.tilt_deg, sample.roll_deg) == (180.0, 90.0, 45.0)
    assert (sample.focal_length_mm, sample.focus_distance_m, sample.f_stop) == (24.305, 10.0, 4.0)
    assert (sample.focus_norm, sample.iris_norm, sample.zoom_norm) == (0.1, 0.2, 0.3)
    assert sample.entrance_pupil_m == 0.123
    # the example's one entry names no model: OpenTrackIO's default; kept whole, overscan included
    assert sample.distortion == LensDistortion(model="Brown-Conrady D-U", radial=(1.0, 2.0, 3.0, 0.0, 0.0, 0.0),
                                               tangential=(1.0, 2.0), overscan=3.1)
    assert sample.projection_offset_mm == (0.1, 0.2)
    assert sample.timecode == Timecode(hours=1, minutes=2, seconds=3, frames=4, rate=Fraction(24000, 1001))
    assert sample.sample_rate == Fraction(24000, 1001) and sample.status == "Optical Good"


COMPLETE_LENS = {  # shaped like the SMPTE "complete dynamic" example's lens block: two distortion entries
    "pinholeFocalLength": 24.305, "distortionOffset": {"x": 1.0, "y": 2.0}, "projectionOffset": {"x": 0.1, "y": 0.2},
    "distortion": [
        {"model": "Brown-Conrady U-D", "radial": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "tangential": [1.0, 2.0],
         "overscan": 3.0},
        {"radial": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], "tangential": [1.5, 2.5], "overscan": 2.0},
    ],
}


def test_the_complete_example_keeps_every_distortion_value() -> None:
    doc = {**EXAMPLE, "lens": COMPLETE_LENS}
    sample = otio.sample_from_document(doc, "src", 0)
    assert sample is not None
    assert sample.distortion == LensDistortion(model="Brown-Conrady U-D", radial=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0),
                                               tangential=(1.0, 2.0), overscan=3.0, offset_mm=(1.0, 2.0))
    # written back and read again: nothing lost
    back = otio.sample_from_document(otio.document_from_sample(sample), "src", 0)
    assert back is not None and back.distortion == sample.distortion


@pytest.mark.parametrize(("entries", "expected"), [
    # the first Brown-Conrady entry wins over a vendor model listed before it
    ([{"model": "Vendor Fisheye", "radial": [0.9]}, {"radial": [0.1, 0.2], "tangential": [0.3]}],
     LensDistortion(model="Brown-Conrady D-U", radial=(0.1, 0.2, 0.0, 0.0, 0.0, 0.0), tangential=(0.3, 0.0))),
    # only unknown models: the first is kept as sent (and not applied)
    ([{"model": "Vendor Fisheye", "radial": [0.9], "overscan": 1.2}],
     LensDistortion(
         model="Vendor Fisheye", radial=(0.9, 0.0, 0.0, 0.0, 0.0, 0.0), tangential=(0.0, 0.0), overscan=1.2)),
])
def test_which_distortion_entry_is_kept(entries: list[dict[str, object]], expected: LensDistortion) -> None:
    sample = otio.sample_from_document({**EXAMPLE, "lens": {"distortion": entries}}, "src", 0)
    assert sample is not None and sample.distortion == expected


@pytest.mark.parametrize(("entries", "reason"), [
    ([{"model": "Brown-Conrady U-D", "radial": [0.1] * 7}], "bad_value"),     # more than k1..k6
    ([{"radial": [0.1], "tangential": [0.1, 0.2, 0.3]}], "bad_value"),        # more than p1, p2
    ([{"radial": [0.1], "model": 3}], "bad_value"),
    ([{"radial": [0.1], "overscan": 0}], "bad_value"),
    ([{"radial": [0.1, "x"]}], "bad_value"),
    ([{"radial": [0.1, 1e400]}], "non_finite"),
    ([3], "bad_value"),
])
def test_bad_distortion_entries_refuse_the_sample(entries: list[object], reason: str) -> None:
    with pytest.raises(otio.ParseError) as caught:
        otio.sample_from_document({**EXAMPLE, "lens": {"distortion": entries}}, "src", 0)
    assert caught.value.reason == reason


def test_a_sample_without_transforms_has_no_pose() -> None:
    assert otio.sample_from_document({"sourceNumber": 1}, "src", 0) is None


def test_transforms_compose_in_list_order() -> None:
    doc = {"transforms": [
        {"id": "Stage", "translation": {"x": 10.0, "y": 0.0, "z": 0.0},
         "rotation": {"pan": 90.0, "tilt": 0, "roll": 0}},
        {"id": "Camera", "translation": {"x": 0.0, "y": 2.0, "z": 1.5},
         "rotation": {"pan": 10.0, "tilt": 5, "roll": 0}},
    ]}
    sample = otio.sample_from_document(doc, "src", 0)
    assert sample is not None
    # panning the parent 90 deg right turns the child's +Y offset into +X
    assert sample.position_m == pytest.approx((12.0, 0.0, 1.5), abs=1e-12)
    assert (sample.pan_deg, sample.tilt_deg, sample.roll_deg) == pytest.approx((100.0, 5.0, 0.0), abs=1e-9)


def test_transform_scale_applies_to_children() -> None:
    doc = {"transforms": [
        {"translation": {"x": 0, "y": 0, "z": 0}, "rotation": {"pan": 0, "tilt": 0, "roll": 0},
         "scale": {"x": 2.0, "y": 2.0, "z": 2.0}},
        {"translation": {"x": 1.0, "y": 1.0, "z": 1.0}, "rotation": {"pan": 0, "tilt": 0, "roll": 0}},
    ]}
    sample = otio.sample_from_document(doc, "src", 0)
    assert sample is not None and sample.position_m == pytest.approx((2.0, 2.0, 2.0))


FULL = CameraSample(protocol="opentrackio", source="src", camera_id=7, arrival_ns=55, x_m=1.25, y_m=-2.5, z_m=1.75,
                    pan_deg=33.0, tilt_deg=-4.5, roll_deg=1.5, focus_raw=1200, iris_raw=3, zoom_raw=40000,
                    focus_norm=0.25, iris_norm=0.5, zoom_norm=0.75, focal_length_mm=32.5, focus_distance_m=3.25,
                    f_stop=2.8, t_stop=3.1, entrance_pupil_m=0.11,
                    distortion=LensDistortion(model="Brown-Conrady U-D", radial=(-0.01, 0.002, 3e-4, 1e-5, -2e-6, 4e-7),
                                              tangential=(0.0001, -0.0002), overscan=1.07, offset_mm=(0.012, -0.034)),
                    projection_offset_mm=(0.05, -0.02), sensor_size_mm=(24.89, 18.66),
                    source_time_ns=1_718_806_554_500_000_000,
                    timecode=Timecode(hours=10, minutes=0, seconds=1, frames=23, rate=Fraction(24000, 1001),
                                            drop_frame=False, sub_frame=0), sequence=999,
                    sample_rate=Fraction(24000, 1001), status="Optical Good")


@pytest.mark.parametrize("encoding", [otio.ENCODING_JSON, otio.ENCODING_CBOR])
def test_a_full_sample_round_trips_through_packets(encoding: int) -> None:
    datagrams = otio.write_sample_packets(FULL, 42, encoding)
    assert len(datagrams) == 1
    packet = otio.parse_packet(datagrams[0])
    back = otio.parse_sample_payload(packet.payload, packet.encoding, "src", 55)
    assert back == FULL


def test_export_json_declares_version_1_0_1() -> None:
    doc = otio.document_from_sample(FULL)
    assert doc["protocol"] == {"name": "OpenTrackIO", "version": [1, 0, 1]}
    assert doc["timing"]["mode"] == "internal" and doc["sourceNumber"] == 7


def _segments(payload: bytes, sequence: int, mtu: int = 100) -> list[otio.Packet]:
    return [otio.parse_packet(d) for d in otio.write_segments(payload, otio.ENCODING_JSON, sequence, mtu)]


def test_segments_reassemble_in_any_order() -> None:
    payload = json.dumps(EXAMPLE).encode()
    parts = _segments(payload, 5)
    assert len(parts) > 3 and all(len(p.payload) <= 84 for p in parts)
    reassembler = otio.Reassembler()
    results = [reassembler.feed("a", p) for p in reversed(parts)]
    assert results[:-1] == [None] * (len(parts) - 1)
    assert results[-1] == (otio.ENCODING_JSON, payload)


def test_a_lost_segment_loses_the_payload_and_the_next_one_still_arrives() -> None:
    reassembler = otio.Reassembler()
    first, second = _segments(b"x" * 300, 1), _segments(b"y" * 300, 2)
    for p in first[:-1]:
        assert reassembler.feed("a", p) is None
    for p in second[:-1]:
        assert reassembler.feed("a", p) is None
    assert reassembler.feed("a", second[-1]) == (otio.ENCODING_JSON, b"y" * 300)
    assert reassembler.incomplete == 1
    with pytest.raises(otio.ParseError, match="older"):  # the missing piece of #1 arrives too late
        reassembler.feed("a", first[-1])


def test_duplicate_and_out_of_order_sequences_are_dropped() -> None:
    reassembler = otio.Reassembler()
    packet = lambda seq: otio.parse_packet(otio.write_packet(b'{"sourceNumber":1}', 1, seq))
    assert reassembler.feed("a", packet(10)) is not None
    with pytest.raises(otio.ParseError) as dup:
        reassembler.feed("a", packet(10))
    with pytest.raises(otio.ParseError) as late:
        reassembler.feed("a", packet(9))
    assert (dup.value.reason, late.value.reason) == ("duplicate", "out_of_order")
    assert reassembler.feed("b", packet(9)) is not None  # senders are independent
    assert reassembler.feed("a", packet(11)) is not None


def test_sequence_numbers_wrap_and_a_restarted_sender_is_accepted_again() -> None:
    assert otio.sequence_delta(0, 65535) == 1 and otio.sequence_delta(65535, 0) == -1
    reassembler = otio.Reassembler()
    packet = lambda seq: otio.parse_packet(otio.write_packet(b'{"sourceNumber":1}', 1, seq))
    assert reassembler.feed("a", packet(65535)) is not None
    assert reassembler.feed("a", packet(0)) is not None
    reassembler.feed("a", packet(30000))
    dropped = 0
    for seq in range(1, 40):  # the sender restarted from 1: dropped for a while, then resynchronised
        try:
            reassembler.feed("a", packet(seq))
        except otio.ParseError:
            dropped += 1
    assert 0 < dropped <= 17


def test_multicast_groups() -> None:
    assert otio.multicast_group(1) == "239.135.1.1"
    assert otio.multicast_group(200, legacy=True) == "235.135.1.200"
    with pytest.raises(ValueError):
        otio.multicast_group(0)


def test_pinhole_focal_length_alias() -> None:
    sample = otio.sample_from_document({"transforms": EXAMPLE["transforms"], "lens": {"focalLength": 50.0}}, "s", 0)
    assert sample is not None and sample.focal_length_mm == 50.0
    assert not math.isnan(sample.x_m)
