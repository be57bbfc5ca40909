"""Seeded fuzzing of every tracking decoder through a receiver, as an attacker on the network would.

Each protocol gets a fixed number of datagrams from a seeded generator (so a failure reproduces):
random bytes, truncated, bit-flipped and oversized copies of valid packets, valid packets carrying
extreme values (NaN, infinities, huge and negative numbers, wrong types), protocol-specific attacks
(OpenTrackIO segments that never complete, from many source ports; OSC addresses of kilobytes,
wildcards, deep and looping bundles, unknown argument types; thousands of camera ids) and valid
packets. They go through ``Receiver.feed`` (the receiver thread's step, without the socket), under
tracemalloc. Every test asserts that

* no exception escapes and every datagram is counted once: as a good packet or under a reason
  named in ``vpstage.protocols.errors.BAD_REASONS`` (discarded data under ``DISCARD_REASONS``);
* memory stays bounded: what the receiver holds after all datagrams is within a fixed budget and
  stops growing (the second half of the run adds almost nothing to the first);
* a valid packet afterwards still decodes into the expected sample.

Whatever decodes must also be finite, and FreeD frames that decode re-encode to the same bytes.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import random
import struct
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import cbor2
import pytest

from devices.tracking.decoders import Decoder, FreeDDecoder, OpenTrackIODecoder, OscDecoder, SerialFreeDDecoder
from devices.tracking.receiver import Receiver
from devices.tracking.transports import Read
from vpstage.protocols import freed, opentrackio, osc_map
from vpstage.protocols.errors import BAD_REASONS, DISCARD_REASONS
from vpstage.protocols.opentrackio.packet import MAX_SEGMENT_PAYLOAD
from vpstage.tracking.sample import CameraSample

MS = 1_000_000
STEP_NS = MS  # simulated arrival times: 1000 datagrams per second, so expiry and staleness happen
AFTER_NS = 15_000 * MS  # the valid packet comes this long after the flood (stream expiry is 10 s)
SENDER = ("127.0.0.1", 5000)
MEMORY_BUDGET = 8 << 20
"""Bytes a receiver may have allocated (and kept) after any flood with the default limits."""
SECOND_HALF_GROWTH = 512 << 10
"""Bytes the second half of a flood may add to what the first half left."""

VALID_POSE = freed.FreeDPosition(camera_id=1, pan_deg=45.0, tilt_deg=-10.5, roll_deg=0.0, x_mm=1000.0, y_mm=-2500.5,
                                 z_mm=1650.0, zoom_raw=0x1234, focus_raw=0x800)
VALID_D1 = freed.write_d1(VALID_POSE)
SAMPLE = CameraSample(protocol="opentrackio", source="x", camera_id=1, arrival_ns=0, x_m=1.0, y_m=2.0, z_m=3.0,
                      pan_deg=4.0, tilt_deg=5.0, roll_deg=6.0, focal_length_mm=35.0, focus_distance_m=2.0, zoom_raw=7,
                      distortion=(0.1, 0.0, 0.0, 0.0), sequence=3, status="ok")
VALID_DOC = opentrackio.document_from_sample(SAMPLE, sample_id="urn:x")
EXTREMES: list[Any] = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0, 2**63, -(2**63), 2**80,
                       -1, 0, True, None, "x", "", [], {}, [1.0], {"x": 1}]
"""Values put in place of valid ones; containers are copied before use."""
FLOATS32 = [math.nan, math.inf, -math.inf, 3.4e38, -3.4e38, 1e-45, -0.0, 0.0, 1.0, -123456.0]
INTS32 = [0, -1, 2**31 - 1, -(2**31), 1]
IMMEDIATELY = bytes(7) + b"\x01"  # the OSC time tag "now"


class NullTransport:
    """The receiver's transport is not used by ``feed``; ``stats()`` reads its address."""

    address = "fuzz://"

    def open(self) -> None: ...
    def read(self, timeout_s: float) -> Read:
        return []
    def close(self) -> None: ...


