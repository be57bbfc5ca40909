"""The frame clock: frame instants on the monotonic clock, timecode labels, present deadlines.

Frame ``i`` of a run starts at ``start_ns + floor(i * 10**9 * D / N)`` for the rate N/D, computed
with integers so the schedule never drifts. Its timecode label is the frame count
``i + offset`` (modulo 24 hours); the offset is set by jam-syncing to the time of day or to an
external timecode (e.g. the one an OpenTrackIO sample carries), so the label can follow house
timecode while frame instants stay on the monotonic clock.

The time source is injectable: :class:`MonotonicTimeSource` for real runs, and
:class:`ManualTimeSource` for deterministic runs (tests, offline renders) where time moves only
when something advances it.

**Steering.** A timecode master (LTC, a tracker's timecode) disciplines the clock through
:class:`~vpstage.timing.discipline.ClockDiscipline` (``attach``): at every ``tick`` the discipline
may ``steer`` the schedule from that frame on (a period ``scale`` times the nominal one, and at
acquisition a phase step of less than half a period) and ``relabel`` it. The schedule is then a
chain of segments, each ``(first frame, its instant, scale)``; past frames keep the instants they
had. Undisciplined (scale exactly 1, no step) the schedule is the exact integer one above.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Protocol

from vpstage.timing.timecode import Timecode, check_rate, default_drop_frame, frames_per_day, nominal_fps

NS_PER_S = 1_000_000_000


class TimeSource(Protocol):
    """Where the loop reads the time and how it waits. Nanoseconds, monotonic."""

    def now_ns(self) -> int: ...

    def sleep_until(self, t_ns: int) -> None:
        """Return at or after ``t_ns`` (immediately when it has passed)."""
        ...


class ClockDisciplineLike(Protocol):
    """What ``FrameClock.attach`` takes (``vpstage.timing.discipline.ClockDiscipline``)."""

    @property
    def acquired(self) -> bool:
        """True once the master's phase and labels are on the clock."""
        ...

    def apply(self, clock: FrameClock, index: int) -> None:
        """Steer ``clock`` from frame ``index`` on (called by ``tick``, on the frame loop's thread)."""
        ...


class MonotonicTimeSource:
    """The process's monotonic clock (``time.monotonic_ns``)."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def sleep_until(self, t_ns: int) -> None:
        while True:
            remaining = t_ns - time.monotonic_ns()
            if remaining <= 0:
                return
            time.sleep(remaining / NS_PER_S)


class ManualTimeSource:
    """Time that moves only when told to: ``advance`` / ``set``, or ``sleep_until`` (which jumps
    forward to the wake-up time at once). Thread-safe; deterministic for tests and offline runs."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ns: int) -> int:
        if ns < 0:
            raise ValueError("time cannot run backwards")
        with self._lock:
            self._now += ns
            return self._now

    def sleep_until(self, t_ns: int) -> None:
        with self._lock:
            self._now = max(self._now, t_ns)


@dataclass(frozen=True, kw_only=True)
class FrameTick:
    """One frame of the run, as the clock schedules it (all times monotonic ns)."""

    index: int
    """Frames since the run started (0-based); the frame number in stats and jobs."""
    count: int
    """Timecode frame count (frames since 00:00:00:00, wrapping daily)."""
    timecode: Timecode
    time_ns: int
    """The frame's instant: the start of its period; tracking is sampled here (minus delays)."""
    deadline_ns: int
    """Present deadline: canvases not rendered by then repeat their previous picture."""


