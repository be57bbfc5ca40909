"""Disciplining the frame clock to a timecode master (LTC, a tracker's timecode): a software PLL.

A master tells, frame after frame, *which* frame (its timecode frame count at the stage rate) began
*when* (an instant on this host's monotonic clock): :meth:`ClockDiscipline.observe`, from any
thread. At every tick of the frame loop (``FrameClock.tick`` -> :meth:`ClockDiscipline.apply`, on
the loop's thread) the discipline compares those instants with where the clock's schedule puts the
same frames and steers the clock.

**Acquisition.** Three consecutive observations that agree (counts and instants one nominal period
apart, to a quarter period) are needed. Then the clock's phase *steps* onto the master's frame
grid (by less than half a period: the nearest frame instant moves onto the master's) and its labels
are *relabelled* to the master's count. This is the only time frame instants jump.

**Tracking: a type-2 loop (proportional + integral).** With ``theta`` the phase error in seconds
(master instant minus scheduled instant of the same frame; positive: the master is later, our clock
runs early) after a prefilter, the clock's period becomes ``nominal x (1 + y)`` with::

    y_I += Ki * theta * dt        (dt: seconds between observations, at most 0.5)
    y    = y_I + Kp * theta       (|y| at most MAX_SLEW_PPM)
    Kp = 2 * zeta * wn,  Ki = wn**2,  wn = 2 * pi * loop_bandwidth_hz,  zeta = 1 (critically damped)

The prefilter: for LTC (instants from sample positions, jitter both ways) the median of the last
five, so one disturbed frame does not move the clock; for a tracker (instants are packet arrivals,
only ever late: scheduling, network) the earliest of the last eight, the lower envelope, as NTP
does with round trips.

``y_I`` learns the master's period against this host's clock (a house generator running 100 ppm
fast, i.e. with shorter periods, ends at ``y_I = -100e-6``); ``Kp`` pulls the phase in. With the
default ``loop_bandwidth_hz`` 0.1 (wn = 0.63 rad/s) a phase error decays with a time constant of
1.6 s and a frequency step of 100 ppm leaves at most about 60 us of phase error; the loop passes
little of the master's jitter (noise bandwidth 0.39 Hz: 1 ms of tracker jitter moves the clock by
well under 0.2 ms; LTC's ~20 us by a few). ``tests/timing/test_discipline.py`` checks the bounds.

**Outliers and jumps.** An observation more than a quarter period off is left out of the loop
(``outliers``); three consecutive ones that agree with each other mean the master jumped (re-jammed,
restarted, a cut in the LTC): the clock re-acquires (a step and a relabel; ``jumps``).

**States.** ``free`` (no master seen yet), ``acquiring`` (following, not yet within tolerance),
``locked`` (the filtered phase error within ``lock_tolerance_us`` for ``LOCK_AFTER_S``; it leaves
lock past four times the tolerance), ``holdover`` (no observation for ``holdover_ms``: the clock
keeps the last learned rate ``1 + y_I`` and counts on, labels continue). Alarms: nothing from the
master ``holdover_ms`` after the discipline started (``NO TIMECODE``), the master lost
(``TIMECODE LOST``), a master whose rate stays beyond ``MAX_RATE_PPM`` (another frame rate?), and a
fault its input reports (a sound device that would not open). An alarm clears when the clock is
locked again (a fault when the input says so).
"""

from __future__ import annotations

import math
import statistics
import threading
from collections import deque
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any, Literal, Protocol

from psygnal import Signal

from vpstage.timing.timecode import frames_per_day

LockState = Literal["free", "acquiring", "locked", "holdover"]
MasterKind = Literal["internal", "ltc", "tracker"]

