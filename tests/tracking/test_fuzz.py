"""Property-based fuzzing of every decoder: 10,000 inputs each, no crash, only our own errors.

One test per decoder family; each feeds plain random bytes and, to get past the first checks,
valid messages corrupted by a random byte string (cheap to generate, so 10,000 examples stay
affordable). A codec may only raise its ParseError; a receiver-side decoder only reports drop
reasons. The D1/D0 codec test and the OpenTrackIO packet test drive both the pure codec and the
receiver's decoder with the same input.
"""

from __future__ import annotations

import itertools
import json
import math
import struct
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.tracking.decoders import FreeDDecoder, OpenTrackIODecoder, OscDecoder, SerialFreeDDecoder
from vpstage.protocols import freed, opentrackio, osc_map
from vpstage.tracking.sample import CameraSample

FUZZ = settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
SENDER = ("127.0.0.1", 5000)

VALID_D1 = freed.write_d1(freed.FreeDPosition(1, 45.0, -10.5, 0.0, 1000.0, -2500.5, 1650.0, 0x1234, 0x800))
VALID_D0 = freed.write_d0(1, freed.Command.POLL_POSITION)
_SAMPLE = CameraSample("opentrackio", "x", 1, 0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, focal_length_mm=35.0,
                       focus_distance_m=2.0, zoom_raw=7, distortion=(0.1, 0.0, 0.0, 0.0),
                       sequence=3, status="ok")
VALID_DOC = opentrackio.document_from_sample(_SAMPLE, sample_id="urn:x")
VALID_OTIO = opentrackio.write_packet(opentrackio.encode_document(VALID_DOC), opentrackio.ENCODING_JSON, 9)
NASTY: list[Any] = [math.nan, math.inf, -math.inf, "x", True, None, 2**80, -1, 1e308, "[]", "{}", "[1.0]", '{"x": 1}']
"""Replacement values; the JSON strings become fresh containers each time (no shared objects)."""


