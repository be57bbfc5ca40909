"""FreeD (Vinten free-d) wire codec: D1 position messages, D0 commands, the checksum.

Layout (protocol reference §1.3-1.6), big-endian throughout::

    D1 (29 bytes): D1 id pan(3) tilt(3) roll(3) x(3) y(3) z(3) zoom(3) focus(3) spare(2) ck
    D0 (4 bytes):  D0 id command ck

Angles are signed 24-bit in 1/32768 degree, positions signed 24-bit in 1/64 mm, zoom and focus
unsigned 24-bit raw encoder counts. The checksum makes every valid message sum to 0x40 mod 256.
Axes: Z up, pan from +Y turning right, tilt up, roll clockwise seen from behind (§1.5).

Functions follow python-osc's style: ``write_x(value) -> bytes`` and ``parse_x(bytes) -> value``,
raising :class:`ParseError` (with a ``reason``) on anything malformed. ``D1FrameScanner`` finds
valid D1 frames in a serial byte stream that may start mid-frame or carry garbage.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import NamedTuple

from vpstage.protocols.errors import CodecError

D1_SIZE = 29
D0_SIZE = 4
MSG_D1 = 0xD1
MSG_D0 = 0xD0
CHECKSUM_TARGET = 0x40
"""Every valid message, checksum included, sums to this modulo 256."""
BROADCAST_ID = 0xFF
ANGLE_UNITS_PER_DEG = 32768
POSITION_UNITS_PER_MM = 64
INT24_MIN, INT24_MAX = -(1 << 23), (1 << 23) - 1
UINT24_MAX = (1 << 24) - 1
UINT16_MAX = 0xFFFF

# type, camera id, then eight 24-bit fields each read as (high byte, low 16 bits), spare, checksum
_D1 = struct.Struct(">BB" + "BH" * 8 + "HB")
_D1_BODY = struct.Struct(">BB" + "BH" * 8 + "H")


class ParseError(CodecError):
    """Not a valid FreeD message."""


class Command(IntEnum):
    """D0 poll/command codes (reference §1.6)."""

    STOP_STREAM = 0x00
    START_STREAM = 0x01
    STOP_FREEZE = 0x02
    START_FREEZE = 0x03
    POLL_POSITION = 0xD1
    REQUEST_STATUS = 0xD2
    REQUEST_PARAMETERS = 0xD3
    FIRST_TARGET = 0xD4
    NEXT_TARGET = 0xD5
    FIRST_IMAGE_POINT = 0xD6
    NEXT_IMAGE_POINT = 0xD7
    NEXT_EEPROM_DATA = 0xD8
    CALIBRATION_VALUES = 0xDA
    DIAGNOSTIC_MODE = 0xDB


class FreeDPosition(NamedTuple):
    """The content of one D1 message, in wire units made readable (degrees, millimetres, raw)."""

    camera_id: int
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    x_mm: float
    y_mm: float
    z_mm: float
    zoom_raw: int
    focus_raw: int
    spare: int = 0


def checksum(body: bytes | bytearray | memoryview) -> int:
    """The checksum byte for ``body`` (every byte before the checksum)."""
    return (CHECKSUM_TARGET - sum(body)) & 0xFF


def _signed(hi: int, lo: int) -> int:
    return ((hi ^ 0x80) - 0x80) * 65536 + lo  # sign-extend the high byte


def parse_d1(data: bytes | bytearray | memoryview) -> FreeDPosition:
    """Decode a 29-byte D1 message. Raises ParseError (reasons: size, type, checksum)."""
    if len(data) != D1_SIZE:
        raise ParseError(f"D1 message is {D1_SIZE} bytes, got {len(data)}", "size")
    (kind, cam, pan_h, pan_l, tilt_h, tilt_l, roll_h, roll_l, x_h, x_l, y_h, y_l, z_h, z_l,
     zoom_h, zoom_l, focus_h, focus_l, spare, _) = _D1.unpack(data)
    if kind != MSG_D1:
        raise ParseError(f"message type 0x{kind:02X} is not D1", "type")
    if sum(data) & 0xFF != CHECKSUM_TARGET:
        raise ParseError("D1 checksum mismatch", "checksum")
    return FreeDPosition(  # positional, in field order: keywords cost this hot path 20 % (a NamedTuple)
        cam,
        _signed(pan_h, pan_l) / ANGLE_UNITS_PER_DEG,
        _signed(tilt_h, tilt_l) / ANGLE_UNITS_PER_DEG,
        _signed(roll_h, roll_l) / ANGLE_UNITS_PER_DEG,
        _signed(x_h, x_l) / POSITION_UNITS_PER_MM,
        _signed(y_h, y_l) / POSITION_UNITS_PER_MM,
        _signed(z_h, z_l) / POSITION_UNITS_PER_MM,
        zoom_h * 65536 + zoom_l,
        focus_h * 65536 + focus_l,
        spare,
    )


def _to_int24(value: float, scale: int, name: str) -> tuple[int, int]:
    units = round(value * scale)
    if not INT24_MIN <= units <= INT24_MAX:
        raise ValueError(f"{name}={value} does not fit FreeD's signed 24-bit field")
    units &= 0xFFFFFF
    return units >> 16, units & 0xFFFF


def _to_uint(value: int, limit: int, name: str) -> int:
    if not 0 <= value <= limit:
        raise ValueError(f"{name}={value} is outside 0..{limit}")
    return value


def write_d1(pos: FreeDPosition) -> bytes:
    """Encode a D1 message. Values are rounded to wire units; out-of-range values raise ValueError."""
    _to_uint(pos.camera_id, 0xFF, "camera_id")
    fields: list[int] = []
    for value, scale, name in ((pos.pan_deg, ANGLE_UNITS_PER_DEG, "pan_deg"),
                               (pos.tilt_deg, ANGLE_UNITS_PER_DEG, "tilt_deg"),
                               (pos.roll_deg, ANGLE_UNITS_PER_DEG, "roll_deg"),
                               (pos.x_mm, POSITION_UNITS_PER_MM, "x_mm"),
                               (pos.y_mm, POSITION_UNITS_PER_MM, "y_mm"),
                               (pos.z_mm, POSITION_UNITS_PER_MM, "z_mm")):
        fields.extend(_to_int24(value, scale, name))
    for raw, name in ((pos.zoom_raw, "zoom_raw"), (pos.focus_raw, "focus_raw")):
        _to_uint(raw, UINT24_MAX, name)
        fields.extend((raw >> 16, raw & 0xFFFF))
    body = _D1_BODY.pack(MSG_D1, pos.camera_id, *fields, _to_uint(pos.spare, UINT16_MAX, "spare"))
    return body + bytes((checksum(body),))


def write_d0(camera_id: int, command: int) -> bytes:
    """Encode a 4-byte D0 poll/command message (``camera_id`` 0xFF addresses every unit)."""
    body = bytes((MSG_D0, _to_uint(camera_id, 0xFF, "camera_id"), _to_uint(int(command), 0xFF, "command")))
    return body + bytes((checksum(body),))


def parse_d0(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """Decode a D0 message into (camera id, command byte). Raises ParseError."""
    if len(data) != D0_SIZE:
        raise ParseError(f"D0 message is {D0_SIZE} bytes, got {len(data)}", "size")
    if data[0] != MSG_D0:
        raise ParseError(f"message type 0x{data[0]:02X} is not D0", "type")
    if sum(data) & 0xFF != CHECKSUM_TARGET:
        raise ParseError("D0 checksum mismatch", "checksum")
    return data[1], data[2]


class D1FrameScanner:
    """Finds valid D1 frames in a byte stream (FreeD over serial), resynchronising after garbage.

    ``feed(chunk)`` returns the complete, checksum-valid 29-byte frames found so far; a partial
    frame at the end waits for the next chunk. Bytes that cannot start a valid frame are
    discarded: ``garbage_bytes`` counts them and ``garbage_runs`` counts each contiguous run (one
    "bad packet" each). A run of garbage that starts with 0xD1 and happens to satisfy the checksum
    (1 chance in 256 per candidate) is indistinguishable from a frame; the 8-bit checksum cannot
    do better. Not thread-safe: one scanner per serial port, used by its reader thread.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbage_bytes = 0
        self.garbage_runs = 0
        self._in_garbage = False

    def _discard(self, count: int) -> None:
        if count <= 0:
            return
        del self._buf[:count]
        self.garbage_bytes += count
        if not self._in_garbage:
            self.garbage_runs += 1
            self._in_garbage = True

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[bytes]:
        self._buf += chunk
        frames: list[bytes] = []
        buf = self._buf
        while True:
            start = buf.find(MSG_D1)
            if start < 0:
                self._discard(len(buf))
                return frames
            self._discard(start)
            if len(buf) < D1_SIZE:
                return frames
            if sum(buf[:D1_SIZE]) & 0xFF == CHECKSUM_TARGET:
                frames.append(bytes(buf[:D1_SIZE]))
                del buf[:D1_SIZE]
                self._in_garbage = False
            else:
                self._discard(1)  # not a frame start after all: look for the next 0xD1

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)