class FrameClock:
    """Schedules frames at an exact rational rate on a time source.

    ``deadline_ns`` is the render budget from a frame's instant to its present deadline
    (default one frame period). ``set_timecode`` / ``sync_time_of_day`` may be called from any
    thread; the new label applies from the next tick. ``tick`` (and so ``steer``/``relabel``
    through an attached discipline) belongs to the frame loop's thread.
    """

    MAX_SEGMENTS = 32
    """Steered segments kept (older frames are timed by the oldest kept segment)."""

    def __init__(self, rate: Fraction, *, time_source: TimeSource | None = None, start_ns: int | None = None,
                 drop_frame: bool | None = None, deadline_ns: int | None = None) -> None:
        self.rate = check_rate(Fraction(rate))
        self.time_source: TimeSource = time_source or MonotonicTimeSource()
        self.drop_frame = default_drop_frame(self.rate) if drop_frame is None else drop_frame
        Timecode(hours=0, minutes=0, seconds=0, frames=0, rate=self.rate,
                 drop_frame=self.drop_frame)  # refuses drop-frame at rates without it
        self.deadline_ns = self.period_ns_floor() if deadline_ns is None else int(deadline_ns)
        if self.deadline_ns <= 0:
            raise ValueError("the frame deadline must be positive")
        start = self.time_source.now_ns() if start_ns is None else start_ns
        self._segments: list[tuple[int, int, float]] = [(0, start, 1.0)]
        """(first frame, its instant, period scale), in frame order; instants rise with frames."""
        self._offset = 0
        self._day = frames_per_day(self.rate, self.drop_frame)
        self.phase_ns: int | None = None
        """Genlock reference: frame instants fall on ``phase_ns + k * period`` after a rebase."""
        self.discipline: ClockDisciplineLike | None = None
        """The timecode master's discipline (``attach``), or None: free run on the time source."""
        self._ticked = -1
        """The newest frame the discipline was applied for."""

    # ------------------------------------------------------------------ schedule

    def period_ns_floor(self) -> int:
        """One frame period in whole nanoseconds (rounded down; the schedule itself is exact)."""
        return NS_PER_S * self.rate.denominator // self.rate.numerator

    @property
    def period_ns(self) -> float:
        """The nominal frame period in nanoseconds."""
        return NS_PER_S * self.rate.denominator / self.rate.numerator

    @property
    def scale(self) -> float:
        """The current period over the nominal one (1.0 undisciplined; 1.0001: 100 ppm slow)."""
        return self._segments[-1][2]

    @property
    def start_ns(self) -> int:
        """Instant of run frame 0."""
        return self.time_of(0)

    def _segment_for_index(self, index: int) -> tuple[int, int, float]:
        segments = self._segments  # replaced, never mutated: a consistent snapshot for any thread
        for segment in reversed(segments):
            if segment[0] <= index:
                return segment
        return segments[0]

    @staticmethod
    def _on(segment: tuple[int, int, float], index: int, step: int, rate: Fraction) -> int:
        first, at, scale = segment
        if scale == 1.0:
            return at + (index - first) * step // rate.numerator
        return at + math.floor((index - first) * step * scale / rate.numerator)

    def time_of(self, index: int) -> int:
        """Monotonic instant of frame ``index`` (exact, no accumulated rounding)."""
        return self._on(self._segment_for_index(index), index, NS_PER_S * self.rate.denominator, self.rate)

    def index_at(self, t_ns: int) -> int:
        """The frame whose period contains ``t_ns`` (may be negative before the start)."""
        segments = self._segments
        segment = segments[0]
        for candidate in reversed(segments):
            if candidate[1] <= t_ns:
                segment = candidate
                break
        first, at, scale = segment
        step = NS_PER_S * self.rate.denominator
        if scale == 1.0:
            guess = first + ((t_ns - at) * self.rate.numerator) // step
        else:
            guess = first + math.floor((t_ns - at) * self.rate.numerator / (step * scale))
        while self.time_of(guess + 1) <= t_ns:
            guess += 1
        while self.time_of(guess) > t_ns:
            guess -= 1
        return guess

    def scheduled_ns(self, index: float) -> float:
        """Where the schedule now in force puts (fractional) frame ``index``: the newest segment,
        extrapolated backwards too. What a discipline compares the master with."""
        first, at, scale = self._segments[-1]
        return at + (index - first) * self.period_ns * scale

    def position_of(self, t_ns: int) -> float:
        """The fractional frame index at ``t_ns`` under the schedule now in force."""
        first, at, scale = self._segments[-1]
        return first + (t_ns - at) / (self.period_ns * scale)

    def steer(self, index: int, scale: float, step_ns: int = 0) -> None:
        """From frame ``index`` on (or from the newest segment's first frame when that is later),
        frames are ``scale`` nominal periods apart, and frame ``index`` moves by ``step_ns`` (less
        than half a period, so instants keep rising). Frames before it keep their instants."""
        if not 0.5 < scale < 2.0:
            raise ValueError(f"period scale {scale} is not a clock correction")
        segments = list(self._segments)
        first = max(index, segments[-1][0])
        at = self.time_of(first) + int(step_ns)
        if segments[-1][0] == first:
            segments.pop()
        segments.append((first, at, float(scale)))
        self._segments = segments[-self.MAX_SEGMENTS:]

    def relabel(self, index: int, count: int) -> None:
        """Label frame ``index`` with timecode frame count ``count`` (and the others after it)."""
        self._offset = (count - index) % self._day

    def set_drop_frame(self, drop_frame: bool) -> None:
        """Label drop-frame or not from now on (a master's convention); frame counts stay."""
        Timecode(hours=0, minutes=0, seconds=0, frames=0, rate=self.rate,
                 drop_frame=drop_frame)  # refuses drop-frame at rates without it
        day = frames_per_day(self.rate, drop_frame)
        self._offset %= day
        self.drop_frame, self._day = drop_frame, day

    def attach(self, discipline: ClockDisciplineLike | None) -> None:
        """Let ``discipline`` steer and relabel this clock at every tick (None: free run again)."""
        self.discipline = discipline

    def tick(self, index: int) -> FrameTick:
        """Frame ``index`` as scheduled. With a discipline attached, the first tick of each frame
        beyond the newest one ticked lets it steer the clock first (the frame loop's ticks);
        ticking an earlier frame again only reads the schedule."""
        discipline = self.discipline
        if discipline is not None and index > self._ticked:
            self._ticked = index
            discipline.apply(self, index)
        count = (index + self._offset) % self._day
        t = self.time_of(index)
        return FrameTick(index=index, count=count, timecode=Timecode.from_count(count, self.rate, self.drop_frame),
                         time_ns=t, deadline_ns=t + self.deadline_ns)

    def next_index(self, after: int) -> int:
        """The frame to run after frame ``after``: the next one, or the current one when the
        caller has fallen behind (frames in between are skipped, never run late)."""
        return max(after + 1, self.index_at(self.time_source.now_ns()))

    def genlock(self, reference_ns: int | None) -> None:
        """Lock the frame phase to a reference (house sync, a genlocked tracker): from the next
        ``rebase`` on, frame instants fall on ``reference_ns + k * period``. None: free run."""
        self.phase_ns = reference_ns

    def aligned(self, t_ns: int) -> int:
        """The first instant at or after ``t_ns`` in phase with the reference: the disciplined
        schedule once the discipline has acquired its master, else the genlock reference, else
        ``t_ns`` itself."""
        discipline = self.discipline
        if discipline is not None and discipline.acquired:
            index = math.ceil(self.position_of(t_ns))
            while self.scheduled_ns(index) < t_ns:
                index += 1
            return math.ceil(self.scheduled_ns(index))
        if self.phase_ns is None:
            return t_ns
        step = NS_PER_S * self.rate.denominator
        k = -((self.phase_ns - t_ns) * self.rate.numerator // step)  # ceil((t - phase) / period)
        return self.phase_ns + k * step // self.rate.numerator

    def rebase(self, start_ns: int, first_index: int = 0) -> None:
        """Restart the schedule so that frame ``first_index`` falls at ``start_ns`` (moved to the
        next instant in phase with the master or the genlock reference; a run that resumes keeps
        counting frames). The label that instant had under the old schedule carries over, so
        timecode stays continuous across runs. The period scale carries over too."""
        start_ns = self.aligned(start_ns)
        label_count = self.index_at(start_ns) + self._offset
        self._segments = [(first_index, start_ns, self.scale)]
        self._offset = (label_count - first_index) % self._day
        self._ticked = first_index - 1

    def wait_for(self, tick: FrameTick) -> None:
        self.time_source.sleep_until(tick.time_ns)

    def now_ns(self) -> int:
        return self.time_source.now_ns()

    # ------------------------------------------------------------------ timecode offset

    def set_timecode(self, timecode: Timecode, at_ns: int | None = None) -> None:
        """Jam-sync: the frame containing ``at_ns`` (default now) is labelled ``timecode``.

        ``timecode`` must be at the clock's rate (an external source at another rate is converted
        by the caller, e.g. by its real time).
        """
        if timecode.rate != self.rate:
            raise ValueError(f"timecode at {timecode.rate} cannot label a {self.rate} clock")
        t = self.time_source.now_ns() if at_ns is None else at_ns
        relabelled = Timecode.from_count(timecode.to_count(), self.rate, self.drop_frame)
        self._offset = (relabelled.to_count() - self.index_at(t)) % self._day

    def sync_time_of_day(self, wall: datetime | None = None, at_ns: int | None = None) -> Timecode:
        """Jam-sync to local time of day (``wall``, default now); returns the label applied."""
        now = wall or datetime.now()
        nom = nominal_fps(self.rate)
        frames = min(nom - 1, now.microsecond * nom // 1_000_000)
        d = nom // 15 if self.drop_frame else 0
        if d and now.second == 0 and now.minute % 10 and frames < d:
            frames = d  # that label does not exist under drop-frame: take the next one
        label = Timecode(hours=now.hour, minutes=now.minute, seconds=now.second, frames=frames, rate=self.rate,
                         drop_frame=self.drop_frame)
        self.set_timecode(label, at_ns)
        return label

    @property
    def timecode_offset(self) -> int:
        """Timecode frame count of run frame 0."""
        return self._offset
