"""The journal writer: a thread that batches frame records into the takes database.

Durability policy (:class:`DurabilityPolicy`, defaults in brackets):

* **commit** — frames handed over by the frame loop are inserted in batches; a batch is committed
  as soon as its oldest frame has waited ``commit_interval_s`` [30 ms] (or it holds
  ``max_batch_frames``). A committed transaction is in the WAL file, i.e. in the OS page cache:
  it survives the *process* dying (SIGKILL, crash) from that moment on.
* **fsync** — with ``synchronous=NORMAL`` SQLite does not fsync the WAL on commit, so a thread of
  its own (:mod:`vpstage.takes.wal_sync`) does, within ``fsync_interval_s`` [0: right after] of a
  commit, on the WAL file (the inode SQLite writes). From then on the frames survive an OS crash or
  power loss too (given a drive that honours flushes). A longer interval lets several commits
  share one fsync at high frame rates; ``None`` leaves it to checkpoints.
* **checkpoint** — automatic checkpoints are off on the writer's connection; the writer runs a
  ``PASSIVE`` checkpoint when the WAL passes ``checkpoint_wal_bytes`` [8 MiB] and at every flush
  (end of take), so checkpoint time is spent on this thread, never on the frame loop's.

**The commit cadence keeps its own clock.** The journal thread sleeps exactly until the oldest
pending frame is due and commits it then, whatever else the process does: an fsync never holds up a
commit (it runs on its own thread), and a commit is one SQLite call (one multi-row ``INSERT``, its
own transaction), so it needs the GIL only twice (to wake up, and after the call) even when other
threads keep the CPU busy: each time the GIL changes hands under load costs up to one switch
interval (5 ms). The WAL size is looked at once a second, not after every commit.

So with the defaults a frame is safe from a process crash about 30 ms after
:meth:`JournalWriter.offer` (plus one commit, well under a millisecond), and from power loss one
fsync later, while the writer keeps up (``bench/takes_recorder.py`` measures both;
``tests/takes/test_recovery.py`` SIGKILLs a recording process while a thread hogs the CPU).
If it falls behind (slow disk, a long lock by another writer) frames wait in a bounded queue;
when that is full :meth:`offer` refuses the frame at once (returns False) and the caller counts it.
A failed commit is retried every 50 ms with the batch kept; the error is in the stats.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from vpstage.takes.codec import pack_frame_payload, pack_scene_payload
from vpstage.takes.database import connect
from vpstage.takes.frame_records import FrameRecord
from vpstage.takes.wal_sync import WalSyncer

_INSERT_FRAMES = ("INSERT OR REPLACE INTO frames (take_id, frame, timecode, timecode_frames, rate_num, rate_den, "
                  "monotonic_ns, scene_state_id, payload) VALUES ")
_COLUMNS = 9
_ROW = "(" + ", ".join(["?"] * _COLUMNS) + ")"
_RETRY_NS = 50_000_000
_IDLE_WAIT_S = 0.25
_WAL_CHECK_NS = 1_000_000_000


def _insert_sql(rows: int) -> str:
    """One statement for a whole batch: in autocommit mode it is its own transaction."""
    return _INSERT_FRAMES + ", ".join([_ROW] * rows)


@dataclass(frozen=True)
class DurabilityPolicy:
    """How soon handed-over frames become durable (see the module docstring)."""

    commit_interval_s: float = 0.030
    fsync_interval_s: float | None = 0.0
    max_batch_frames: int = 256
    checkpoint_wal_bytes: int = 8 << 20

    def __post_init__(self) -> None:
        if not 0 < self.commit_interval_s <= 0.1:
            raise ValueError("commit_interval_s must be in (0, 0.1] seconds")
        if self.fsync_interval_s is not None and self.fsync_interval_s < 0:
            raise ValueError("fsync_interval_s must be >= 0 or None")
        if self.max_batch_frames < 1 or self.checkpoint_wal_bytes < 1:
            raise ValueError("max_batch_frames and checkpoint_wal_bytes must be positive")


@dataclass(kw_only=True)
class JournalStats:
    """Written by the journal and fsync threads only; read a :meth:`JournalWriter.snapshot`. Times in ms."""

    frames_written: int = 0
    frames_unencodable: int = 0
    """Records whose values could not be encoded (e.g. a numpy integer inside a camera record)."""
    commits: int = 0
    fsyncs: int = 0
    checkpoints: int = 0
    write_errors: int = 0
    last_error: str | None = None
    max_commit_ms: float = 0.0
    max_fsync_ms: float = 0.0
    max_checkpoint_ms: float = 0.0
    max_handover_to_commit_ms: float = 0.0
    """Longest time from :meth:`JournalWriter.offer` to the COMMIT that made the frame crash-safe."""
    max_handover_to_fsync_ms: float = 0.0
    """Longest time from :meth:`JournalWriter.offer` to the fsync that made the frame power-loss safe."""
    recent_commit_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=4096))
    recent_handover_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=4096))


@dataclass
class _Pending:
    take_id: int
    handed_ns: int
    scene: bytes | None
    row: tuple[object, ...]
    """Frame columns without take_id and scene_state_id."""


@dataclass
class _Barrier:
    checkpoint: bool
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


_STOP = object()


class JournalWriter:
    """Owns one SQLite connection and one thread; :meth:`offer` may be called from any thread."""

    def __init__(self, db_path: Path, policy: DurabilityPolicy, queue_frames: int) -> None:
        self.policy = policy
        self._db_path = db_path
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_frames)
        self._stats = JournalStats()
        self._conn = connect(db_path)
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._pending: list[_Pending] = []
        self._barriers: list[_Barrier] = []
        self._scene_ids: dict[tuple[int, bytes], int] = {}
        self._rows_per_statement = max(1, self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _COLUMNS)
        self._syncer = WalSyncer(db_path, policy.fsync_interval_s, self._record_fsync)
        self._retry_at_ns = 0
        self._next_wal_check_ns = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="takes-journal", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ any thread

    def offer(self, take_id: int, frame: FrameRecord) -> bool:
        """Queue a frame without blocking; False when the queue is full (the frame is not journaled)."""
        try:
            self._queue.put_nowait((take_id, time.monotonic_ns(), frame))
        except queue.Full:
            return False
        return True

    def flush(self, timeout_s: float, *, checkpoint: bool = False) -> bool:
        """Block until everything offered so far is committed and fsynced; False on timeout."""
        barrier = _Barrier(checkpoint)
        deadline = time.monotonic() + timeout_s
        try:
            self._queue.put(barrier, timeout=timeout_s)
        except queue.Full:
            return False
        return barrier.done.wait(max(0.0, deadline - time.monotonic())) and barrier.ok

    def snapshot(self) -> JournalStats:
        s = self._stats  # deque.copy() runs in C under the GIL: safe against the journal's appends
        return replace(s, recent_commit_ms=s.recent_commit_ms.copy(), recent_handover_ms=s.recent_handover_ms.copy())

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def close(self, timeout_s: float = 10.0) -> bool:
        """Write what is queued, stop the thread, close the connection; False if it did not finish."""
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout_s)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # ------------------------------------------------------------------ journal thread

    @property
    def alive(self) -> bool:
        """False once the journal thread has stopped (closed, or died: see ``last_error``)."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not (self._stopping and not self._pending):
                self._accept(self._next_item())
                self._drain()
                now = time.monotonic_ns()
                if self._pending and self._batch_due(now):
                    self._commit()
                if self._barriers and not self._pending:
                    self._release_barriers()
        except Exception as exc:  # a bug, not an I/O error: make it visible instead of dying silently
            self._stats.last_error = f"journal thread stopped: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._release_barriers()
            self._syncer.close(timeout_s=10.0)
            self._conn.close()

    def _next_item(self) -> object:
        """The next queued item, waiting no longer than the oldest pending frame's commit deadline."""
        now = time.monotonic_ns()
        deadline = now + int(_IDLE_WAIT_S * 1e9)
        if self._pending:
            deadline = max(self._pending[0].handed_ns + int(self.policy.commit_interval_s * 1e9), self._retry_at_ns)
        try:
            return self._queue.get(timeout=max(0.0, (deadline - now) / 1e9))
        except queue.Empty:
            return None

    def _drain(self) -> None:
        """Take what is queued, but once the oldest pending frame is due, take only frames that are
        due too (a backlog): the due ones are committed together before any more records are
        packed, so the commit keeps its deadline however much is queued behind it."""
        interval_ns = int(self.policy.commit_interval_s * 1e9)
        while len(self._pending) < self.policy.max_batch_frames:
            now = time.monotonic_ns()
            if self._pending and now >= self._pending[0].handed_ns + interval_ns \
                    and now < self._pending[-1].handed_ns + interval_ns:
                return
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            self._accept(item)

    def _accept(self, item: object) -> None:
        if item is None:
            return
        if item is _STOP:
            self._stopping = True
        elif isinstance(item, _Barrier):
            self._barriers.append(item)
        else:
            take_id, handed_ns, frame = cast(tuple[int, int, FrameRecord], item)
            try:
                self._pending.append(_pack(take_id, handed_ns, frame))
            except (TypeError, ValueError, OverflowError, AttributeError) as exc:
                self._stats.frames_unencodable += 1
                self._stats.last_error = f"frame {getattr(frame, 'frame', '?')} not recorded: {exc}"

    def _batch_due(self, now: int) -> bool:
        if now < self._retry_at_ns:
            return False
        oldest_due = self._pending[0].handed_ns + int(self.policy.commit_interval_s * 1e9)
        return (self._stopping or bool(self._barriers) or now >= oldest_due
                or len(self._pending) >= self.policy.max_batch_frames)

    def _commit(self) -> None:
        start = time.perf_counter_ns()
        try:
            scene_ids = self._scene_ids_for(self._pending)
            rows = [(p.take_id, *p.row[:6], scene_ids[i], p.row[6]) for i, p in enumerate(self._pending)]
            self._insert(rows)
        except sqlite3.Error as exc:
            self._stats.write_errors += 1
            self._stats.last_error = f"{type(exc).__name__}: {exc}"
            self._retry_at_ns = time.monotonic_ns() + _RETRY_NS
            return
        done = time.monotonic_ns()
        oldest = self._pending[0].handed_ns
        self._syncer.committed(done, oldest)
        self._record_commit((time.perf_counter_ns() - start) / 1e6, (done - oldest) / 1e6)
        self._stats.frames_written += len(self._pending)
        self._pending.clear()
        if done >= self._next_wal_check_ns:
            self._next_wal_check_ns = done + _WAL_CHECK_NS
            self._maybe_checkpoint(force=False)

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        """One ``INSERT`` statement (its own transaction) when the rows fit SQLite's variable limit (a
        batch at frame rate always does); else several in one explicit transaction."""
        step = self._rows_per_statement
        if len(rows) <= step:
            self._conn.execute(_insert_sql(len(rows)), [value for row in rows for value in row])
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for first in range(0, len(rows), step):
                chunk = rows[first:first + step]
                self._conn.execute(_insert_sql(len(chunk)), [value for row in chunk for value in row])
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _scene_ids_for(self, batch: list[_Pending]) -> list[int | None]:
        """Scene state id of each frame; new states are inserted first (each its own transaction: a
        stored state no frame refers to yet is harmless, and is reused when the batch is retried)."""
        ids: list[int | None] = []
        for pending in batch:
            if pending.scene is None:
                ids.append(None)
                continue
            key = (pending.take_id, pending.scene)
            known = self._scene_ids.get(key)
            if known is None:
                cursor = self._conn.execute("INSERT INTO scene_states (take_id, payload) VALUES (?, ?)", key)
                known = self._scene_ids[key] = int(cursor.lastrowid or 0)
            ids.append(known)
        return ids

    def _record_commit(self, commit_ms: float, handover_ms: float) -> None:
        s = self._stats
        s.commits += 1
        s.max_commit_ms = max(s.max_commit_ms, commit_ms)
        s.max_handover_to_commit_ms = max(s.max_handover_to_commit_ms, handover_ms)
        s.recent_commit_ms.append(commit_ms)
        s.recent_handover_ms.append(handover_ms)

    def _record_fsync(self, fsync_ms: float, handover_ms: float, error: str | None) -> None:
        s = self._stats
        s.fsyncs += 1
        s.max_fsync_ms = max(s.max_fsync_ms, fsync_ms)
        s.max_handover_to_fsync_ms = max(s.max_handover_to_fsync_ms, handover_ms)
        if error is not None:
            s.write_errors += 1
            s.last_error = error

    def _maybe_checkpoint(self, *, force: bool) -> None:
        wal = self._db_path.with_name(self._db_path.name + "-wal")
        try:
            big = wal.stat().st_size >= self.policy.checkpoint_wal_bytes
        except FileNotFoundError:
            return
        if not (force or big):
            return
        self._syncer.sync_now()  # the WAL is synced before its pages are copied into the database file
        start = time.perf_counter_ns()
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            self._stats.last_error = f"checkpoint: {exc}"
            return
        self._stats.checkpoints += 1
        self._stats.max_checkpoint_ms = max(self._stats.max_checkpoint_ms, (time.perf_counter_ns() - start) / 1e6)

    def _release_barriers(self) -> None:
        if not self._barriers:
            return
        self._syncer.sync_now()
        if any(b.checkpoint for b in self._barriers):
            self._maybe_checkpoint(force=True)
            self._scene_ids.clear()  # end of a take: its scene states are not needed again
        for barrier in self._barriers:
            barrier.ok = not self._pending
            barrier.done.set()
        self._barriers.clear()


def _pack(take_id: int, handed_ns: int, frame: FrameRecord) -> _Pending:
    scene = pack_scene_payload(frame.scene) if frame.scene else None
    row = (int(frame.frame), str(frame.timecode), int(frame.timecode_frames), int(frame.rate.numerator),
           int(frame.rate.denominator), int(frame.monotonic_ns), pack_frame_payload(frame.cameras, frame.nodes,
                                                                                 frame.colour_regions))
    return _Pending(take_id, handed_ns, scene, row)

