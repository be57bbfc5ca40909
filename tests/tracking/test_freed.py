"""FreeD codec: the reference's worked vectors (TV-F2, TV-F3, TV-F4), errors, serial resync."""

import pytest

from vpstage.protocols import freed

TV_F2 = bytes.fromhex("d1 01 16 80 00 fa c0 00 00 00 00 00 fa 00 fd 8e e0 01 9c 80 00 12 34 00 08 00 00 00 4e")
TV_F2_POSITION = freed.FreeDPosition(camera_id=1, pan_deg=45.0, tilt_deg=-10.5, roll_deg=0.0, x_mm=1000.0,
                                     y_mm=-2500.5, z_mm=1650.0, zoom_raw=0x001234, focus_raw=0x000800, spare=0)


def _with_field(offset: int, value: bytes) -> bytes:
    body = bytearray(TV_F2[:-1])
    body[offset:offset + 3] = value
    return bytes(body) + bytes((freed.checksum(body),))


def test_tv_f2_decodes_and_encodes_to_the_golden_bytes() -> None:
    assert freed.parse_d1(TV_F2) == TV_F2_POSITION
    assert freed.write_d1(TV_F2_POSITION) == TV_F2
    assert sum(TV_F2) % 256 == 0x40


@pytest.mark.parametrize("offset,raw,expected", [
    (2, "5a0000", 180.0), (2, "a60000", -180.0), (8, "5a0000", 180.0), (5, "a60000", -180.0),
])
def test_tv_f3_angle_end_points(offset: int, raw: str, expected: float) -> None:
    pos = freed.parse_d1(_with_field(offset, bytes.fromhex(raw)))
    assert {2: pos.pan_deg, 5: pos.tilt_deg, 8: pos.roll_deg}[offset] == expected


@pytest.mark.parametrize("raw,expected", [("800000", -131072.0), ("7fffff", 131071.984375)])
def test_tv_f3_position_end_points(raw: str, expected: float) -> None:
    for offset, attr in ((11, "x_mm"), (14, "y_mm"), (17, "z_mm")):
        assert getattr(freed.parse_d1(_with_field(offset, bytes.fromhex(raw))), attr) == expected


def test_tv_f4_d0_commands() -> None:
    assert freed.write_d0(freed.BROADCAST_ID, freed.Command.START_STREAM) == bytes.fromhex("d0ff0170")
    assert freed.write_d0(1, freed.Command.POLL_POSITION) == bytes.fromhex("d001d19e")
    assert freed.parse_d0(bytes.fromhex("d001d19e")) == (1, 0xD1)


@pytest.mark.parametrize("data,reason", [
    (TV_F2[:-1], "size"), (TV_F2 + b"\x00", "size"), (b"", "size"),
    (bytes((0xD2,)) + TV_F2[1:], "type"),
    (TV_F2[:-1] + bytes(((TV_F2[-1] + 1) & 0xFF,)), "checksum"),
])
def test_bad_d1_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(freed.ParseError) as info:
        freed.parse_d1(data)
    assert info.value.reason == reason


def test_bad_d0_is_refused() -> None:
    with pytest.raises(freed.ParseError, match="checksum"):
        freed.parse_d0(bytes.fromhex("d0ff0171"))
    with pytest.raises(freed.ParseError):
        freed.parse_d0(TV_F2)


def test_encoding_rounds_to_wire_units_and_refuses_what_does_not_fit() -> None:
    pos = freed.FreeDPosition(camera_id=3, pan_deg=-0.00001, tilt_deg=89.99999, roll_deg=12.3456789, x_mm=0.001,
                              y_mm=-0.01, z_mm=131071.98, zoom_raw=0xFFFFFF, focus_raw=0, spare=0xFFFF)
    back = freed.parse_d1(freed.write_d1(pos))
    assert back.tilt_deg == pytest.approx(90.0, abs=1 / 32768)
    assert back.roll_deg == pytest.approx(12.3456789, abs=0.5 / 32768)
    assert (back.zoom_raw, back.spare) == (0xFFFFFF, 0xFFFF)
    with pytest.raises(ValueError, match="x_mm"):
        freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=0, tilt_deg=0, roll_deg=0, x_mm=200_000.0, y_mm=0,
                                           z_mm=0, zoom_raw=0, focus_raw=0))
    with pytest.raises(ValueError, match="zoom_raw"):
        freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=0, tilt_deg=0, roll_deg=0, x_mm=0, y_mm=0, z_mm=0,
                                           zoom_raw=1 << 24, focus_raw=0))


def test_scanner_finds_frames_after_garbage_and_across_chunks() -> None:
    other = freed.write_d1(freed.FreeDPosition(camera_id=2, pan_deg=10, tilt_deg=20, roll_deg=30, x_mm=1, y_mm=2,
                                               z_mm=3, zoom_raw=4, focus_raw=5))
    stream = b"\x00\xd1\xd1garbage" + TV_F2 + TV_F2[:10] + b"\xff" + other
    scanner = freed.D1FrameScanner()
    frames = []
    for i in range(0, len(stream), 7):  # arbitrary chunking, frames split across reads
        frames += scanner.feed(stream[i:i + 7])
    assert frames == [TV_F2, other]
    assert scanner.garbage_runs == 2  # the junk before the first frame, the torn frame before the second
    assert scanner.garbage_bytes == 10 + 11
    assert scanner.pending == 0


def test_scanner_keeps_a_partial_frame_until_it_completes() -> None:
    scanner = freed.D1FrameScanner()
    assert scanner.feed(TV_F2[:28]) == []
    assert scanner.pending == 28
    assert scanner.feed(TV_F2[28:]) == [TV_F2]
