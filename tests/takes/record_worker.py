"""Subprocess for the crash tests: records synthetic frames at 60 Hz until it is killed.

Usage: ``python tests/takes/record_worker.py DB SLATE [--busy-threads N] [--slow-fsync-ms MS]`` (with
the repository root on PYTHONPATH). After each ``record()`` returns it writes ``<index> <monotonic_ns>`` to stdout
(a pipe), so the parent knows which frames were handed over and when (CLOCK_MONOTONIC is
system-wide on Linux). ``--busy-threads N`` first starts N threads that keep the CPU (and the
GIL) busy with pure-Python work for as long as the process lives, as a frame loop's own work
would; the first line (``take ID``) is written once they run. ``--slow-fsync-ms MS`` makes every
``os.fsync`` of this process take that much longer, as a disk busy with other writers does.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from fractions import Fraction

from tests.takes.synthetic import make_frame
from vpstage.takes import TakeRecorder


def _busy(started: threading.Event) -> None:
    started.set()
    total = 0
    while True:  # pure Python: holds the GIL except when the interpreter hands it over
        for i in range(10_000):
            total += i * i % 7


def start_busy_threads(count: int) -> None:
    for n in range(count):
        started = threading.Event()
        threading.Thread(target=_busy, args=(started,), name=f"busy-{n}", daemon=True).start()
        if not started.wait(10.0):
            raise SystemExit("busy thread did not start")


def slow_down_fsync(ms: float) -> None:
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(ms / 1000)
        real_fsync(fd)

    os.fsync = slow_fsync


def main(db: str, slate: str, busy_threads: int, slow_fsync_ms: float) -> None:
    if slow_fsync_ms:
        slow_down_fsync(slow_fsync_ms)
    start_busy_threads(busy_threads)
    recorder = TakeRecorder(db)
    take = recorder.start_take(slate, rate=Fraction(60), scene="crash", notes="killed mid-take")
    sys.stdout.write(f"take {take.id}\n")
    sys.stdout.flush()
    start = time.perf_counter()
    i = 0
    while True:
        delay = start + i / 60 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if not recorder.record(make_frame(i)):
            raise SystemExit(f"frame {i} refused")
        sys.stdout.write(f"{i} {time.monotonic_ns()}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("slate")
    parser.add_argument("--busy-threads", type=int, default=0)
    parser.add_argument("--slow-fsync-ms", type=float, default=0.0)
    args = parser.parse_args()
    main(args.db, args.slate, args.busy_threads, args.slow_fsync_ms)
