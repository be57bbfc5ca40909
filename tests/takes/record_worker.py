"""Subprocess for the crash test: records synthetic frames at 60 Hz until it is killed.

Usage: ``python tests/takes/record_worker.py DB SLATE`` (with the repository root on PYTHONPATH).
After each ``record()`` returns it writes ``<index> <monotonic_ns>`` to stdout (a pipe), so the
parent knows which frames were handed over and when (CLOCK_MONOTONIC is system-wide on Linux).
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

from tests.takes.synthetic import make_frame
from vpstage.takes import TakeRecorder


def main(db: str, slate: str) -> None:
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
    main(sys.argv[1], sys.argv[2])