def make_receiver(decoder: Decoder) -> Receiver:
    return Receiver(f"fuzz-{decoder.protocol}", NullTransport(), decoder)


# ---------------------------------------------------------------------------------- mutations

def truncated(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data))] if data else data


def bit_flipped(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_spliced(rng: random.Random, data: bytes) -> bytes:
    """Random bytes written over, inserted into or appended to a copy."""
    out = bytearray(data)
    at = rng.randrange(len(out) + 1)
    chunk = rng.randbytes(rng.randint(1, 8))
    if rng.random() < 0.5:
        out[at:at + len(chunk)] = chunk
    else:
        out[at:at] = chunk
    return bytes(out)


def oversized(rng: random.Random, data: bytes, limit: int) -> bytes:
    """Longer than ``limit``: the packet padded, repeated or followed by random bytes."""
    extra = limit + 1 - len(data) + rng.randrange(64)
    return data + (rng.randbytes(extra) if rng.random() < 0.5 else bytes(extra))


def mutated(rng: random.Random, valid: bytes, limit: int) -> bytes:
    """One of: random bytes, truncated, bit-flipped, spliced, oversized, or the valid packet."""
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(2 * len(valid) + 2))
    if kind == 1:
        return truncated(rng, valid)
    if kind == 2:
        return bit_flipped(rng, valid)
    if kind == 3:
        return byte_spliced(rng, valid)
    if kind == 4:
        return oversized(rng, valid, limit)
    return valid


# ---------------------------------------------------------------------------------- running