ZETA = 1.0
"""Damping of the loop (critically damped: no overshoot to speak of)."""
MEDIAN_OF = 5
"""Observations in the median that feeds the loop (``prefilter="median"``: LTC)."""
MINIMUM_OF = 8
"""Observations whose earliest feeds the loop (``prefilter="minimum"``: arrival-timed masters)."""
AGREEING = 3
"""Consecutive agreeing observations needed to acquire (or to accept a jump)."""
LOCK_AFTER_S = 1.0
"""Seconds the filtered phase error must stay within tolerance before LOCKED."""
UNLOCK_FACTOR = 4.0
"""LOCKED is left when the filtered phase error exceeds this many tolerances."""
MAX_SLEW_PPM = 1000.0
"""The steering limit: at most 1 ms of phase per second (0.1 % period change)."""
MAX_RATE_PPM = 500.0
"""The learned rate is held within this; a master beyond it raises an alarm (another frame rate?)."""
RATE_ALARM_S = 2.0
"""The learned rate must sit at its limit this long before TIMECODE RATE (a jittery master's
passing excursions do not raise it)."""
MAX_DT_S = 0.5
QUEUE = 256


class StatusClock(Protocol):
    """What the discipline steers (``vpstage.timing.FrameClock``)."""

    rate: Fraction
    drop_frame: bool

    @property
    def period_ns(self) -> float: ...
    @property
    def timecode_offset(self) -> int: ...
    def now_ns(self) -> int: ...
    def scheduled_ns(self, index: float) -> float: ...
    def position_of(self, t_ns: int) -> float: ...
    def steer(self, index: int, scale: float, step_ns: int = 0) -> None: ...
    def relabel(self, index: int, count: int) -> None: ...
    def set_drop_frame(self, drop_frame: bool) -> None: ...


@dataclass(frozen=True)
class DisciplineSettings:
    """The loop's settings (the project's ``timecode`` block gives them)."""

    loop_bandwidth_hz: float = 0.1
    """Natural frequency of the loop (Hz)."""
    lock_tolerance_us: float = 500.0
    holdover_ms: float = 500.0
    offset_ms: float = 0.0
    """The master's latency: its observations are taken this much earlier (an LTC input's
    converter delay, a tracker's send latency); positive puts the wall earlier."""

    def __post_init__(self) -> None:
        if not 0 < self.loop_bandwidth_hz <= 2:
            raise ValueError("loop_bandwidth_hz must be within (0, 2]")
        if self.lock_tolerance_us <= 0 or self.holdover_ms <= 0:
            raise ValueError("lock_tolerance_us and holdover_ms must be positive")
        if not math.isfinite(self.offset_ms):
            raise ValueError("offset_ms must be finite")


@dataclass(frozen=True, kw_only=True)
class LockStatus:
    """A snapshot of the discipline (any thread; the run report's ``timecode`` block)."""

    master: MasterKind
    source: str
    """What the master is (``LTC on 'Scarlett 2i2' channel 0``, ``tracker of camera A``)."""
    state: LockState
    locked: bool
    phase_error_us: float | None
    """Filtered phase error (master minus clock) of the newest observation."""
    frequency_ppm: float
    """The clock's period correction now: positive, longer periods than nominal (the master runs
    slow against this host's clock); negative, shorter."""
    master_rate_ppm: float
    """The master's period against this host's clock as the loop learned it (``y_I``), the rate
    held in holdover; ``frequency_ppm`` adds the phase correction of the moment."""
    master_timecode: str | None
    """The newest label the master sent (at the stage rate)."""
    last_seen_ms: float | None
    """Age of the newest observation."""
    alarm: str | None
    observations: int = 0
    outliers: int = 0
    jumps: int = 0
    holdovers: int = 0
    locked_phase_us: dict[str, float] | None = None
    """|phase error| percentiles (p50, p99, max) over the observations made while locked."""

    @property
    def display(self) -> str:
        """One short line for a status bar: ``TC LOCK LTC +12 us``, ``TC HOLD tracker``, ``TC INT``."""
        if self.master == "internal":
            return "TC INT"
        word = {"free": "FREE", "acquiring": "ACQ", "locked": "LOCK", "holdover": "HOLD"}[self.state]
        phase = "" if self.phase_error_us is None else f" {self.phase_error_us:+.0f} us"
        return f"TC {word} {self.master.upper() if self.master == 'ltc' else self.master}{phase}"

    @property
    def severity(self) -> Literal["ok", "warning", "error"]:
        """``ok``: locked, or no master; ``warning``: acquiring or in holdover; ``error``: an alarm
        other than holdover (no timecode, the input failed, a master at another rate)."""
        if self.master == "internal" or (self.locked and self.alarm is None):
            return "ok"
        if self.alarm is not None and not self.alarm.startswith("TIMECODE LOST"):
            return "error"
        return "warning"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["display"] = self.display
        out["severity"] = self.severity
        return out


