"""Timecode masters: what turns LTC audio or a tracker's timecode into observations for the
:class:`~vpstage.timing.discipline.ClockDiscipline` (a frame count at the stage rate, and the
instant on this host's monotonic clock that frame began).

* :class:`LtcMaster`: audio blocks -> :class:`~vpstage.timing.ltc.LtcDecoder` -> each frame's
  start sample -> host time through a :class:`SampleTimeline`. At 48 to 60 frames a second an LTC
  frame labels a pair of frames and begins with the first (``vpstage.timing.ltc.ltc_rate``).
* :class:`TrackerTimecodeMaster`: OpenTrackIO samples carry ``timing.timecode``
  (``CameraSample.timecode``); the instant is the sample's arrival (``arrival_ns``), so the
  tracker's send latency and the network's are in it: ``timecode.offset_ms`` takes the constant
  part out, the loop filter averages the rest. FreeD carries no timecode, and neither do the OSC
  presets: a tracker master needs an OpenTrackIO source. Only samples with ``subFrame`` 0, and
  the first of several samples with the same label, are used. The tracker's timecode rate must be
  the stage rate, half of it (frame pairs) or twice it (every other label).

Sample timelines map an audio sample index to host time:

* :class:`FixedTimeline`: a known pace (a WAV file replayed in real time, a simulator).
* :class:`FittedTimeline`: a sound device, whose sample clock is its own crystal (or house word
  clock), not the host's. Each block arrives with the host time of its first sample (PortAudio's
  ADC time, or the callback's time less one block where the driver gives none). A block is never
  dated too early, only too late, so the line follows the earliest arrivals: its slope through the
  earliest block of each eighth of the last ``window_s`` (20 s), its height at their 5th
  percentile. It gives host time for any sample, so the card's clock error does not read as
  master drift and the callbacks' scheduling jitter drops out. Refitted every 0.25 s of samples.
  A block more than ``RESET_MS`` off the line (samples lost in an overflow, a stream restart)
  starts the line afresh.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from vpstage.timing.ltc import LtcDecoder, LtcFrame, ltc_rate
from vpstage.timing.timecode import Timecode, TimecodeError

RESET_MS = 5.0
"""A block this far off the fitted line restarts the fit."""
CHUNKS = 8
"""Stretches of the window whose earliest blocks give the slope."""
LOW_PERCENTILE = 5.0
"""The fitted line passes this percentile of the blocks' host times above it (the earliest
arrivals: a block's time is its ADC time or when the callback ran, never earlier)."""


class TimecodeSink(Protocol):
    """Where observations go (``ClockDiscipline``)."""

    def observe(self, count: int, at_ns: int, label: str = "", drop_frame: bool | None = None) -> None: ...
    def set_hint(self, hint: str | None) -> None: ...


class SampleTimeline(Protocol):
    def host_ns(self, sample: float) -> int:
        """Host monotonic time of (fractional) sample index ``sample``."""
        ...


@dataclass(frozen=True)
class FixedTimeline:
    """Sample ``s`` is at ``t0_ns + s / sample_rate`` (a file replayed at a known pace)."""

    t0_ns: int
    sample_rate: float

    def host_ns(self, sample: float) -> int:
        return self.t0_ns + round(sample * 1e9 / self.sample_rate)


class FittedTimeline:
    """Host time of audio samples from per-block (first sample, host time) pairs (see the module
    notes). ``observe`` and ``host_ns`` may be called from different threads."""

    def __init__(self, sample_rate: float, window_s: float = 20.0, refit_s: float = 0.25) -> None:
        self.sample_rate = float(sample_rate)
        self.window_samples = window_s * self.sample_rate
        self.refit_samples = refit_s * self.sample_rate
        self._pairs: deque[tuple[float, int]] = deque()
        self._fit: tuple[float, float, float, bool] | None = None  # (sample0, t0, ns per sample, sloped)
        self._fitted_at = -np.inf
        self._lock = threading.Lock()
        self.resets = 0

    def observe(self, sample: float, host_ns: int) -> None:
        with self._lock:
            if self._fit is not None and abs(self._predict(sample) - host_ns) > RESET_MS * 1e6:
                self._pairs.clear()
                self._fit, self._fitted_at = None, -np.inf
                self.resets += 1
            self._pairs.append((float(sample), int(host_ns)))
            while self._pairs[-1][0] - self._pairs[0][0] > self.window_samples:
                self._pairs.popleft()
            if self._fit is None or not self._fit[3] or sample - self._fitted_at >= self.refit_samples:
                self._fit = self._solve()
                self._fitted_at = sample

    def _solve(self) -> tuple[float, float, float, bool]:
        s = np.array([p[0] for p in self._pairs])
        t = np.array([p[1] for p in self._pairs], dtype=np.int64)
        s0, t0 = s[0], int(t[0])
        ds, dt = s - s0, (t - t0).astype(np.float64)
        slope, sloped = 1e9 / self.sample_rate, False
        if len(s) >= 4 * CHUNKS and ds[-1] >= 2 * self.sample_rate:
            # the slope through the earliest arrival of each stretch (the lower envelope)
            chunks = np.array_split(np.arange(len(s)), CHUNKS)
            low = [c[np.argmin(dt[c] - slope * ds[c])] for c in chunks]
            slope, sloped = float(np.polyfit(ds[low], dt[low], 1)[0]), True
        floor = float(np.percentile(dt - slope * ds, LOW_PERCENTILE))
        return s0, t0 + floor, slope, sloped

    def _predict(self, sample: float) -> float:
        assert self._fit is not None
        s0, t0, slope, _ = self._fit
        return t0 + (sample - s0) * slope

    def host_ns(self, sample: float) -> int:
        with self._lock:
            if self._fit is None:
                raise ValueError("no block timing observed yet")
            return round(self._predict(sample))

    @property
    def sample_rate_measured(self) -> float | None:
        """The card's sample rate in host seconds (None until there is a slope: 2 s of blocks)."""
        with self._lock:
            if self._fit is None or not self._fit[3]:
                return None
            return 1e9 / self._fit[2]


