"""Tracking decode rate per protocol (issue: FreeD above 200k packets/s in pure Python).

    python -m bench.tracking_decode [--seconds S]

Codec rows time the pure wire decoder; decoder rows add what a receiver does per datagram
(building the CameraSample, reassembly state, OSC dispatch).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from bench.common import machine, print_table
from devices.tracking.decoders import FreeDDecoder, OpenTrackIODecoder, OscDecoder, SerialFreeDDecoder
from vpstage.protocols import freed, opentrackio, osc_map
from vpstage.timing.timecode import Timecode
from vpstage.tracking.sample import CameraSample

SENDER = ("127.0.0.1", 5000)
FULL = CameraSample(protocol="opentrackio", source="x", camera_id=1, arrival_ns=0, x_m=1.25, y_m=-2.5, z_m=1.75,
                    pan_deg=33.0, tilt_deg=-4.5, roll_deg=1.5, focus_raw=1200, zoom_raw=40000, focal_length_mm=32.5,
                    focus_distance_m=3.25, f_stop=2.8, entrance_pupil_m=0.11, distortion=(-0.01, 0.002, 0.0, 0.0),
                    source_time_ns=1_718_806_554_500_000_000,
                    timecode=Timecode(hours=10, minutes=0, seconds=1, frames=23,
                                            rate=__import__("fractions").Fraction(24000, 1001)), sequence=999,
                    status="Optical Good")


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second, best of three runs of about ``seconds / 3`` each."""
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            for _ in range(200):
                fn()
            n += 200
        best = max(best, n / elapsed)
    return best


def _sequenced(encoding: int) -> Callable[[], Any]:
    """OpenTrackIO decoding with a fresh sequence number each call (duplicates would be dropped)."""
    decoder = OpenTrackIODecoder()
    packets = [opentrackio.write_sample_packets(FULL, seq, encoding)[0] for seq in range(1, 1001)]
    state = {"i": 0}

    def step() -> Any:
        state["i"] += 1
        return decoder.decode(packets[state["i"] % 1000], SENDER, 0)
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5, help="time per row")
    args = parser.parse_args()
    d1 = freed.write_d1(freed.FreeDPosition(camera_id=1, pan_deg=45.0, tilt_deg=-10.5, roll_deg=0.0, x_mm=1000.0,
                                            y_mm=-2500.5, z_mm=1650.0, zoom_raw=0x1234, focus_raw=0x800))
    json_packet = opentrackio.write_sample_packets(FULL, 1, opentrackio.ENCODING_JSON)[0]
    cbor_packet = opentrackio.write_sample_packets(FULL, 1, opentrackio.ENCODING_CBOR)[0]
    osc_bundle = osc_map.write_bundle(osc_map.vp_messages(FULL))
    freed_decoder, serial_decoder, osc_decoder = FreeDDecoder(), SerialFreeDDecoder(), OscDecoder(osc_map.PRESETS["vp"])
    serial_chunk = d1 * 32
    rows_spec: list[tuple[str, int, Callable[[], Any], int]] = [
        ("FreeD D1 codec (parse_d1)", len(d1), lambda: freed.parse_d1(d1), 1),
        ("FreeD UDP decoder (-> CameraSample)", len(d1), lambda: freed_decoder.decode(d1, SENDER, 0), 1),
        ("FreeD serial decoder (32 frames/chunk)", len(serial_chunk),
         lambda: serial_decoder.decode(serial_chunk, "/dev/ttyS0", 0), 32),
        ("OpenTrackIO codec, JSON (packet + document)", len(json_packet),
         lambda: opentrackio.parse_sample_payload(opentrackio.parse_packet(json_packet).payload, 1, "x", 0), 1),
        ("OpenTrackIO decoder, JSON", len(json_packet), _sequenced(opentrackio.ENCODING_JSON), 1),
        ("OpenTrackIO decoder, CBOR", len(cbor_packet), _sequenced(opentrackio.ENCODING_CBOR), 1),
        ("OSC decoder, vp bundle (pose + lens)", len(osc_bundle),
         lambda: osc_decoder.decode(osc_bundle, SENDER, 0), 1),
    ]
    rows = []
    for name, size, fn, per_call in rows_spec:
        calls = rate(fn, args.seconds)
        rows.append([name, size, f"{calls * per_call:,.0f}", 1e6 / (calls * per_call)])
    print_table(f"Tracking decode rate, {machine()}", ["decoder", "bytes/call", "packets/s", "us/packet"], rows)


if __name__ == "__main__":
    main()
