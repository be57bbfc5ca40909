"""Progress of long CLI jobs (``train``, ``preview``, ``takes render``) on stderr.

A job calls its :class:`ProgressReporter` with (units done, units in all, stats) as it goes; the
renderers and the trainer in ``render/`` take such a callback and never import tqdm. Where it shows:

* stderr is a terminal (and no ``-q``): a tqdm bar (count, rate, time left; the stats after it);
* otherwise (a pipe, a CI log, a file): INFO log lines on the ``cli.progress`` logger after the
  first unit, at most every ``every_s`` seconds (5 s), and after the last, such as
  ``preview: frame 12/240 (5 %), 1.9 s a frame, about 7 min 20 s left`` (the first line has no
  rate: its unit also paid for loading and compiling). They show with ``-v``;
  by default a piped command prints only its results and its warnings.

The reporter is called on the job's thread; it is not thread-safe. A job on a thread of its own
(the live frame loop of ``run`` and ``patterns --frames N``) is polled from the command's thread:
:class:`EventCounter` counts its frames, :func:`wait_reporting` reports them.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TextIO

log = logging.getLogger("cli.progress")
LOG_EVERY_S = 5.0
POLL_S = 0.2

Stats = Mapping[str, str]
"""Name -> value as shown (``{"loss": "0.01234", "PSNR": "18.20 dB"}``)."""


def duration_text(seconds: float) -> str:
    """``45 s``, ``7 min 20 s``, ``1 h 02 min``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def rate_text(per_unit_s: float, unit: str) -> str:
    """``1.9 s a frame``, ``0.05 s a step``, ``25,000 frames/s``."""
    if per_unit_s >= 1:
        return f"{per_unit_s:.1f} s a {unit}"
    if per_unit_s >= 0.01:
        return f"{per_unit_s:.2f} s a {unit}"
    return f"{1 / max(per_unit_s, 1e-9):,.0f} {unit}s/s"


def progress_line(label: str, unit: str, done: int, total: int, per_unit_s: float | None, stats: Stats,
                  left_s: float | None = None) -> str:
    """``train: step 100/2000 (5 %), loss 0.01234, 0.05 s a step, about 1 min 35 s left``; no rate
    and no time left without ``per_unit_s`` (the first report: its time includes the loading), unless
    the job gives its own estimate of the time left (``left_s``)."""
    parts = [f"{label}: {unit} {done}/{total} ({100 * done // max(1, total)} %)"]
    parts += [f"{name} {value}" for name, value in stats.items()]
    if per_unit_s is not None:
        parts.append(rate_text(per_unit_s, unit))
    if left_s is None and per_unit_s is not None:
        left_s = per_unit_s * (total - done)
    if left_s is not None and done < total:
        parts.append(f"about {duration_text(left_s)} left")
    return ", ".join(parts)


class ProgressReporter:
    """``reporter(done, total, stats)`` after each unit of work; ``close()`` (or ``with``) at the end.

    ``bar``: a tqdm bar on ``stream`` (default stderr) instead of log lines. ``clock`` (seconds,
    monotonic) is injectable for tests."""

    def __init__(self, label: str, unit: str, *, bar: bool, stream: TextIO | None = None,
                 every_s: float = LOG_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.unit, self.every_s, self.clock = label, unit, every_s, clock
        self._stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._want_bar = bar
        self.started = clock()
        self._first: tuple[int, float] | None = None
        self._last_line = -float("inf")

    def __call__(self, done: int, total: int, stats: Stats | None = None, left_s: float | None = None) -> None:
        """``left_s``: the job's own estimate of the time left (say, one that knows of a time limit)."""
        now = self.clock()
        if self._first is None:
            self._first = (done, now)
        if self._want_bar:
            shown = dict(stats or {})
            if left_s is not None and done < total:
                shown["left"] = duration_text(left_s)
            self._update_bar(done, total, shown)
        elif done in (self._first[0], total) or now - self._last_line >= self.every_s:
            self._last_line = now
            log.info("%s", progress_line(self.label, self.unit, done, total, self.per_unit_s(done, total, now),
                                         stats or {}, left_s))

    def per_unit_s(self, done: int, total: int, now: float) -> float | None:
        """Seconds a unit since the first report (whose time also paid for loading and compiling):
        None at the first report, unless it is also the last (then: since the reporter was made)."""
        first_done, first_at = self._first if self._first is not None else (0, self.started)
        if done > first_done:
            return (now - first_at) / (done - first_done)
        return (now - self.started) / max(1, done) if done >= total else None

    def _update_bar(self, done: int, total: int, stats: Stats) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit=self.unit, file=self._stream, dynamic_ncols=True)
        if self._bar.total != total:
            self._bar.total = total
        if stats:
            self._bar.set_postfix(stats, refresh=False)
        self._bar.update(done - self._bar.n)

    def write(self, line: str) -> None:
        """A line on stdout that does not tear the bar."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def wants_bar(args: argparse.Namespace, stream: TextIO | None = None) -> bool:
    """A bar when ``stream`` (stderr) is a terminal and ``-q`` was not given."""
    target = stream if stream is not None else sys.stderr
    return not getattr(args, "quiet", False) and target.isatty()


def progress_for(args: argparse.Namespace, label: str, unit: str) -> ProgressReporter:
    """The reporter a command's job gets: a bar on a terminal, log lines elsewhere."""
    return ProgressReporter(label, unit, bar=wants_bar(args))


def announce(args: argparse.Namespace, line: str) -> None:
    """What a job is about to do (loading, then N frames): on stderr where a bar will follow (a
    terminal: nothing else shows until the first unit is done), else an INFO line."""
    if wants_bar(args):
        print(line, file=sys.stderr, flush=True)
    else:
        log.info("%s", line)


class EventCounter:
    """A slot that counts a signal's emissions (one emitting thread; read from another)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


def wait_reporting(wait: Callable[[float], bool], counter: EventCounter, total: int | None,
                   progress: Callable[[int, int], None]) -> None:
    """Call ``wait(POLL_S)`` until it returns True (the job ended), telling ``progress`` how many of
    ``total`` the counter has counted whenever that changed (nothing without a total)."""
    reported = 0
    while True:
        ended = wait(POLL_S)
        done = min(counter.count, total or 0)
        if done > reported:
            progress(done, total or 0)
            reported = done
        if ended:
            return
