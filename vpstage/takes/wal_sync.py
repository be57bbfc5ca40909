"""The WAL fsync thread: makes committed frames power-loss safe without holding up the next commit.

The journal thread commits (frames become safe from a process crash) and tells this thread; this
thread ``fsync``s the WAL file within ``interval_s`` of the first unsynced commit (0: at once).
An fsync can take tens of milliseconds on a busy disk; on its own thread it never delays a commit,
so the commit cadence keeps its own clock whatever the disk does. :meth:`WalSyncer.sync_now` syncs
on the caller's thread (barriers, checkpoints, close).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vpstage.config.atomic import fsync_dir

_IDLE_WAIT_S = 0.25


class WalSyncer:
    """fsyncs ``<db>-wal`` after commits. ``report(fsync_ms, handover_to_fsync_ms, error)`` is called
    after each fsync (from whichever thread ran it)."""

    def __init__(self, db_path: Path, interval_s: float | None,
                 report: Callable[[float, float, str | None], None]) -> None:
        self._db_path = db_path
        self._interval_ns = None if interval_s is None else int(interval_s * 1e9)
        self._report = report
        self._cond = threading.Condition()
        self._sync_lock = threading.Lock()
        self._committed = 0
        self._unsynced: collections.deque[tuple[int, int, int]] = collections.deque()
        """(commit number, commit time, oldest frame's handover time) of commits not yet synced."""
        self._wal_fd: int | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="takes-wal-fsync", daemon=True)
        self._thread.start()

    def committed(self, commit_ns: int, oldest_handed_ns: int) -> None:
        """A commit is in the WAL (journal thread)."""
        with self._cond:
            self._committed += 1
            self._unsynced.append((self._committed, commit_ns, oldest_handed_ns))
            self._cond.notify()

    def sync_now(self) -> None:
        """fsync everything committed so far, on this thread."""
        with self._cond:
            target = self._committed
        self._sync(target)

    def close(self, timeout_s: float) -> None:
        """Sync what is left, stop the thread, close the WAL file."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout_s)
        self.sync_now()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None

    # ------------------------------------------------------------------ fsync thread

    def _run(self) -> None:
        while True:
            with self._cond:
                wait = self._wait_s()
                while wait and not self._stopping:
                    self._cond.wait(wait if wait > 0 else None)
                    wait = self._wait_s()
                if self._stopping:
                    return
                target = self._committed
            self._sync(target)

    def _wait_s(self) -> float:
        """0 when an fsync is due now; else how long to wait (-1: until told)."""
        if not self._unsynced or self._interval_ns is None:
            return -1.0
        due = self._unsynced[0][1] + self._interval_ns - time.monotonic_ns()
        return 0.0 if due <= 0 else min(due / 1e9, _IDLE_WAIT_S)

    def _sync(self, target: int) -> None:
        with self._sync_lock:
            with self._cond:
                if not self._unsynced or self._unsynced[0][0] > target:
                    return
                oldest_handed_ns = self._unsynced[0][2]
            start = time.perf_counter_ns()
            error = self._fsync_wal()
            synced_ns = time.monotonic_ns()
            with self._cond:
                while self._unsynced and self._unsynced[0][0] <= target:
                    self._unsynced.popleft()
            self._report((time.perf_counter_ns() - start) / 1e6, (synced_ns - oldest_handed_ns) / 1e6, error)

    def _fsync_wal(self) -> str | None:
        """fsync the WAL file (opened the first time it exists, with its directory entry synced)."""
        if self._wal_fd is None:
            wal = self._db_path.with_name(self._db_path.name + "-wal")
            with contextlib.suppress(FileNotFoundError):
                self._wal_fd = os.open(wal, os.O_RDONLY)
                fsync_dir(self._db_path.parent)
        try:
            if self._wal_fd is not None:
                os.fsync(self._wal_fd)
        except OSError as exc:  # the kernel may have dropped the pages: say so, never hide it
            return f"fsync of the WAL failed: {exc}"
        return None
