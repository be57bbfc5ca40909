"""Replay a recorded take as a live tracker: its raw poses, as real packets, at the recorded pace.

A take records, per frame and camera, the tracker-frame pose the calibrated camera was made
from (``RawCameraState``). :class:`TakePath` turns one camera's records into a simulator path:
at time t (seconds since the replay started) it returns the record of the frame whose recorded
instant (``monotonic_ns`` relative to the first frame) is nearest t, so a simulator ticking at
the take's own rate sends every recorded frame once, in order, at its recorded pace; frames the
camera had no sample in are dropouts (nothing sent). :func:`take_simulator` builds the
:class:`~devices.tracking.simulator.TrackerSimulator` that sends them in the recorded protocol
(FreeD, OpenTrackIO or OSC) to a loopback port, where a ``TrackingHub`` receives them exactly
like a live tracker.

What comes back: the pose (position and pan/tilt/roll) and, for FreeD, the raw zoom and focus
counts as recorded (FreeD quantises positions to 1/64 mm and angles to 1/32768 degree); the
f-number (FreeD spare bits, OpenTrackIO and OSC lens values) comes from the calibrated record.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from fractions import Fraction

from devices.tracking.paths import PathPoint
from devices.tracking.simulator import (
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    Encoder,
    FreeDEncoder,
    OpenTrackIOEncoder,
    OscEncoder,
    TrackerSimulator,
    UdpLink,
)
from vpstage.takes.frame_records import FrameRecord


class ReplayError(ValueError):
    """The take cannot be replayed (no such camera, no raw poses, a rate out of range)."""


def _point(frame: FrameRecord, camera: str) -> PathPoint | None:
    record = frame.camera(camera)
    if record is None or record.raw is None:
        return None
    raw, cal = record.raw, record.calibrated
    zoom = round(raw.zoom_raw) if raw.protocol == "freed" and raw.zoom_raw is not None else None
    focus = round(raw.focus_raw) if raw.protocol == "freed" and raw.focus_raw is not None else None
    return PathPoint(x_m=raw.x_m, y_m=raw.y_m, z_m=raw.z_m, pan_deg=raw.pan_deg, tilt_deg=raw.tilt_deg,
                     roll_deg=raw.roll_deg, focal_length_mm=None if cal is None else cal.focal_length_mm,
                     focus_distance_m=None if cal is None else cal.focus_distance_m,
                     f_stop=None if cal is None else cal.f_stop, zoom_raw=zoom, focus_raw=focus)


class TakePath:
    """One camera of a take as a simulator path (see the module docstring)."""

    def __init__(self, frames: Sequence[FrameRecord], camera: str) -> None:
        if not frames:
            raise ReplayError("the take has no frames")
        if not any(f.camera(camera) is not None for f in frames):
            names = sorted({c.camera for f in frames for c in f.cameras})
            raise ReplayError(f"camera {camera!r} is not in the take (cameras: {', '.join(names) or 'none'})")
        protocols = {r.raw.protocol for f in frames if (r := f.camera(camera)) is not None and r.raw is not None}
        if not protocols:
            raise ReplayError(f"camera {camera!r} has no recorded tracker poses in the take")
        if len(protocols) > 1:
            raise ReplayError(f"camera {camera!r} was tracked over several protocols: {sorted(protocols)}")
        self.protocol = protocols.pop()
        self.camera = camera
        start = frames[0].monotonic_ns
        self.times_s = [(f.monotonic_ns - start) / 1e9 for f in frames]
        self.points = [_point(f, camera) for f in frames]
        self.rate = frames[0].rate
        self.duration_s = self.times_s[-1] + float(1 / self.rate)

    def __call__(self, t: float) -> PathPoint | None:
        i = bisect.bisect_left(self.times_s, t)
        if i >= len(self.times_s):
            return None
        if i > 0 and t - self.times_s[i - 1] < self.times_s[i] - t:
            i -= 1
        return self.points[i]


def encoder_for(protocol: str) -> Encoder:
    encoders: dict[str, type[FreeDEncoder] | type[OpenTrackIOEncoder] | type[OscEncoder]] = {
        "freed": FreeDEncoder, "opentrackio": OpenTrackIOEncoder, "osc": OscEncoder}
    if protocol not in encoders:
        raise ReplayError(f"cannot send {protocol!r} tracking")
    return encoders[protocol]()


def take_simulator(path: TakePath, host: str, port: int, camera_id: int | str = 1) -> TrackerSimulator:
    """A simulator sending ``path`` in its recorded protocol to ``host:port`` (loopback only) at
    the take's rate; run it for ``path.duration_s``."""
    rate = Fraction(path.rate)
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise ReplayError(f"the take's rate {rate} is outside the simulator's {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz")
    return TrackerSimulator(encoder_for(path.protocol), UdpLink(host, port), path, float(rate), camera_id)