def flood(receiver: Receiver, datagrams: list[tuple[bytes, Any]]) -> tuple[int, int]:
    """Feed the datagrams; returns traced bytes after the first and after the second half."""
    halves = []
    for i, (data, sender) in enumerate(datagrams):
        receiver.feed(data, sender, i * STEP_NS)
        if i + 1 in (len(datagrams) // 2, len(datagrams)):
            halves.append(tracemalloc.get_traced_memory()[0])
    return halves[0], halves[1]


def check_flood(receiver: Receiver, make: Callable[[random.Random], Iterator[tuple[bytes, Any]]], count: int,
                seed: int) -> None:
    """Flood under tracemalloc and check the counts and the memory (see the module docstring).
    The datagrams are made first, so that only what the receiver allocates is traced."""
    datagrams = list(itertools.islice(make(random.Random(seed)), count))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        first, second = flood(receiver, datagrams)
    finally:
        tracemalloc.stop()
    stats = receiver.stats()
    assert stats.packets + stats.bad_packets == count, stats
    assert set(stats.bad_by_reason) <= set(BAD_REASONS) - {"callback_error"}, stats.bad_by_reason
    assert set(stats.discarded_by_reason) <= set(DISCARD_REASONS), stats.discarded_by_reason
    assert second - base < MEMORY_BUDGET, f"{(second - base) / 1e6:.1f} MB held after {count} datagrams"
    assert second - first < SECOND_HALF_GROWTH, f"grew {(second - first) / 1e3:.0f} kB in the second half"
    assert len(receiver.streams) <= receiver.limits.max_streams


def last_time(count: int) -> int:
    return count * STEP_NS + AFTER_NS


class FiniteCheck:
    """The receiver's sample callback: counts samples that are not finite (an assertion in a
    callback would only be counted as ``callback_error``)."""

    def __init__(self, receiver: Receiver) -> None:
        self.non_finite = 0
        receiver.on_sample = self

    def __call__(self, name: str, sample: CameraSample) -> None:
        self.non_finite += not sample.is_finite()


# ---------------------------------------------------------------------------------- FreeD

def random_d1(rng: random.Random) -> bytes:
    """A D1 with a correct checksum around random (often extreme) field bytes."""
    body = bytearray(rng.randbytes(27))
    for field in rng.sample(range(8), rng.randint(0, 4)):  # 24-bit fields at their extremes
        start = 1 + field * 3  # after the camera id
        body[start:start + 3] = rng.choice([b"\x7f\xff\xff", b"\x80\x00\x00", b"\xff\xff\xff", b"\x00\x00\x00"])
    head = bytes([freed.MSG_D1]) + bytes(body)
    return head + bytes([freed.checksum(head)])


def freed_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = FreeDDecoder().limits.max_datagram_bytes
    d0 = freed.write_d0(1, freed.Command.POLL_POSITION)
    while True:
        kind = rng.randrange(4)
        sender = (f"10.0.0.{rng.randrange(1, 200)}", 40000) if rng.random() < 0.3 else SENDER
        if kind == 0:
            yield random_d1(rng), sender
        elif kind == 1:
            yield mutated(rng, VALID_D1, limit), sender
        elif kind == 2:
            yield mutated(rng, d0, limit), sender
        else:
            yield freed.write_d1(VALID_POSE._replace(camera_id=rng.randrange(256))), sender


def test_fuzz_freed_udp() -> None:
    count = 60_000
    receiver = make_receiver(FreeDDecoder())
    finite = FiniteCheck(receiver)
    check_flood(receiver, freed_datagrams, count, seed=1)
    assert finite.non_finite == 0
    assert set(receiver.stats().bad_by_reason) <= {"size", "type", "checksum", "too_large", "stream_limit"}
    (sample,) = receiver.feed(VALID_D1, SENDER, last_time(count))
    assert sample.position_m == (1.0, -2.5005, 1.65) and sample.pan_deg == 45.0


def test_fuzz_freed_codec_round_trip() -> None:
    """Whatever ``parse_d1`` accepts re-encodes to the same bytes; D0 likewise."""
    rng = random.Random(2)
    for _ in range(40_000):
        data = random_d1(rng) if rng.random() < 0.5 else mutated(rng, VALID_D1, 64)
        try:
            assert freed.write_d1(freed.parse_d1(data)) == data
        except freed.ParseError as exc:
            assert exc.reason in {"size", "type", "checksum"}
        data = mutated(rng, freed.write_d0(rng.randrange(256), rng.randrange(256)), 64)
        try:
            assert freed.write_d0(*freed.parse_d0(data)) == data
        except freed.ParseError as exc:
            assert exc.reason in BAD_REASONS


def serial_stream(rng: random.Random) -> tuple[list[bytes], int, bool]:
    """Random bytes with whole and damaged D1 frames spliced in, cut into chunks; also returns how
    many intact frames went in and whether nothing else did."""
    stream, intact, clean = bytearray(), 0, rng.random() < 0.3
    for _ in range(rng.randint(1, 12)):
        op = rng.random()
        if clean or op < 0.5:
            stream += VALID_D1 if rng.random() < 0.5 else random_d1(rng)
            intact += 1
        elif op < 0.75:
            stream += rng.choice([truncated, bit_flipped, byte_spliced])(rng, VALID_D1)
        else:
            stream += rng.randbytes(rng.randrange(40))
    cuts = sorted({rng.randrange(len(stream) + 1) for _ in range(rng.randint(0, 6))} | {0, len(stream)})
    return [bytes(stream[a:b]) for a, b in itertools.pairwise(cuts)], intact, clean


def test_fuzz_freed_serial() -> None:
    rng = random.Random(3)
    tracemalloc.start()
    try:
        for i in range(3_000):
            chunks, intact, clean = serial_stream(rng)
            receiver = make_receiver(SerialFreeDDecoder())
            finite = FiniteCheck(receiver)
            for chunk in chunks:
                receiver.feed(chunk, "/dev/ttyS0", i)
            scanner = receiver.decoder.scanner  # type: ignore[attr-defined]
            stats = receiver.stats()
            assert set(stats.bad_by_reason) <= {"garbage", "stream_limit"}
            assert scanner.pending < freed.D1_SIZE
            assert stats.packets + stats.bad_by_reason.get("stream_limit", 0) <= len(b"".join(chunks)) // freed.D1_SIZE
            if clean:  # back-to-back frames are all found, however the line chops them up
                assert stats.packets == intact and scanner.garbage_bytes == 0
            assert finite.non_finite == 0
        long_run = make_receiver(SerialFreeDDecoder())
        base = tracemalloc.get_traced_memory()[0]
        for i in range(3_000):  # one endless line of noise and frames: the scanner keeps < 29 bytes
            long_run.feed(rng.randbytes(rng.randrange(200)) + random_d1(rng), "/dev/ttyS0", i)
        assert tracemalloc.get_traced_memory()[0] - base < SECOND_HALF_GROWTH
    finally:
        tracemalloc.stop()
    (sample,) = long_run.feed(VALID_D1, "/dev/ttyS0", last_time(3_000))
    assert sample.camera_id == 1 and sample.pan_deg == 45.0


# ---------------------------------------------------------------------------------- OpenTrackIO

def nasty_document(rng: random.Random) -> dict[str, Any]:
    """The valid document with a few leaves (or whole branches) replaced by extreme values."""
    doc: dict[str, Any] = json.loads(json.dumps(VALID_DOC))
    for _ in range(rng.randint(0, 3)):
        *parents, last = rng.choice(DOC_PATHS)
        node: Any = doc
        try:
            for key in parents:
                node = node[key]
            value = rng.choice(EXTREMES)
            node[last] = json.loads(json.dumps(value)) if isinstance(value, (list, dict)) else value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change already replaced a parent
    if rng.random() < 0.05:
        doc["sourceId"] = "urn:" + "x" * rng.choice([10, 300, 5000])
        doc.pop("sourceNumber", None)
    return doc


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


DOC_PATHS = _leaves(VALID_DOC)[1:]


def encoded(rng: random.Random, doc: Any) -> tuple[bytes, int]:
    if rng.random() < 0.5:
        return bytes(cbor2.dumps(doc)), opentrackio.ENCODING_CBOR
    return json.dumps(doc).encode(), opentrackio.ENCODING_JSON


def rechecked(rng: random.Random, payload: bytes, encoding: int, sequence: int) -> bytes:
    """A datagram with a valid header and checksum around ``payload``, often damaged first, so
    it reaches reassembly and payload parsing."""
    if rng.random() < 0.3:
        payload = rng.choice([truncated, bit_flipped, byte_spliced])(rng, payload)
    return opentrackio.write_packet(payload[:MAX_SEGMENT_PAYLOAD], encoding, sequence)


def segment_attack(rng: random.Random, sequence: int) -> Iterator[tuple[bytes, Any]]:
    """Segments that never complete: one sequence without a last flag walking up the offsets,
    huge or overlapping offsets, empty segments, and the same from many source ports."""
    sender = SENDER if rng.random() < 0.5 else ("127.0.0.1", rng.randrange(1024, 65536))
    size = rng.choice([0, 1, 700, 1400])
    walk = rng.random() < 0.1
    for i in range(600 if walk else rng.randint(1, 40)):
        offset = i * size if walk else rng.choice([rng.randrange(0, 1 << 18), rng.randrange(1 << 32), 0])
        last = not walk and rng.random() < 0.05
        yield opentrackio.write_packet(rng.randbytes(size), 1, sequence, offset, last), sender


def otio_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = OpenTrackIODecoder().limits.max_datagram_bytes
    valid = opentrackio.write_sample_packets(SAMPLE, 1)[0]
    sequence = 0
    while True:
        sequence = (sequence + rng.choice([1, 1, 1, 2, 0, -1, 30000])) % 65536
        kind = rng.randrange(5)
        if kind == 0:
            yield mutated(rng, valid, limit), SENDER
        elif kind == 1:
            yield rechecked(rng, *encoded(rng, nasty_document(rng)), sequence), SENDER
        elif kind == 2:
            yield from segment_attack(rng, sequence)
        elif kind == 3:  # a valid sample segmented at a random MTU, segments shuffled, some lost or repeated
            payload, encoding = encoded(rng, nasty_document(rng))
            parts = opentrackio.write_segments(payload, encoding, sequence, rng.randint(80, 1500))
            rng.shuffle(parts)
            for part in parts:
                if rng.random() < 0.95:
                    yield part, SENDER
                if rng.random() < 0.05:
                    yield part, SENDER
        else:
            yield rechecked(rng, rng.randbytes(rng.randrange(64)), rng.choice([1, 2, 0x80]), sequence), SENDER


def test_fuzz_opentrackio() -> None:
    count = 40_000
    receiver = make_receiver(OpenTrackIODecoder())
    finite = FiniteCheck(receiver)
    check_flood(receiver, otio_datagrams, count, seed=4)
    assert finite.non_finite == 0
    reassembler = receiver.decoder.reassembler  # type: ignore[attr-defined]
    limits = reassembler.limits
    assert reassembler.held_bytes <= limits.max_total_bytes and reassembler.held_segments <= limits.max_total_segments
    assert reassembler.senders <= limits.max_senders
    stats = receiver.stats()
    assert {"checksum", "sender_limit", "payload_limit", "segment"} <= set(stats.bad_by_reason)  # attacks reached
    assert stats.samples > 0 and stats.discarded_by_reason
    samples: list[CameraSample] = []
    at = last_time(count)
    for sequence in range(40_000, 40_000 + 18):  # the sender's counter may look old: it resyncs within 17
        samples += receiver.feed(opentrackio.write_sample_packets(SAMPLE, sequence)[0], SENDER, at)
        if samples:
            break
    assert samples and samples[0].position_m == (1.0, 2.0, 3.0) and samples[0].focal_length_mm == 35.0


def test_fuzz_opentrackio_documents() -> None:
    """The sample reader alone: extreme values in every field, JSON and CBOR, and random bytes."""
    rng = random.Random(5)
    for _ in range(20_000):
        if rng.random() < 0.8:
            payload, encoding = encoded(rng, nasty_document(rng))
        else:
            payload, encoding = rng.randbytes(rng.randrange(120)), rng.choice([1, 2, 0x80])
        try:
            sample = opentrackio.parse_sample_payload(payload, encoding, "src", 0)
        except opentrackio.ParseError as exc:
            assert exc.reason in BAD_REASONS
            continue
        assert sample is None or sample.is_finite()


# ---------------------------------------------------------------------------------- OSC

OSC_ADDRESSES = ["/vp/cam/1/pose", "/vp/cam/x/lens", "/tracker/position/A", "/p/arkitposition",
                 "/p/arkitrotation", "/vp/cam/*/pose", "/a", "/vp/cam/[1]/pose", "/vp/cam/{1,2}/pose"]


def osc_args(rng: random.Random) -> list[Any]:
    """Mostly floats (extreme ones included), some ints and strings."""
    out: list[Any] = []
    for _ in range(rng.choice([3, 4, 6, 9, rng.randrange(40)])):
        kind = rng.random()
        out.append(rng.choice(FLOATS32) if kind < 0.3 else rng.uniform(-1e4, 1e4) if kind < 0.85
                   else rng.choice(INTS32) if kind < 0.95 else "ab"[:rng.randrange(3)])
    return out


def osc_string(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def osc_element(addr: bytes, tags: bytes, data: bytes = b"") -> bytes:
    return osc_string(addr) + (osc_string(b"," + tags) if tags else b"") + data


def osc_message(address: str, args: list[Any]) -> bytes:
    """What ``osc_map.write_message`` writes, without python-osc's builder (which parses what it
    builds, too slow to make thousands of fuzz inputs)."""
    tags, data = bytearray(), bytearray()
    for arg in args:
        if isinstance(arg, float):
            tags += b"f"
            data += struct.pack(">f", arg)
        elif isinstance(arg, int):
            tags += b"i"
            data += struct.pack(">i", arg)
        else:
            tags += b"s"
            data += osc_string(str(arg).encode())
    return osc_string(address.encode()) + osc_string(b"," + bytes(tags)) + bytes(data)


def osc_bundle(messages: list[tuple[str, list[Any]]]) -> bytes:
    return raw_bundle([osc_message(address, args) for address, args in messages])


def raw_bundle(elements: list[bytes], sizes: list[int] | None = None) -> bytes:
    sizes = sizes or [len(e) for e in elements]
    return b"#bundle\x00" + IMMEDIATELY + b"".join(struct.pack(">i", n) + e
                                                    for n, e in zip(sizes, elements, strict=True))


def osc_attack(rng: random.Random) -> bytes:
    """Hand-made hostile datagrams python-osc must never see."""
    kind = rng.randrange(7)
    if kind == 0:  # long addresses (the camera id is in it)
        return osc_message("/vp/cam/" + "a" * rng.choice([240, 300, 2000, 60_000]) + "/pose", [1.0] * 6)
    if kind == 1:  # bundle elements with non-positive sizes: python-osc loops forever on -4
        return raw_bundle([b"", b""], [rng.choice([-4, -8, 0, -(2**31)]), 4])
    if kind == 2:  # nested bundles
        inner = osc_message("/vp/cam/1/pose", [1.0] * 6)
        for _ in range(rng.randint(1, 40)):
            inner = raw_bundle([inner])
        return inner
    if kind == 3:  # unknown argument types (python-osc logs them with the sender's bytes)
        return osc_element(b"/vp/cam/1/pose", rng.choice([b"fffxff", b"Q", b"ffffff\x01"]), bytes(24))
    if kind == 4:  # too many arguments or messages
        many = osc_element(b"/vp/cam/1/pose", b"T" * rng.randint(20, 200))
        return many if rng.random() < 0.5 else raw_bundle([osc_element(b"/a", b"")] * rng.randint(20, 200))
    if kind == 5:  # a new camera id every time
        return osc_message(f"/vp/cam/id{rng.randrange(10**9)}/pose", [1.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    return osc_element(b"/vp/cam/1/pose", b"ffffff", bytes(rng.randrange(24)))  # arguments cut short


def osc_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = OscDecoder(osc_map.PRESETS["vp"]).limits.max_datagram_bytes
    valid = [osc_map.write_message("/vp/cam/1/pose", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
             osc_map.write_bundle(osc_map.vp_messages(SAMPLE))]
    while True:
        kind = rng.randrange(4)
        if kind == 0:
            yield mutated(rng, rng.choice(valid), limit), SENDER
        elif kind == 1:
            yield osc_attack(rng), SENDER
        else:
            messages = [(rng.choice(OSC_ADDRESSES), osc_args(rng)) for _ in range(rng.randint(1, 4))]
            data = osc_bundle(messages) if len(messages) > 1 else osc_message(*messages[0])
            yield data, SENDER


@pytest.mark.parametrize("preset", sorted(osc_map.PRESETS))
def test_fuzz_osc(preset: str, caplog: pytest.LogCaptureFixture) -> None:
    count = 20_000
    receiver = make_receiver(OscDecoder(osc_map.PRESETS[preset]))
    finite = FiniteCheck(receiver)
    with caplog.at_level(logging.DEBUG):
        check_flood(receiver, osc_datagrams, count, seed=6)
    assert finite.non_finite == 0
    assert not [r for r in caplog.records if "pythonosc" in r.pathname]  # nothing from python-osc reached a handler
    stats = receiver.stats()
    expected = {"too_large", "address_length", "wildcard_address", "malformed", "arguments"}
    assert expected <= set(stats.bad_by_reason), stats.bad_by_reason
    if preset == "vp":
        assert stats.bad_by_reason.get("stream_limit") and stats.samples > 0
        assert receiver.decoder.assembler.cameras <= receiver.limits.max_streams  # type: ignore[attr-defined]
    valid = {"vp": osc_map.write_message("/vp/cam/1/pose", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
             "loled": osc_map.write_message("/tracker/position/1", [1.0, 2.0, 3.0, 5.0, 6.0, 4.0, 0.1, 0.2, 0.3]),
             "zigsim": osc_map.write_bundle([("/1/arkitposition", [1.0, 3.0, -2.0]),
                                             ("/1/arkitrotation", [0.0, 0.0, 0.0, 1.0])])}[preset]
    (sample,) = receiver.feed(valid, SENDER, last_time(count))
    assert sample.camera_id == 1 and sample.position_m == pytest.approx((1.0, 2.0, 3.0))