def internal_status() -> LockStatus:
    """The status of a clock with no master (``timecode.master: internal``)."""
    return LockStatus(master="internal", source="the host's clock", state="free", locked=False, phase_error_us=None,
                      frequency_ppm=0.0, master_rate_ppm=0.0, master_timecode=None, last_seen_ms=None, alarm=None)


def clock_lock_status(clock: Any) -> LockStatus:
    """The lock of a ``FrameClock`` to its master now (``internal_status()`` when it has none):
    what a console shows from ``engine.loop.clock``. Any thread."""
    discipline = getattr(clock, "discipline", None)
    if not isinstance(discipline, ClockDiscipline):
        return internal_status()
    return discipline.status(clock.now_ns())


class DisciplineEvents:
    """Fire on the thread that calls ``apply`` (the frame loop's) or ``set_fault``."""

    state_changed = Signal(object)
    """LockStatus after the state changed."""
    alarm = Signal(str)
    """The alarm text when raised, '' when cleared."""


@dataclass(frozen=True)
class Observation:
    count: int
    at_ns: int
    label: str
    drop_frame: bool | None


class ClockDiscipline:
    """Steers a ``FrameClock`` to a master's timecode (see the module notes)."""

    def __init__(self, rate: Fraction, master: MasterKind, source: str, settings: DisciplineSettings | None = None,
                 prefilter: Literal["median", "minimum"] = "median") -> None:
        self.rate = Fraction(rate)
        self.prefilter = prefilter
        self.master, self.source = master, source
        self.settings = settings or DisciplineSettings()
        wn = 2 * math.pi * self.settings.loop_bandwidth_hz
        self.kp, self.ki = 2 * ZETA * wn, wn * wn
        self.events = DisciplineEvents()
        self._lock = threading.Lock()
        self._queue: deque[Observation] = deque(maxlen=QUEUE)
        self._day = 0
        self._state: LockState = "free"
        self._acquired = False
        self._candidates: list[Observation] = []
        self._errors: deque[float] = deque(maxlen=MEDIAN_OF if prefilter == "median" else MINIMUM_OF)
        self._theta: float | None = None
        self._y_i = 0.0
        self._y = 0.0
        self._last_at: int | None = None
        self._last_label: str | None = None
        self._lock_since: int | None = None
        self._started_ns: int | None = None
        self._now = 0
        """The clock's time at the last ``apply``."""
        self._alarm: str | None = None
        self._fault: str | None = None
        self._hint: str | None = None
        self._saturated = False
        self._saturated_since: int | None = None
        self._locked_phase: deque[float] = deque(maxlen=4096)
        self.observations = self.outliers = self.jumps = self.holdovers = 0

    # ------------------------------------------------------------------ any thread

    def observe(self, count: int, at_ns: int, label: str = "", drop_frame: bool | None = None) -> None:
        """The master's frame ``count`` (timecode frame count at the stage rate, counted the way
        ``drop_frame`` says when given) began at ``at_ns`` (this host's monotonic clock); ``label``
        is what to show. Any thread; bounded (the oldest is dropped)."""
        with self._lock:
            self._queue.append(Observation(int(count), int(at_ns), label, drop_frame))

    def set_hint(self, hint: str | None) -> None:
        """Why the master's input refuses what it gets (shown in the NO TIMECODE / TIMECODE LOST
        alarms), or None. Any thread."""
        self._hint = hint

    def set_fault(self, reason: str | None) -> None:
        """The master's input failed (``reason``) or works again (None). Raises / clears an alarm."""
        with self._lock:
            self._fault = reason
            alarm = (self._alarm or "") if self._update_alarm() else None
        self._emit(alarm, None)

    @property
    def acquired(self) -> bool:
        """True once the master's phase and labels are on the clock."""
        return self._acquired

    def status(self, now_ns: int | None = None) -> LockStatus:
        """The current state (``now_ns``, default the last apply, dates the last observation)."""
        with self._lock:
            return self._status(now_ns)

    # ------------------------------------------------------------------ frame loop thread

    def apply(self, clock: StatusClock, index: int) -> None:
        """Process what the master said since the last tick and steer ``clock`` from frame
        ``index`` on. Called by ``FrameClock.tick`` on the frame loop's thread."""
        now = clock.now_ns()
        with self._lock:
            before = self._state
            if self._started_ns is None:
                self._started_ns = now
                self._day = frames_per_day(clock.rate, clock.drop_frame)
            batch = list(self._queue)
            self._queue.clear()
            for obs in batch:
                self._process(clock, index, obs)
            if self._state in ("acquiring", "locked") and self._last_at is not None \
                    and now - self._last_at > self.settings.holdover_ms * 1e6:
                self._state = "holdover"
                self.holdovers += 1
                self._lock_since = None
                self._errors.clear()
                self._theta = None
            if self._state == "holdover":
                self._y = self._y_i
            scale = 1.0 + self._y if self._acquired else 1.0
            self._now = now
            alarm = (self._alarm or "") if self._update_alarm() else None
            status = self._status(now) if self._state != before else None
        clock.steer(index, scale)
        self._emit(alarm, status)

    # ------------------------------------------------------------------ internals

    def _emit(self, alarm: str | None, status: LockStatus | None) -> None:
        """Outside the lock: a new state, and the alarm text when it changed ('' cleared)."""
        if status is not None:
            self.events.state_changed.emit(status)
        if alarm is not None:
            self.events.alarm.emit(alarm)

    # the rest: lock held, frame loop thread

    def _wrap(self, frames: int) -> int:
        """A count difference folded into (-day/2, day/2]."""
        day = self._day
        frames %= day
        return frames - day if frames > day // 2 else frames

    def _agrees(self, a: Observation, b: Observation, period_ns: float) -> bool:
        frames = self._wrap(b.count - a.count)
        return frames > 0 and abs((b.at_ns - a.at_ns) - frames * period_ns) < period_ns / 4

    def _candidate(self, obs: Observation, period_ns: float) -> bool:
        """Add ``obs`` to the agreeing run; True when the run is long enough to (re)acquire on."""
        if self._candidates and not self._agrees(self._candidates[-1], obs, period_ns):
            self._candidates = []
        self._candidates.append(obs)
        return len(self._candidates) >= AGREEING

    def _process(self, clock: StatusClock, index: int, obs: Observation) -> None:
        self.observations += 1
        at = obs.at_ns - round(self.settings.offset_ms * 1e6)
        obs = Observation(obs.count, at, obs.label, obs.drop_frame)  # counts compare modulo a day (_wrap)
        self._last_label = obs.label or self._last_label
        period = clock.period_ns
        previous_at, self._last_at = self._last_at, at
        if not self._acquired:
            if self._candidate(obs, period):
                self._acquire(clock, index, obs)
            elif self._state == "free":
                self._state = "acquiring" if self._candidates else "free"
            return
        # where our schedule puts the master's frame: the index labelled obs.count nearest to index
        ours = (index + clock.timecode_offset) % self._day
        frame = index + self._wrap(obs.count - ours)
        theta_ns = at - clock.scheduled_ns(frame)
        if abs(theta_ns) > period / 4:
            self.outliers += 1
            if self._candidate(obs, period):
                self.jumps += 1
                self._acquire(clock, index, obs)
            return
        self._candidates = [obs]
        if self._state == "holdover":
            self._state = "acquiring"
        self._errors.append(theta_ns / 1e9)
        theta = statistics.median(self._errors) if self.prefilter == "median" else min(self._errors)
        self._theta = theta
        dt = 0.0 if previous_at is None else min(MAX_DT_S, max(0.0, (at - previous_at) / 1e9))
        limit = MAX_RATE_PPM * 1e-6
        y_i = self._y_i + self.ki * theta * dt
        if abs(y_i) <= limit:
            self._saturated_since = None
        elif self._saturated_since is None:
            self._saturated_since = at
        self._saturated = self._saturated_since is not None and at - self._saturated_since >= RATE_ALARM_S * 1e9
        self._y_i = max(-limit, min(limit, y_i))
        slew = MAX_SLEW_PPM * 1e-6
        self._y = max(-slew, min(slew, self._y_i + self.kp * theta))
        tolerance = self.settings.lock_tolerance_us * 1e3
        if self._state == "locked":
            self._locked_phase.append(abs(theta) * 1e6)
            if abs(theta) * 1e9 > UNLOCK_FACTOR * tolerance:
                self._state, self._lock_since = "acquiring", None
        elif abs(theta) * 1e9 <= tolerance:
            if self._lock_since is None:
                self._lock_since = at
            elif at - self._lock_since >= LOCK_AFTER_S * 1e9:
                self._state = "locked"
        else:
            self._lock_since = None

    def _acquire(self, clock: StatusClock, index: int, obs: Observation) -> None:
        """Step the phase onto the master's grid and take its labels, drop-frame or not as the
        master counts (lock held, loop thread)."""
        if obs.drop_frame is not None and obs.drop_frame != clock.drop_frame:
            clock.set_drop_frame(obs.drop_frame)
            self._day = frames_per_day(clock.rate, clock.drop_frame)
        nearest = round(clock.position_of(obs.at_ns))
        step = obs.at_ns - clock.scheduled_ns(nearest)
        clock.steer(index, 1.0 + self._y_i, round(step))
        clock.relabel(nearest, obs.count)
        self._acquired = True
        self._candidates = [obs]
        self._errors.clear()
        self._theta = 0.0
        self._y = self._y_i
        self._lock_since = None
        self._state = "acquiring"

    def _update_alarm(self) -> bool:
        alarm = self._alarm
        if self._fault is not None:
            alarm = f"TIMECODE INPUT FAILED: {self._fault}"
        elif self._state == "holdover":
            alarm = (f"TIMECODE LOST: nothing from {self.source} for {self.settings.holdover_ms:.0f} ms; "
                     f"holding {self._y_i * 1e6:+.1f} ppm" + (f" ({self._hint})" if self._hint else ""))
        elif self._saturated:
            alarm = (f"TIMECODE RATE: {self.source} runs more than {MAX_RATE_PPM:.0f} ppm off "
                     f"{self.rate} frames a second (another frame rate?)")
        elif self._state == "free" and self._started_ns is not None and \
                self._now - self._started_ns > self.settings.holdover_ms * 1e6:
            alarm = f"NO TIMECODE: nothing from {self.source}" + (f" ({self._hint})" if self._hint else "")
        elif self._state == "locked" or (alarm is not None and alarm.startswith("TIMECODE INPUT")):
            alarm = None
        changed = alarm != self._alarm
        self._alarm = alarm
        return changed

    def _status(self, now_ns: int | None) -> LockStatus:
        now = self._now if now_ns is None else now_ns
        state = self._state
        newest = self._queue[-1].at_ns if self._queue else self._last_at  # the loop may not be ticking
        if state in ("acquiring", "locked") and newest is not None \
                and now - newest > self.settings.holdover_ms * 1e6:
            state = "holdover"  # the loop has not ticked since: say what it will find
        locked = None
        if self._locked_phase:
            values = sorted(self._locked_phase)
            locked = {"p50": round(values[len(values) // 2], 3),
                      "p99": round(values[min(len(values) - 1, int(len(values) * 0.99))], 3),
                      "max": round(values[-1], 3)}
        return LockStatus(master=self.master, source=self.source, state=state, locked=state == "locked",
                          phase_error_us=None if self._theta is None else round(self._theta * 1e6, 3),
                          frequency_ppm=round(self._y * 1e6, 4), master_rate_ppm=round(self._y_i * 1e6, 4),
                          master_timecode=self._last_label,
                          last_seen_ms=None if newest is None else round((now - newest) / 1e6, 3), alarm=self._alarm,
                          observations=self.observations, outliers=self.outliers, jumps=self.jumps,
                          holdovers=self.holdovers, locked_phase_us=locked)