class LtcMaster:
    """LTC audio -> decoded frames -> observations for ``sink`` (a ``ClockDiscipline``) at the stage
    ``rate``. Feed it from one thread (the audio input's); ``on_frame(frame, start_ns)`` sees every
    decoded frame."""

    def __init__(self, sink: TimecodeSink | None, rate: Fraction, sample_rate: float, *,
                 on_frame: Callable[[LtcFrame, int], None] | None = None) -> None:
        self.rate = Fraction(rate)
        self.ltc_fps, self.per_frame = ltc_rate(self.rate)
        self.decoder = LtcDecoder(sample_rate, self.ltc_fps)
        self.sink, self.on_frame = sink, on_frame
        self.frames = self.refused = 0
        self.last: LtcFrame | None = None

    def feed(self, block: npt.ArrayLike, timeline: SampleTimeline) -> list[LtcFrame]:
        """Decode ``block`` (the samples after those fed before); observe each frame at the host
        time of its start."""
        frames = self.decoder.feed(block)
        for frame in frames:
            try:
                count = frame.video_count(self.rate)
            except TimecodeError:  # e.g. the drop-frame flag on LTC at 24, 25 or 30
                self.refused += 1
                if self.sink is not None:
                    self.sink.set_hint(f"LTC {frame.label} does not exist at {self.ltc_fps} fps")
                continue
            start_ns = timeline.host_ns(frame.start)
            self.frames += 1
            self.last = frame
            if self.sink is not None:
                label = str(Timecode.from_count(count, self.rate, frame.drop_frame))
                self.sink.observe(count, start_ns, label, frame.drop_frame)
            if self.on_frame is not None:
                self.on_frame(frame, start_ns)
        return frames

    def report(self) -> dict[str, object]:
        d = self.decoder
        return {"frames": self.frames, "refused": self.refused, "bad_frames": d.bad_frames,
                "sync_errors": d.sync_errors, "samples": d.samples, "ltc_fps": str(self.ltc_fps),
                "frames_per_ltc_frame": self.per_frame,
                "bit_rate_measured": round(d.sample_rate / d.bit_period, 2),
                "last": None if self.last is None else self.last.label}


@dataclass(kw_only=True)
class TrackerTimecodeMaster:
    """A tracker's timecode as the master (see the module notes). ``offer(camera, sample)`` takes
    what ``TrackingHub.sample_received`` sends (receiver threads)."""

    sink: TimecodeSink | None
    rate: Fraction
    camera: str
    samples: int = 0
    used: int = 0
    without_timecode: int = 0
    other_rate: int = 0
    repeated: int = 0

    def __post_init__(self) -> None:
        self._last: tuple[int, int, int, int] | None = None
        self._lock = threading.Lock()

    def offer(self, camera: str, sample: object) -> None:
        if camera != self.camera:
            return
        tc = getattr(sample, "timecode", None)
        arrival = getattr(sample, "arrival_ns", None)
        with self._lock:
            self.samples += 1
            if tc is None or arrival is None:
                self.without_timecode += 1
                self._hint(f"camera {self.camera}'s tracker sends no timecode")
                return
            if tc.sub_frame:
                self.repeated += 1
                return
            factor = self.rate / Fraction(tc.rate)
            if factor not in (Fraction(1, 2), 1, 2):
                self.other_rate += 1
                self._hint(f"camera {self.camera}'s tracker sends timecode at {tc.rate} fps, "
                           f"the stage runs at {self.rate}")
                return
            key = (tc.hours, tc.minutes, tc.seconds, tc.frames)
            if key == self._last:
                self.repeated += 1
                return
            self._last = key
            count = Fraction(tc.to_count()) * factor  # a Timecode: its label exists (the decoder checked)
            if count.denominator != 1:  # timecode at twice the stage rate: every other label
                return
            self.used += 1
            self._hint(None)
        if self.sink is not None:
            label = str(Timecode.from_count(int(count), self.rate, bool(tc.drop_frame)))
            self.sink.observe(int(count), int(arrival), label, bool(tc.drop_frame))

    def _hint(self, text: str | None) -> None:
        if self.sink is not None:
            self.sink.set_hint(text)

    def report(self) -> dict[str, object]:
        with self._lock:
            return {"camera": self.camera, "samples": self.samples, "used": self.used,
                    "without_timecode": self.without_timecode, "other_rate": self.other_rate,
                    "repeated": self.repeated}
