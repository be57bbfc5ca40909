"""A bounded, thread-safe per-camera sample buffer sampled at any instant with delay compensation.

Receiver threads ``push`` samples; the frame loop asks ``state_at(t)``: position is interpolated
linearly and rotation by slerp between the two samples around ``t - delay``, and so are the
numeric lens fields (raw encoder counts are rounded). After the newest sample the pose is held,
or extrapolated from the last two samples for at most ``max_extrapolation_ns`` (then held there).
Before the oldest sample it is clamped to the oldest one.

The time axis is the receive time (``CameraSample.arrival_ns``, monotonic ns): the delay setting
absorbs the tracker's own latency, so the render shows where the camera was when the frame was
exposed. Optional One Euro smoothing is applied on ``push`` (off by default).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from vpstage.tracking.quaternions import (
    Quat,
    normalized,
    pan_tilt_roll,
    quat_from_pan_tilt_roll,
    same_hemisphere,
    slerp,
)
from vpstage.tracking.sample import INTERPOLATED_LENS_FIELDS, INTERPOLATED_RAW_FIELDS, CameraSample
from vpstage.tracking.smoothing import OneEuroFilter, OneEuroSettings

Mode = Literal["exact", "interpolated", "extrapolated", "held", "before_first"]
DEFAULT_CAPACITY = 512


def ms_to_ns(ms: float) -> int:
    return round(ms * 1_000_000)


def frames_to_ns(frames: float, rate: Fraction) -> int:
    """A delay given in frames at an exact frame rate, in nanoseconds."""
    return round(Fraction(frames) * 1_000_000_000 / rate)


@dataclass(frozen=True, kw_only=True)
class PoseAt:
    """The camera at ``time_ns`` in the tracker frame.

    ``quaternion`` (w, x, y, z) rotates body axes (right, forward, up) into the tracker frame.
    ``sample`` carries the pose and the interpolated lens fields; its ``arrival_ns`` is
    ``time_ns``. ``age_ns`` is how far ``time_ns`` lies past the newest buffered sample (negative
    while interpolating inside the buffer).
    """

    time_ns: int
    position_m: tuple[float, float, float]
    quaternion: Quat
    sample: CameraSample
    mode: Mode
    newest_arrival_ns: int

    @property
    def age_ns(self) -> int:
        return self.time_ns - self.newest_arrival_ns


@dataclass(frozen=True, slots=True)
class _Entry:
    t: int
    position: tuple[float, float, float]
    quat: Quat
    sample: CameraSample


def _lerp_fields(a: CameraSample, b: CameraSample, u: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in INTERPOLATED_LENS_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        if va is not None and vb is not None:
            out[name] = va + (vb - va) * u
    for name in INTERPOLATED_RAW_FIELDS:
        va, vb = getattr(a, name), getattr(b, name)
        if va is not None and vb is not None:
            out[name] = max(0, round(va + (vb - va) * u))
    return out


class SampleBuffer:
    """Holds the last ``capacity`` samples of one camera. ``push`` and ``state_at`` may run on
    different threads (a lock guards the lists; interpolation happens outside it)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, smoothing: OneEuroSettings | None = None) -> None:
        if capacity < 2:
            raise ValueError("a buffer needs room for at least two samples")
        self.capacity = capacity
        self._times: list[int] = []
        self._entries: list[_Entry] = []
        self._latest_raw: CameraSample | None = None
        self._lock = threading.Lock()
        self._filter = OneEuroFilter(smoothing) if smoothing is not None else None

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._times.clear()
            self._entries.clear()
            self._latest_raw = None
            if self._filter is not None:
                self._filter.reset()

    def latest(self) -> CameraSample | None:
        """The newest sample as received (before smoothing)."""
        return self._latest_raw

    def push(self, sample: CameraSample) -> None:
        raw = sample
        quat = quat_from_pan_tilt_roll(sample.pan_deg, sample.tilt_deg, sample.roll_deg)
        position = sample.position_m
        with self._lock:
            if self._filter is not None:
                sample, position, quat = self._smoothed(sample, position, quat)
            entry = _Entry(sample.arrival_ns, position, quat, sample)
            if not self._times or sample.arrival_ns >= self._times[-1]:
                self._times.append(sample.arrival_ns)
                self._entries.append(entry)
            else:  # arrived late relative to another sample: keep the time order
                i = bisect.bisect_right(self._times, sample.arrival_ns)
                self._times.insert(i, sample.arrival_ns)
                self._entries.insert(i, entry)
            if len(self._entries) > self.capacity:
                del self._times[0], self._entries[0]
            self._latest_raw = raw

    def _smoothed(self, sample: CameraSample, position: tuple[float, float, float],
                  quat: Quat) -> tuple[CameraSample, tuple[float, float, float], Quat]:
        assert self._filter is not None
        if self._entries:
            quat = same_hemisphere(self._entries[-1].quat, quat)
        x, y, z, *q = self._filter(sample.arrival_ns, (*position, *quat))
        quat = normalized((q[0], q[1], q[2], q[3]))
        pan, tilt, roll = pan_tilt_roll(quat)
        smoothed = sample._replace(x_m=x, y_m=y, z_m=z, pan_deg=pan, tilt_deg=tilt, roll_deg=roll)
        return smoothed, (x, y, z), quat

    def state_at(self, t_ns: int, delay_ns: int = 0, max_extrapolation_ns: int = 0) -> PoseAt | None:
        """The pose at ``t_ns - delay_ns`` (None while the buffer is empty)."""
        t = t_ns - delay_ns
        with self._lock:
            if not self._entries:
                return None
            i = bisect.bisect_right(self._times, t)
            newest = self._entries[-1]
            before = self._entries[i - 1] if i > 0 else None
            after = self._entries[i] if i < len(self._entries) else None
            previous = self._entries[-2] if len(self._entries) > 1 else None
        if before is None:
            assert after is not None
            return self._at(after, t, "before_first", newest.t)
        if after is None:
            return self._beyond(before, previous, t, max_extrapolation_ns)
        if before.t == t:
            return self._at(before, t, "exact", newest.t)
        u = (t - before.t) / (after.t - before.t)
        return self._blend(before, after, u, t, "interpolated", newest.t)

    def _beyond(self, last: _Entry, previous: _Entry | None, t: int, limit_ns: int) -> PoseAt:
        if limit_ns <= 0 or previous is None or previous.t == last.t or t == last.t:
            return self._at(last, t, "exact" if t == last.t else "held", last.t)
        reach = min(t, last.t + limit_ns)
        u = (reach - previous.t) / (last.t - previous.t)
        return self._blend(previous, last, u, t, "extrapolated", last.t)

    @staticmethod
    def _at(entry: _Entry, t: int, mode: Mode, newest_t: int) -> PoseAt:
        sample = entry.sample._replace(arrival_ns=t)
        return PoseAt(time_ns=t, position_m=entry.position, quaternion=entry.quat, sample=sample, mode=mode,
                      newest_arrival_ns=newest_t)

    @staticmethod
    def _blend(a: _Entry, b: _Entry, u: float, t: int, mode: Mode, newest_t: int) -> PoseAt:
        position = (a.position[0] + (b.position[0] - a.position[0]) * u,
                    a.position[1] + (b.position[1] - a.position[1]) * u,
                    a.position[2] + (b.position[2] - a.position[2]) * u)
        quat = slerp(a.quat, b.quat, u)
        pan, tilt, roll = pan_tilt_roll(quat)
        lens = _lerp_fields(a.sample, b.sample, min(u, 1.0) if mode == "extrapolated" else u)
        nearest = a.sample if u < 0.5 else b.sample
        sample = nearest._replace(arrival_ns=t, x_m=position[0], y_m=position[1], z_m=position[2], pan_deg=pan,
                                  tilt_deg=tilt, roll_deg=roll, **lens)
        return PoseAt(time_ns=t, position_m=position, quaternion=quat, sample=sample, mode=mode,
                      newest_arrival_ns=newest_t)
