"""Loopback latency from ``sendto`` to the sample being in the camera buffer, per protocol.

    python -m bench.tracking_latency [--packets N] [--rate HZ]

A TrackingHub listens on 127.0.0.1 (ephemeral port); a sender thread sends N packets at the given
rate, noting ``time.monotonic_ns()`` just before each ``sendto``; the hub's ``sample_received``
signal (emitted right after the buffer push, on the receiver thread) notes the arrival. The
figure includes the kernel's loopback path, the receiver's decode and the buffer push.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time

from bench.common import machine, print_table, summary_ms
from devices.tracking.hub import TrackingHub
from devices.tracking.simulator import FreeDEncoder, OpenTrackIOEncoder, OscEncoder
from vpstage.stage.model import Project
from vpstage.tracking.sample import CameraSample


def _project(protocol: str) -> Project:
    return Project.model_validate({
        "name": "latency", "sections": [],
        "tracking": [{"name": "src", "protocol": protocol, "address": "udp://127.0.0.1:0"}],
        "cameras": [{"name": "A", "tracker": "src", "sensor_width_mm": 24.0, "sensor_height_mm": 13.5}],
    })


def measure(protocol: str, packets: int, rate_hz: float) -> list[float]:
    hub = TrackingHub(_project(protocol))
    encoder = {"freed": FreeDEncoder, "opentrackio": OpenTrackIOEncoder, "osc": OscEncoder}[protocol]()
    sent: dict[int, int] = {}
    latencies: list[float] = []
    done = threading.Event()

    def on_sample(_camera: str, sample: CameraSample) -> None:
        start = sent.get(round(sample.x_m * 1000))  # x carries the packet number (FreeD and OSC have no sequence)
        if start is not None:
            latencies.append((time.monotonic_ns() - start) / 1e6)
        if len(latencies) >= packets:
            done.set()

    hub.sample_received.connect(on_sample)
    hub.start()
    port = int(hub.receiver_health()[0].address.rsplit(":", 1)[1])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(packets):
            sample = CameraSample(protocol=protocol,  # type: ignore[arg-type]
                                  source="bench", camera_id=1, arrival_ns=0, x_m=i / 1000, y_m=0.0, z_m=1.5,
                                  pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0,
                                  focal_length_mm=35.0, focus_distance_m=2.0, sequence=i)
            datagrams = encoder.encode(sample)
            sent[i] = time.monotonic_ns()
            for datagram in datagrams:
                sock.sendto(datagram, ("127.0.0.1", port))
            time.sleep(1.0 / rate_hz)
        done.wait(5.0)
    finally:
        hub.stop()
        sock.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packets", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=240.0)
    args = parser.parse_args()
    rows = []
    for protocol in ("freed", "opentrackio", "osc"):
        latencies = measure(protocol, args.packets, args.rate)
        stats = summary_ms(latencies)
        rows.append([protocol, f"{len(latencies)}/{args.packets}", stats["median"], stats["p99"], max(latencies)])
    print_table(f"Loopback latency send -> sample in buffer at {args.rate:g} Hz, {machine()}",
                ["protocol", "received", "median ms", "p99 ms", "max ms"], rows)


if __name__ == "__main__":
    main()
