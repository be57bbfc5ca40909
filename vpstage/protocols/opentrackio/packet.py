"""OpenTrackIO packets: the 16-byte header, Fletcher-16, and splitting a payload into segments.

Header (big-endian, protocol reference §2.3)::

    0-3   "OTrk"
    4     reserved (0)
    5     encoding: 0x01 JSON, 0x02 CBOR (0x80+ vendor)
    6-7   sequence number
    8-11  segment offset (byte offset of this segment in the whole payload)
    12-13 bit 15: last segment; bits 0-14: payload bytes in this datagram
    14-15 Fletcher-16 over header bytes 0-13 followed by the payload

Version 1.0.1 computes Fletcher-16 modulo 256, version 1.0.0 modulo 255. We write 256 and accept
both on read (``Packet.checksum_modulus`` says which one matched).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from vpstage.protocols.errors import CodecError

HEADER_SIZE = 16
IDENTIFIER = b"OTrk"
ENCODING_JSON = 0x01
ENCODING_CBOR = 0x02
VENDOR_ENCODING_MIN = 0x80
LAST_SEGMENT_FLAG = 0x8000
MAX_SEGMENT_PAYLOAD = 0x7FFF
"""Largest payload one datagram can declare (15-bit length field)."""
DEFAULT_PORT = 55555
DEFAULT_MTU = 1500
MAX_UDP_PAYLOAD = 65507
MODULUS_V1_0_1 = 256
MODULUS_V1_0_0 = 255
MULTICAST_PREFIX = "239.135.1."
MULTICAST_PREFIX_V1_0_0 = "235.135.1."
SOURCE_NUMBER_RANGE = (1, 200)

_HEADER = struct.Struct(">4sBBHIHH")
_HEADER_NO_CHECKSUM = struct.Struct(">4sBBHIH")


class ParseError(CodecError):
    """Not a valid OpenTrackIO packet, payload or sample."""


def fletcher16(data: bytes | bytearray | memoryview, modulus: int = MODULUS_V1_0_1) -> int:
    """Fletcher-16 as OpenTrackIO uses it: ``(s2 << 8) | s1`` with both sums taken mod ``modulus``.

    The running sums ``s1 += b; s2 += s1`` reduced at every step equal the closed forms
    ``s1 = sum(b)`` and ``s2 = sum((n - i) * b[i])`` reduced once at the end (reduction commutes
    with addition), so numpy computes them exactly in int64.
    """
    values = np.frombuffer(bytes(data), dtype=np.uint8).astype(np.int64)
    s1 = int(values.sum()) % modulus
    s2 = int(values @ np.arange(len(values), 0, -1, dtype=np.int64)) % modulus
    return (s2 << 8) | s1


@dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """One datagram: header fields and this segment's payload bytes."""

    encoding: int
    sequence: int
    segment_offset: int
    last_segment: bool
    payload: bytes
    checksum_modulus: int = MODULUS_V1_0_1

    @property
    def is_whole(self) -> bool:
        """True when this datagram carries the entire payload (no reassembly needed)."""
        return self.segment_offset == 0 and self.last_segment


def write_packet(payload: bytes, encoding: int, sequence: int, segment_offset: int = 0,
                 last_segment: bool = True, modulus: int = MODULUS_V1_0_1) -> bytes:
    """Encode one datagram. Raises ValueError when a field does not fit."""
    if len(payload) > MAX_SEGMENT_PAYLOAD:
        raise ValueError(f"segment payload of {len(payload)} bytes exceeds {MAX_SEGMENT_PAYLOAD}")
    if not (0 <= encoding <= 0xFF and 0 <= sequence <= 0xFFFF and 0 <= segment_offset <= 0xFFFFFFFF):
        raise ValueError("encoding, sequence or segment offset out of range")
    length_field = len(payload) | (LAST_SEGMENT_FLAG if last_segment else 0)
    head = _HEADER_NO_CHECKSUM.pack(IDENTIFIER, 0, encoding, sequence, segment_offset, length_field)
    return head + struct.pack(">H", fletcher16(head + payload, modulus)) + payload


def parse_packet(data: bytes | bytearray | memoryview) -> Packet:
    """Decode one datagram. Raises ParseError (reasons: truncated, identifier, length, checksum)."""
    if len(data) < HEADER_SIZE:
        raise ParseError(f"{len(data)} bytes is shorter than the 16-byte header", "truncated")
    ident, _reserved, encoding, sequence, offset, length_field, check = _HEADER.unpack_from(data)
    if ident != IDENTIFIER:
        raise ParseError("identifier is not 'OTrk'", "identifier")
    length = length_field & MAX_SEGMENT_PAYLOAD
    if len(data) - HEADER_SIZE != length:
        reason = "truncated" if len(data) - HEADER_SIZE < length else "oversized"
        raise ParseError(f"header says {length} payload bytes, datagram has {len(data) - HEADER_SIZE}", reason)
    covered = bytes(data[:14]) + bytes(data[HEADER_SIZE:])
    if fletcher16(covered, MODULUS_V1_0_1) == check:
        modulus = MODULUS_V1_0_1
    elif fletcher16(covered, MODULUS_V1_0_0) == check:
        modulus = MODULUS_V1_0_0
    else:
        raise ParseError("Fletcher-16 checksum mismatch (mod 256 and mod 255)", "checksum")
    return Packet(encoding=encoding, sequence=sequence, segment_offset=offset,
                  last_segment=bool(length_field & LAST_SEGMENT_FLAG), payload=bytes(data[HEADER_SIZE:]),
                  checksum_modulus=modulus)


def write_segments(payload: bytes, encoding: int, sequence: int, mtu: int = DEFAULT_MTU,
                   modulus: int = MODULUS_V1_0_1) -> list[bytes]:
    """Split ``payload`` into datagrams of at most ``mtu`` bytes, all with the same sequence number."""
    chunk = min(mtu - HEADER_SIZE, MAX_SEGMENT_PAYLOAD)
    if chunk <= 0:
        raise ValueError(f"MTU {mtu} leaves no room after the {HEADER_SIZE}-byte header")
    if not payload:
        return [write_packet(b"", encoding, sequence, 0, True, modulus)]
    starts = range(0, len(payload), chunk)
    return [write_packet(payload[s:s + chunk], encoding, sequence, s, s + chunk >= len(payload), modulus)
            for s in starts]


def multicast_group(source_number: int, legacy: bool = False) -> str:
    """The multicast group for a source number (1-200): ``239.135.1.N`` (``235.135.1.N`` for 1.0.0)."""
    low, high = SOURCE_NUMBER_RANGE
    if not low <= source_number <= high:
        raise ValueError(f"source number {source_number} is outside {low}-{high}")
    return (MULTICAST_PREFIX_V1_0_0 if legacy else MULTICAST_PREFIX) + str(source_number)
