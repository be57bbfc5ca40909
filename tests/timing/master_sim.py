"""A simulated timecode master on a fake clock: frames at ``t0 + k * period * (1 + ppm)`` with
jitter and a delivery latency, fed to a disciplined FrameClock ticking on a ManualTimeSource.
Nothing waits in real time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from vpstage.timing import ClockDiscipline, DisciplineSettings, FrameClock, ManualTimeSource, Timecode, frames_per_day

T0 = 10**12


@dataclass(kw_only=True)
class Row:
    t_s: float
    """Seconds since the simulation began (host clock)."""
    error_ns: float
    """Our frame instant minus the master's instant of the frame with the same label."""
    state: str
    label: str
    rate_ppm: float
    alarm: str | None


@dataclass(kw_only=True)
class MasterSim:
    rate: Fraction
    ppm: float = 0.0
    jitter_us: float = 20.0
    latency_frames: float = 1.5
    start_label: str = "10:00:00:00"
    drop_frame: bool = False
    dropouts: tuple[tuple[float, float], ...] = ()
    jump: tuple[float, int] | None = None
    """(at seconds, frames): the master's labels jump by that many frames then."""
    per_label: int = 1
    """Stage frames per master frame (2: LTC frame pairs)."""
    settings: DisciplineSettings = field(default_factory=DisciplineSettings)
    seed: int = 0
    prefilter: Literal["median", "minimum"] = "median"
    jam_only: bool = False
    """Detach the discipline once it has acquired (a clock jam-synced once, then free running)."""
    deliver: Callable[[ClockDiscipline, int, int, str], None] | None = None
    """How an observation reaches the discipline (default: ``observe`` at the stage rate)."""

    def run(self, seconds: float) -> tuple[list[Row], ClockDiscipline, FrameClock, list[str]]:
        rng = np.random.default_rng(self.seed)
        time = ManualTimeSource(T0)
        clock = FrameClock(self.rate, time_source=time)
        discipline = ClockDiscipline(self.rate, "ltc", "the simulated master", self.settings, self.prefilter)
        clock.attach(discipline)
        alarms: list[str] = []
        discipline.events.alarm.connect(alarms.append)
        master_rate = self.rate / self.per_label
        period = 1e9 / float(master_rate) * (1 + self.ppm * 1e-6)
        origin = T0 + 12_345_678  # the master's frame 0, off our phase
        first = Timecode.parse(self.start_label, master_rate, self.drop_frame)
        rows: list[Row] = []
        k = 0
        index = 0
        clock.rebase(time.now_ns())

        def master_count(k: int, t_s: float) -> int:
            shift = self.jump[1] if self.jump is not None and t_s >= self.jump[0] else 0
            return first.to_count() + k + shift

        while True:
            tick = clock.tick(index)
            if self.jam_only and discipline.acquired:
                clock.attach(None)
            time.sleep_until(tick.time_ns)
            now = time.now_ns()
            while True:
                start = origin + k * period
                if start + self.latency_frames * period > now:
                    break
                t_s = (start - T0) / 1e9
                if not any(lo <= t_s < hi for lo, hi in self.dropouts):
                    count = master_count(k, t_s) * self.per_label
                    at = int(start + rng.normal(0.0, self.jitter_us * 1e3))
                    label = str(Timecode.from_count(count, self.rate, self.drop_frame))
                    if self.deliver is not None:
                        self.deliver(discipline, count, at, label)
                    else:
                        discipline.observe(count, at, label, self.drop_frame)
                k += 1
            t_s = (now - T0) / 1e9
            # the master's instant of the frame our tick labels (frame pairs: the pair's first + P)
            day = frames_per_day(self.rate, clock.drop_frame)
            ahead = (tick.count - master_count(0, t_s) * self.per_label) % day
            ahead = ahead - day if ahead > day // 2 else ahead  # across midnight
            kk, within = divmod(ahead, self.per_label)
            master_at = origin + kk * period + within * period / self.per_label
            status = discipline.status(now)
            rows.append(Row(t_s=t_s, error_ns=tick.time_ns - master_at, state=status.state, label=str(tick.timecode),
                            rate_ppm=status.master_rate_ppm, alarm=status.alarm))
            index = clock.next_index(index)
            if t_s > seconds:
                return rows, discipline, clock, alarms


def window(rows: list[Row], lo: float, hi: float) -> list[Row]:
    return [r for r in rows if lo <= r.t_s < hi]