def mutate(valid: bytes, seed: bytes) -> bytes:
    """Corrupt ``valid`` as ``seed`` says: pairs of (position, value) overwrite bytes; the last
    byte picks a cut (shorter, longer, or whole)."""
    data = bytearray(valid)
    for i in range(0, len(seed) - 1, 2):
        data[seed[i] * len(data) // 256] = seed[i + 1]
    if seed and seed[-1] < 64:
        return bytes(data[: seed[-1] * len(data) // 64])
    if seed and seed[-1] > 224:
        return bytes(data) + seed
    return bytes(data)


def _with_d1_checksum(body: bytes) -> bytes:
    head = bytes([freed.MSG_D1]) + body[:27]
    return head + bytes([freed.checksum(head)])


def _freed_input(seed: bytes) -> bytes:
    """Random bytes, a corrupted D1 or D0, or a D1 with random fields and a correct checksum."""
    kind, rest = (seed[0] % 4, seed[1:]) if seed else (0, b"")
    if kind == 0:
        return rest
    if kind == 1:
        return mutate(VALID_D1, rest[:7])
    if kind == 2:
        return mutate(VALID_D0, rest[:5])
    return _with_d1_checksum(rest.ljust(27, b"\x00"))


@FUZZ
@given(st.binary(max_size=41).map(_freed_input))
def test_fuzz_freed_d1_d0_and_udp_decoder(data: bytes) -> None:
    decoded = FreeDDecoder().decode(data, SENDER, 0)
    assert decoded.packets + len(decoded.bad) == 1
    assert set(decoded.bad) <= {"size", "type", "checksum"}
    if decoded.samples:  # whatever decodes re-encodes to the same bytes
        assert freed.write_d1(freed.parse_d1(data)) == data
    try:
        camera, command = freed.parse_d0(data)
    except freed.ParseError:
        return
    assert freed.write_d0(camera, command) == data


def _serial_stream(seed: bytes) -> tuple[list[bytes], int, bool]:
    """Random bytes with whole and damaged D1 frames spliced in, cut into chunks; also returns how
    many intact frames went in and whether nothing else did."""
    stream, intact, clean, i = bytearray(), 0, True, 0
    while i < len(seed):
        op = seed[i]
        if op < 64:
            stream += VALID_D1
            intact += 1
        elif op < 96:
            stream += mutate(VALID_D1, seed[i + 1:i + 4])
            clean = False
        else:
            stream += seed[i + 1:i + 1 + op % 8]
            clean = clean and not seed[i + 1:i + 1 + op % 8]
        i += 1 + op % 4
    cuts = sorted({b * len(stream) // 256 for b in seed[:4]} | {0, len(stream)})
    return [bytes(stream[a:b]) for a, b in itertools.pairwise(cuts)], intact, clean


@FUZZ
@given(st.binary(max_size=48).map(_serial_stream))
def test_fuzz_serial_resync(case: tuple[list[bytes], int, bool]) -> None:
    chunks, intact, clean = case
    decoder = SerialFreeDDecoder()
    frames = 0
    for chunk in chunks:
        decoded = decoder.decode(chunk, "/dev/ttyS0", 0)
        frames += decoded.packets
        assert set(decoded.bad) <= {"garbage"}
    assert decoder.scanner.pending < freed.D1_SIZE
    assert frames <= len(b"".join(chunks)) // freed.D1_SIZE
    if clean:  # back-to-back frames are all found, however the line chops them up
        assert frames == intact and decoder.scanner.garbage_bytes == 0


def _rechecked(seed: bytes) -> bytes:
    """A packet whose header and checksum are valid around random content (reaches reassembly)."""
    head = seed[:4].ljust(4, b"\x00")
    return opentrackio.write_packet(seed[4:], head[0] % 3, head[1] % 8, head[2] % 16, head[3] % 2 == 0)


def _datagrams(seed: bytes) -> list[bytes]:
    """Up to four datagrams from one seed: random bytes, a corrupted sample packet, or a packet with
    a valid header around random content (segments that reach the reassembler)."""
    out = []
    for i in range(0, len(seed), 12):
        part = seed[i:i + 12]
        kind = part[0] % 3
        out.append(part[1:] if kind == 0 else mutate(VALID_OTIO, part[1:]) if kind == 1 else _rechecked(part[1:]))
    return out or [b""]


@FUZZ
@given(st.binary(max_size=48).map(_datagrams))
def test_fuzz_opentrackio_packets_and_reassembly(datagrams: list[bytes]) -> None:
    decoder = OpenTrackIODecoder()
    for data in datagrams:
        try:
            packet = opentrackio.parse_packet(data)
            assert opentrackio.HEADER_SIZE + len(packet.payload) == len(data)
        except opentrackio.ParseError as exc:
            assert exc.reason in {"truncated", "oversized", "identifier", "checksum"}
        decoded = decoder.decode(data, SENDER, 0)
        assert decoded.packets + len(decoded.bad) == 1
        assert all(s.is_finite() for s in decoded.samples)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


DOC_PATHS = _leaves(VALID_DOC)[1:]


def _mutated_document(seed: bytes) -> Any:
    doc = json.loads(json.dumps(VALID_DOC))
    for i in range(0, len(seed) - 1, 2):
        *parents, last = DOC_PATHS[seed[i] % len(DOC_PATHS)]
        node = doc
        try:
            for key in parents:
                node = node[key]
            value = NASTY[seed[i + 1] % len(NASTY)]
            node[last] = json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change already replaced a parent
    return doc


def _payload(seed: bytes) -> tuple[bytes, int]:
    doc = _mutated_document(seed[1:])
    if seed and seed[0] % 2:
        return bytes(cbor2.dumps(doc)), opentrackio.ENCODING_CBOR
    return json.dumps(doc).encode(), opentrackio.ENCODING_JSON


@FUZZ
@given(st.one_of(st.binary(max_size=9).map(_payload),
                 st.tuples(st.binary(max_size=120), st.sampled_from([1, 2, 0x80]))))
def test_fuzz_opentrackio_documents(case: tuple[bytes, int]) -> None:
    """Valid samples with fields replaced by NaN, inf, huge ints, wrong types (JSON or CBOR), and
    random payload bytes."""
    payload, encoding = case
    try:
        sample = opentrackio.parse_sample_payload(payload, encoding, "src", 0)
    except opentrackio.ParseError:
        return
    assert sample is None or sample.is_finite()


OSC_ADDRESSES = ["/vp/cam/1/pose", "/vp/cam/x/lens", "/tracker/position/A", "/p/arkitposition",
                 "/p/arkitrotation", "/vp/cam/*/pose", "/a", "/vp/cam/[1]/pose"]
OSC_VALID = [osc_map.write_message("/vp/cam/1/pose", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
             osc_map.write_bundle(osc_map.vp_messages(_SAMPLE))]


def _osc_args(raw: bytes) -> list[Any]:
    """Arguments from bytes: float32s (NaN and inf included), ints and short strings."""
    args: list[Any] = []
    for i in range(0, len(raw) - 4, 5):
        kind, word = raw[i] % 4, raw[i + 1:i + 5]
        if kind < 2:
            args.append(struct.unpack(">f", word)[0])
        elif kind == 2:
            args.append(struct.unpack(">i", word)[0])
        else:
            args.append("ab"[: word[0] % 3])
    return args


def _osc_input(seed: bytes) -> bytes:
    """Random bytes, a message or bundle built from the seed, or a corrupted valid datagram."""
    kind, rest = (seed[0] % 3, seed[1:]) if seed else (0, b"")
    if kind == 0:
        return rest
    if kind == 1:
        return mutate(OSC_VALID[len(rest) % 2], rest[:6])
    messages = [(OSC_ADDRESSES[part[0] % len(OSC_ADDRESSES)], _osc_args(part[1:]))
                for part in (rest[i:i + 31] for i in range(0, len(rest), 31)) if part]
    if not messages:
        return b""
    return osc_map.write_bundle(messages) if len(messages) > 1 else osc_map.write_message(*messages[0])


@FUZZ
@given(st.binary(max_size=80).map(_osc_input), st.sampled_from(sorted(osc_map.PRESETS)))
def test_fuzz_osc_decoder(data: bytes, preset: str) -> None:
    decoded = OscDecoder(osc_map.PRESETS[preset]).decode(data, SENDER, 0)
    assert decoded.packets + len(decoded.bad) == 1
    assert all(s.is_finite() for s in decoded.samples)
