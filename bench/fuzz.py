"""Hostile traffic through the tracking receivers: throughput, counts by reason, memory.

    python -m bench.fuzz [--packets N] [--seed S] [--protocols freed,freed-serial,opentrackio,osc]

For each protocol, N datagrams (default 1,000,000; serial: N chunks of a byte stream) from a seeded
generator go through ``Receiver.feed`` (decoder, stream registry, counters; no socket): random
bytes; truncated, bit-flipped and oversized copies of valid packets; valid packets with extreme
values (NaN, infinities, huge numbers, wrong types); protocol attacks (OpenTrackIO segments that
never complete, from many source ports; OSC addresses of kilobytes, wildcards, deep or looping
bundles, unknown argument types, a new camera id every time; thousands of FreeD camera ids and
senders); and valid packets. Arrival times advance 1 ms per datagram, so expiry runs as it would at
1000 datagrams per second.

Each protocol runs in a process of its own, so its memory figures are its own: RSS after the
first 10 % of datagrams, at the end, and its peak (``VmHWM``). ``packets/s`` and ``us/packet``
time ``Receiver.feed`` alone (making the datagrams is not timed). Prints a table per figure, in
Markdown, for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import cbor2

from bench.common import machine, print_table
from devices.tracking.decoders import Decoder, FreeDDecoder, OpenTrackIODecoder, OscDecoder, SerialFreeDDecoder
from devices.tracking.receiver import Receiver
from vpstage.protocols import freed, opentrackio, osc_map
from vpstage.protocols.opentrackio.packet import MAX_SEGMENT_PAYLOAD
from vpstage.tracking.sample import CameraSample

MS = 1_000_000
SENDER = ("127.0.0.1", 5000)
PROTOCOLS = ("freed", "freed-serial", "opentrackio", "osc")
VALID_D1 = freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=45.0, tilt_deg=-10.5, roll_deg=0.0, x_mm=1000.0,
                                              y_mm=-2500.5, z_mm=1650.0, zoom_raw=0x1234, focus_raw=0x800))
SAMPLE = CameraSample(protocol="opentrackio", source="x", camera_id=1, arrival_ns=0, x_m=1.0, y_m=2.0, z_m=3.0,
                      pan_deg=4.0, tilt_deg=5.0, roll_deg=6.0, focal_length_mm=35.0, focus_distance_m=2.0, zoom_raw=7,
                      distortion=(0.1, 0.0, 0.0, 0.0), sequence=3, status="ok")
EXTREMES: list[Any] = [math.nan, math.inf, -math.inf, 1e308, -1e308, 2**63, -(2**63), 2**80, -1, 0, True, None,
                       "x", [], {}]
FLOATS32 = [math.nan, math.inf, -math.inf, 3.4e38, -3.4e38, 1e-45, -0.0, 1.0]


class NullTransport:
    address = "bench://"

    def open(self) -> None: ...
    def read(self, timeout_s: float) -> list[Any]:
        return []
    def close(self) -> None: ...


# ---------------------------------------------------------------------------------- damage

def damaged(rng: random.Random, valid: bytes, limit: int) -> bytes:
    """Random bytes, or ``valid`` truncated, bit-flipped, spliced or made longer than ``limit``."""
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(2 * len(valid) + 2))
    if kind == 1:
        return valid[:rng.randrange(len(valid))]
    out = bytearray(valid)
    if kind == 2:
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    if kind == 3:
        at = rng.randrange(len(out))
        out[at:at] = rng.randbytes(rng.randint(1, 8))
        return bytes(out)
    return valid + bytes(max(0, limit + 1 - len(valid)) + rng.randrange(64))


# ---------------------------------------------------------------------------------- FreeD

def random_d1(rng: random.Random) -> bytes:
    head = bytes([freed.MSG_D1]) + rng.randbytes(27)
    return head + bytes([freed.checksum(head)])


def freed_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = FreeDDecoder().limits.max_datagram_bytes
    while True:
        sender = (f"10.0.{rng.randrange(4)}.{rng.randrange(256)}", 40000) if rng.random() < 0.2 else SENDER
        kind = rng.randrange(3)
        yield (random_d1(rng) if kind == 0 else damaged(rng, VALID_D1, limit) if kind == 1 else VALID_D1), sender


def serial_chunks(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    while True:
        parts = [VALID_D1 if rng.random() < 0.5 else random_d1(rng) if rng.random() < 0.5
                 else rng.randbytes(rng.randrange(40)) for _ in range(rng.randint(1, 6))]
        stream = b"".join(parts)
        cut = rng.randrange(len(stream) + 1)
        yield stream[:cut], "/dev/ttyS0"
        yield stream[cut:], "/dev/ttyS0"


# ---------------------------------------------------------------------------------- OpenTrackIO

def _nasty_documents(rng: random.Random, count: int) -> list[tuple[bytes, int]]:
    """Sample payloads with a few fields replaced by extreme values, JSON and CBOR."""
    base = opentrackio.document_from_sample(SAMPLE, sample_id="urn:x")
    out = []
    for _ in range(count):
        doc = json.loads(json.dumps(base))
        for _ in range(rng.choice([0, 0, 1, 2])):
            section = rng.choice(["lens", "timing", "tracker", "static"])
            if isinstance(doc.get(section), dict) and doc[section]:
                doc[section][rng.choice(sorted(doc[section]))] = rng.choice(EXTREMES)
        if rng.random() < 0.1:
            doc["transforms"][0]["translation"]["x"] = rng.choice(EXTREMES)
        if rng.random() < 0.5:
            out.append((bytes(cbor2.dumps(doc)), opentrackio.ENCODING_CBOR))
        else:
            out.append((json.dumps(doc).encode(), opentrackio.ENCODING_JSON))
    return out


def otio_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = OpenTrackIODecoder().limits.max_datagram_bytes
    payloads = _nasty_documents(rng, 300)
    valid = opentrackio.write_sample_packets(SAMPLE, 1)[0]
    sequence = 0
    while True:
        sequence = (sequence + rng.choice([1, 1, 1, 2, 0, -1])) % 65536
        kind = rng.choices(range(6), weights=(3, 4, 4, 0.3, 2, 1))[0]  # attacks send many datagrams each
        if kind == 0:
            yield damaged(rng, valid, limit), SENDER
        elif kind in (1, 2):  # a (nasty) sample, whole or segmented, some segments lost
            payload, encoding = rng.choice(payloads)
            for part in opentrackio.write_segments(payload, encoding, sequence, rng.choice([1500, 1500, 300])):
                if rng.random() < 0.98:
                    yield part, SENDER
        elif kind == 3:  # segments that never complete, from one port or many
            sender = SENDER if rng.random() < 0.5 else ("127.0.0.1", rng.randrange(1024, 65536))
            size = rng.choice([1, 700, 1400])
            for i in range(600 if rng.random() < 0.05 else rng.choice([2, 5, 40])):
                yield opentrackio.write_packet(bytes(size), 1, sequence, i * size, False), sender
        elif kind == 4:  # a valid header around random or damaged content
            body = rng.randbytes(rng.randrange(200)) if rng.random() < 0.5 else damaged(rng, payloads[0][0], 0)
            yield opentrackio.write_packet(body[:MAX_SEGMENT_PAYLOAD], rng.choice([1, 2, 0x80]), sequence), SENDER
        else:
            yield opentrackio.write_packet(b"x" * 100, 1, sequence, rng.randrange(1 << 32), rng.random() < 0.5), SENDER


# ---------------------------------------------------------------------------------- OSC

def _osc_string(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def osc_message(address: str, floats: list[float]) -> bytes:
    return (_osc_string(address.encode()) + _osc_string(b"," + b"f" * len(floats))
            + b"".join(struct.pack(">f", f) for f in floats))


def osc_bundle(elements: list[bytes], sizes: list[int] | None = None) -> bytes:
    sizes = sizes or [len(e) for e in elements]
    return b"#bundle\x00" + bytes(7) + b"\x01" + b"".join(struct.pack(">i", n) + e
                                                           for n, e in zip(sizes, elements, strict=True))


def osc_attack(rng: random.Random) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return osc_message("/vp/cam/" + "a" * rng.choice([300, 2000, 60_000]) + "/pose", [1.0] * 6)
    if kind == 1:
        return osc_bundle([b"", b""], [rng.choice([-4, -8, 0]), 4])  # python-osc loops forever on -4
    if kind == 2:
        inner = osc_message("/vp/cam/1/pose", [1.0] * 6)
        for _ in range(rng.randint(2, 30)):
            inner = osc_bundle([inner])
        return inner
    if kind == 3:
        return _osc_string(b"/vp/cam/1/pose") + _osc_string(b",fffxff") + bytes(24)
    if kind == 4:
        return osc_message("/vp/cam/1/pose", [1.0] * rng.randint(33, 200))
    if kind == 5:
        return osc_message(f"/vp/cam/id{rng.randrange(10**9)}/pose", [1.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    return osc_message("/vp/cam/*/pose", [1.0] * 6)


def osc_datagrams(rng: random.Random) -> Iterator[tuple[bytes, Any]]:
    limit = OscDecoder(osc_map.PRESETS["vp"]).limits.max_datagram_bytes
    valid = osc_map.write_bundle(osc_map.vp_messages(SAMPLE))
    while True:
        kind = rng.randrange(4)
        if kind == 0:
            yield damaged(rng, valid, limit), SENDER
        elif kind == 1:
            yield osc_attack(rng), SENDER
        else:
            floats = [rng.choice(FLOATS32) if rng.random() < 0.05 else rng.uniform(-10, 10) for _ in range(6)]
            pose = osc_message(f"/vp/cam/{rng.randrange(4)}/pose", floats)
            yield (osc_bundle([osc_message("/vp/cam/1/lens", [35.0, 2.0, 2.8]), pose]) if kind == 2 else pose), SENDER


# ---------------------------------------------------------------------------------- running

SETUPS: dict[str, tuple[Callable[[], Decoder], Callable[[random.Random], Iterator[tuple[bytes, Any]]]]] = {
    "freed": (FreeDDecoder, freed_datagrams),
    "freed-serial": (SerialFreeDDecoder, serial_chunks),
    "opentrackio": (OpenTrackIODecoder, otio_datagrams),
    "osc": (lambda: OscDecoder(osc_map.PRESETS["vp"]), osc_datagrams),
}


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident memory (``VmHWM``: its peak) of this process in MiB, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_protocol(protocol: str, packets: int, seed: int) -> dict[str, Any]:
    """Feed ``packets`` datagrams of one protocol; what the table shows (in a child process)."""
    make_decoder, generate = SETUPS[protocol]
    receiver = Receiver(f"bench-{protocol}", NullTransport(), make_decoder())
    datagrams = generate(random.Random(seed))
    feed_s, warm_rss, started = 0.0, 0.0, time.perf_counter()
    for i in range(packets):
        data, sender = next(datagrams)
        t0 = time.perf_counter()
        receiver.feed(data, sender, i * MS)
        feed_s += time.perf_counter() - t0
        if i + 1 == packets // 10:
            warm_rss = _rss_mb()
    stats = receiver.stats()
    decoder: Any = receiver.decoder
    held = (f"{decoder.reassembler.held_bytes // 1024} KiB in {decoder.reassembler.held_segments} segments, "
            f"{decoder.reassembler.senders} senders") if protocol == "opentrackio" else ""
    if protocol == "osc":
        held = f"{decoder.assembler.cameras} camera states"
    return {"protocol": protocol, "packets": packets, "good": stats.packets, "bad": stats.bad_packets,
            "samples": stats.samples, "bad_by_reason": stats.bad_by_reason,
            "discarded_by_reason": stats.discarded_by_reason, "streams": len(receiver.streams),
            "feed_s": feed_s, "wall_s": time.perf_counter() - started, "warm_rss_mb": warm_rss,
            "end_rss_mb": _rss_mb(), "peak_rss_mb": _rss_mb("VmHWM"),
            "held": held}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packets", type=int, default=1_000_000, help="datagrams per protocol (default 10^6)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--protocols", default=",".join(PROTOCOLS), help=f"comma-separated, of {PROTOCOLS}")
    args = parser.parse_args()
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    context = multiprocessing.get_context("spawn")
    results = []
    for protocol in protocols:
        with context.Pool(1) as pool:  # a fresh process per protocol: its own peak RSS
            results.append(pool.apply(run_protocol, (protocol, args.packets, args.seed)))
    rows = [[r["protocol"], f"{r['packets']:,}", f"{r['good']:,}", f"{r['bad']:,}", f"{r['samples']:,}",
             f"{r['packets'] / r['feed_s']:,.0f}", 1e6 * r["feed_s"] / r["packets"], r["warm_rss_mb"],
             r["end_rss_mb"], r["peak_rss_mb"], r["streams"], r["held"], f"{r['wall_s']:.0f}"]
            for r in results]
    print_table(f"Tracking fuzz, {machine()}",
                ["protocol", "datagrams", "good", "bad", "samples", "packets/s", "us/packet",
                 "RSS at 10% MiB", "RSS at end MiB", "peak RSS MiB", "streams", "held at end", "wall s"], rows)
    print("\n(freed-serial: datagrams are chunks of one byte stream; good counts D1 frames found, bad "
          "counts garbage runs and refused streams)")
    reasons = [[r["protocol"], "bad", reason, f"{n:,}"] for r in results
               for reason, n in sorted(r["bad_by_reason"].items(), key=lambda item: -item[1])]
    reasons += [[r["protocol"], "discarded", reason, f"{n:,}"] for r in results
                for reason, n in sorted(r["discarded_by_reason"].items(), key=lambda item: -item[1])]
    print_table("Counts by reason", ["protocol", "kind", "reason", "count"], reasons)


if __name__ == "__main__":
    main()
