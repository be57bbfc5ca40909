"""A tracker simulator that speaks the real protocols: FreeD (UDP or serial), OpenTrackIO, OSC.

It samples a path (``devices.tracking.paths``) at 24-240 Hz on an absolute schedule and sends
each pose through an encoder and a link:

* FreeD D1: position in 1/64 mm, angles in 1/32768 deg; zoom and focus follow the Z CAM
  convention (zoom = focal length mm x 100, focus = distance mm x 10, iris f-number x 100 in the
  spare bits 0-11 with a 4-bit frame counter in bits 12-15), so the ``zcam-freed`` lens preset
  maps them back exactly. Replayed FreeD records send their raw values unchanged.
* OpenTrackIO 1.0.1 JSON or CBOR, one sample per packet (segmented past the MTU), with the
  sequence number, sample rate, PTP-style timestamp (wall clock) and a free-running timecode.
* OSC bundles in the ``vp`` preset: ``/vp/cam/<id>/lens`` then ``/vp/cam/<id>/pose``.

Safety: UDP targets must be loopback unless ``allow_network=True`` (rehearsal stays on 127.0.0.1).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import tty
from collections.abc import Callable
from fractions import Fraction
from typing import Literal, Protocol

import serial

from devices.tracking.paths import PathFn, PathPoint
from vpstage.config.endpoints import is_loopback
from vpstage.protocols import freed, opentrackio
from vpstage.protocols import osc_map as osc
from vpstage.timing.timecode import Timecode
from vpstage.tracking.sample import CameraSample
from vpstage.tracking.sample import Protocol as WireProtocol

MIN_RATE_HZ, MAX_RATE_HZ = 24.0, 240.0
UINT24 = (1 << 24) - 1
BITS_PER_SERIAL_BYTE = 11  # start + 8 data + parity + stop


class Link(Protocol):
    def send(self, data: bytes) -> bool: ...
    def close(self) -> None: ...


class UdpLink:
    def __init__(self, host: str, port: int, allow_network: bool = False) -> None:
        if not allow_network and not is_loopback(host):
            raise ValueError(f"{host} is not a loopback address; pass allow_network=True "
                             "(--allow-network) to send tracking data onto the network")
        self.target = (host, port)
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, data: bytes) -> bool:
        try:
            self._sock.sendto(data, self.target)
        except OSError:  # nobody listening (ICMP refused on loopback) or a full buffer: drop it
            return False
        return True

    def close(self) -> None:
        self._sock.close()


class SerialLink:
    """A serial port via pyserial (8 data bits, odd parity, 1 stop bit by default)."""

    def __init__(self, device: str, baud: int = 38400, parity: str = serial.PARITY_ODD) -> None:
        self.baud = baud
        self._port = serial.Serial(device, baud, bytesize=serial.EIGHTBITS, parity=parity,
                                   stopbits=serial.STOPBITS_ONE, write_timeout=0.1)

    def send(self, data: bytes) -> bool:
        try:
            self._port.write(data)
        except serial.SerialTimeoutException:
            return False
        return True

    def close(self) -> None:
        self._port.close()


class PtyLink:
    """The master end of a new pseudo-terminal; a receiver opens ``device`` (the slave) with pyserial.

    The slave is put in raw mode at once so bytes written before the receiver opens it are not
    mangled by the line discipline. Writes never block: when the pty buffer is full (nobody
    reading), the frame is dropped.
    """

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.device = os.ttyname(self._slave)

    def send(self, data: bytes) -> bool:
        try:
            return os.write(self._master, data) == len(data)
        except BlockingIOError:
            return False

    def close(self) -> None:
        os.close(self._master)
        os.close(self._slave)


Encoding = Literal["json", "cbor"]


class FreeDEncoder:
    protocol: WireProtocol = "freed"

    def __init__(self) -> None:
        self._frame = 0

    def encode(self, sample: CameraSample) -> list[bytes]:
        self._frame = (self._frame + 1) & 0xF
        pan = (sample.pan_deg + 180.0) % 360.0 - 180.0
        zoom = sample.zoom_raw if sample.zoom_raw is not None else round((sample.focal_length_mm or 0.0) * 100)
        focus = sample.focus_raw if sample.focus_raw is not None else round((sample.focus_distance_m or 0.0) * 10_000)
        iris = min(0xFFF, round((sample.f_stop or 0.0) * 100))
        pos = freed.FreeDPosition(camera_id=int(sample.camera_id), pan_deg=pan, tilt_deg=sample.tilt_deg,
                                  roll_deg=sample.roll_deg, x_mm=sample.x_m * 1000, y_mm=sample.y_m * 1000,
                                  z_mm=sample.z_m * 1000, zoom_raw=max(0, min(UINT24, zoom)),
                                  focus_raw=max(0, min(UINT24, focus)), spare=iris | (self._frame << 12))
        return [freed.write_d1(pos)]


class OpenTrackIOEncoder:
    protocol: WireProtocol = "opentrackio"

    def __init__(self, encoding: Encoding = "json", mtu: int = opentrackio.DEFAULT_MTU) -> None:
        self.encoding = opentrackio.ENCODING_CBOR if encoding == "cbor" else opentrackio.ENCODING_JSON
        self.mtu = mtu
        self._sequence = 0

    def encode(self, sample: CameraSample) -> list[bytes]:
        self._sequence = (self._sequence + 1) & 0xFFFF
        return opentrackio.write_sample_packets(sample, self._sequence, self.encoding, self.mtu)


class OscEncoder:
    protocol: WireProtocol = "osc"

    def encode(self, sample: CameraSample) -> list[bytes]:
        return [osc.write_bundle(osc.vp_messages(sample))]


class Encoder(Protocol):
    protocol: WireProtocol

    def encode(self, sample: CameraSample) -> list[bytes]: ...


def _timecode(frame: int, rate: Fraction) -> Timecode | None:
    fps = round(rate)
    if rate.denominator != 1 or not 1 <= fps <= 120:
        return None
    seconds, frames = divmod(frame, fps)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return Timecode(hours=hours % 24, minutes=minutes, seconds=seconds, frames=frames, rate=rate)


class TrackerSimulator:
    """Sends ``path`` through ``encoder`` and ``link`` at ``rate_hz`` (24-240).

    ``run(duration_s)`` blocks; ``start()`` / ``stop()`` run it on a daemon thread (rehearsal).
    ``sent`` and ``dropped`` count datagrams or frames; ``skipped`` counts dropout ticks.
    """

    def __init__(self, encoder: Encoder, link: Link, path: PathFn, rate_hz: float = 60.0, camera_id: int | str = 1,
                 clock: Callable[[], int] = time.monotonic_ns) -> None:
        if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
            raise ValueError(f"rate {rate_hz} Hz is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz")
        capacity = getattr(link, "baud", 0) / (BITS_PER_SERIAL_BYTE * freed.D1_SIZE)
        if capacity and rate_hz > capacity:
            raise ValueError(f"{rate_hz} Hz does not fit a {getattr(link, 'baud', 0)}-baud serial line "
                             f"(at most {capacity:.0f} FreeD frames per second)")
        self.encoder, self.link, self.path = encoder, link, path
        self._closed = False
        self.rate = Fraction(rate_hz).limit_denominator(1001)
        self.camera_id = camera_id
        self.clock = clock
        self.sent = self.dropped = self.skipped = 0
        self.epoch_ns: int | None = None
        """Monotonic time of sample 0 (set when it starts)."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample_at(self, frame: int) -> CameraSample | None:
        """The sample for tick ``frame`` (None during a dropout)."""
        t = float(frame / self.rate)
        point: PathPoint | None = self.path(t)
        if point is None:
            return None
        return CameraSample(protocol=self.encoder.protocol, source="simulator", camera_id=self.camera_id,
                            arrival_ns=self.clock(), x_m=point.x_m, y_m=point.y_m, z_m=point.z_m, pan_deg=point.pan_deg,
                            tilt_deg=point.tilt_deg, roll_deg=point.roll_deg, focus_raw=point.focus_raw,
                            zoom_raw=point.zoom_raw, focal_length_mm=point.focal_length_mm,
                            focus_distance_m=point.focus_distance_m, f_stop=point.f_stop, source_time_ns=time.time_ns(),
                            timecode=_timecode(frame, self.rate), sequence=frame, sample_rate=self.rate,
                            status="simulated")

    def tick(self, frame: int) -> None:
        sample = self.sample_at(frame)
        if sample is None:
            self.skipped += 1
            return
        for data in self.encoder.encode(sample):
            if self.link.send(data):
                self.sent += 1
            else:
                self.dropped += 1

    def run(self, duration_s: float | None = None, epoch_ns: int | None = None) -> None:
        """Send until ``duration_s`` has passed (forever when None) or ``stop()`` is called.
        Sample k goes out at ``epoch_ns + k / rate`` (monotonic; default: now): a fixed phase,
        like a tracker on house sync."""
        self.epoch_ns = time.monotonic_ns() if epoch_ns is None else epoch_ns
        start = self.epoch_ns / 1e9
        frame = 0
        while not self._stop.is_set():
            due = start + float(frame / self.rate)
            if duration_s is not None and due - start >= duration_s:
                break
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            self.tick(frame)
            frame += 1

    def start(self, duration_s: float | None = None) -> None:
        """Run on a daemon thread; ``epoch_ns`` (when the first sample goes out) is set at once."""
        self._stop.clear()
        self.epoch_ns = time.monotonic_ns()
        self._thread = threading.Thread(target=self.run, args=(duration_s, self.epoch_ns), name="tracker-simulator",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def close(self) -> None:
        """Stop and release the link (its socket, port or pty); a second call does nothing."""
        self.stop()
        if not self._closed:
            self._closed = True
            self.link.close()
