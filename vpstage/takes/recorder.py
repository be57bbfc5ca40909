"""The take recorder: start a take, hand it one record per frame, stop it.

Threads: :meth:`TakeRecorder.record` is called by the frame loop on its own thread and never
blocks on I/O (it queues the record and returns). :meth:`start_take` / :meth:`stop_take` are
called from the control side (console, CLI) and do a little I/O; :meth:`stop_take` waits until
every accepted frame is durable. The journal thread does the writing (see ``journal.py`` for the
commit / fsync / checkpoint policy and what happens when it falls behind).

One recorder per database: it holds the database's recorder lock, and on opening it recovers any
take left ``recording`` by a recorder that died (marked ``recovered``).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

from vpstage.stage.model import Project
from vpstage.stage.project_io import dump_project_yaml
from vpstage.takes.database import (
    RecorderLock,
    TakeDatabaseError,
    finalize_take,
    find_take,
    next_take_number,
    open_database,
    recover_interrupted,
    transaction,
    utc_now,
)
from vpstage.takes.frame_records import FrameRecord, TakeInfo, check_slate, take_name
from vpstage.takes.journal import DurabilityPolicy, JournalStats, JournalWriter

DEFAULT_QUEUE_FRAMES = 4096
"""About 68 s of frames at 60 Hz held in memory while the disk is slow, before frames are lost."""


class RecorderError(Exception):
    """A take operation that cannot be done (busy database, no take recording, duplicate name...)."""


def stage_config(project: Project) -> tuple[str, str]:
    """``(sha256 hex, canonical YAML)`` of a project: the take's record of the stage configuration."""
    text = dump_project_yaml(project)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


@dataclass(frozen=True, kw_only=True)
class RecorderStats:
    """Counters since the recorder opened (a snapshot)."""

    frames_accepted: int
    frames_dropped_queue_full: int
    """Refused because the journal queue was full (the writer fell behind): these frames are lost."""
    frames_rejected_out_of_order: int
    """Refused because the frame number did not increase."""
    frames_outside_take: int
    """Handed over while no take was recording (not an error; ignored)."""
    queue_depth: int
    journal: JournalStats
    journal_alive: bool


class TakeRecorder:
    """Records takes into the database at ``db_path`` (created if missing).

    Raises RecorderError when another live recorder holds the database.
    """

    def __init__(self, db_path: str | os.PathLike[str], *, policy: DurabilityPolicy | None = None,
                 queue_frames: int = DEFAULT_QUEUE_FRAMES, lock_timeout_s: float = 2.0) -> None:
        self.path = Path(db_path)
        self._conn = open_database(self.path, create=True)
        self._lock = RecorderLock(self.path)
        if not self._lock.acquire(lock_timeout_s):
            self._conn.close()
            raise RecorderError(f"{self.path}: another recorder is recording into this database")
        self._conn_lock = threading.Lock()
        try:
            self.recovered: list[TakeInfo] = self._recover()
            """Takes found interrupted (a recorder died) and marked ``recovered`` on opening."""
            self._journal = JournalWriter(self.path, policy or DurabilityPolicy(), queue_frames)
        except BaseException:
            self._conn.close()
            self._lock.release()
            raise
        self._state = threading.Lock()
        self._take: TakeInfo | None = None
        self._last_frame: int | None = None
        self._lost_in_take = 0
        self._accepted = self._dropped = self._rejected = self._outside = 0
        self._closed = False

    def _recover(self) -> list[TakeInfo]:
        try:
            return recover_interrupted(self._conn)
        except sqlite3.DatabaseError as exc:
            raise TakeDatabaseError(f"{self.path}: cannot recover interrupted takes ({exc}); the database file may "
                                    "be damaged: `main.py takes list --db` checks it") from exc

    # ------------------------------------------------------------------ control side

    def start_take(self, slate: str, *, rate: Fraction | None = None, project: Project | None = None,
                   scene: str = "", camera_roll: str = "", notes: str = "", take_number: int | None = None,
                   circled: bool = False) -> TakeInfo:
        """Open a take. ``take_number`` defaults to the next free number on the slate; ``rate``
        defaults to the project's frame rate; the project's canonical YAML is stored with its hash."""
        check_slate(slate)
        if self._take is not None:
            raise RecorderError(f"take {self._take.name} is still recording; stop it first")
        take_rate = rate if rate is not None else (project.frame_rate if project is not None else None)
        if take_rate is None or take_rate <= 0:
            raise RecorderError("give the take's frame rate (rate=) or a project")
        stage_hash, yaml_text = stage_config(project) if project is not None else (None, None)
        with self._conn_lock, transaction(self._conn) as conn:
            number = take_number if take_number is not None else next_take_number(conn, slate)
            if number < 1:
                raise RecorderError("take numbers start at 1")
            if conn.execute("SELECT 1 FROM takes WHERE slate = ? AND take_number = ?", (slate, number)).fetchone():
                raise RecorderError(f"take {take_name(slate, number)} already exists")
            if stage_hash is not None:
                conn.execute("INSERT OR IGNORE INTO stage_configs (hash, yaml) VALUES (?, ?)", (stage_hash, yaml_text))
            conn.execute(
                "INSERT INTO takes (uuid, slate, take_number, scene, camera_roll, notes, circled, rate_num, rate_den, "
                "stage_hash, project_name, created_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'recording')",
                (str(uuid.uuid4()), slate, number, scene, camera_roll, notes, int(circled), take_rate.numerator,
                 take_rate.denominator, stage_hash, project.name if project else None, utc_now()))
            take = find_take(conn, take_name(slate, number))
        with self._state:
            self._take, self._last_frame, self._lost_in_take = take, None, 0
        return take

    def stop_take(self, timeout_s: float = 10.0) -> TakeInfo:
        """Close the current take once every accepted frame is durable; returns it ``complete``.

        Raises RecorderError when the journal cannot finish within ``timeout_s`` (the take stays
        ``recording`` and is recovered on the next open)."""
        with self._state:
            take, lost = self._take, self._lost_in_take
            self._take = None
        if take is None:
            raise RecorderError("no take is recording")
        if not self._journal.flush(timeout_s, checkpoint=True):
            error = self._journal.snapshot().last_error
            raise RecorderError(f"take {take.name}: the journal did not finish writing ({error or 'timed out'})")
        with self._conn_lock, transaction(self._conn) as conn:
            finalize_take(conn, take.id, "complete", lost)
            return find_take(conn, take.id)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every frame accepted so far is committed and fsynced (control side, not the
        frame loop); False if that did not happen within ``timeout_s``."""
        return self._journal.flush(timeout_s)

    @property
    def current_take(self) -> TakeInfo | None:
        return self._take

    def stats(self) -> RecorderStats:
        return RecorderStats(frames_accepted=self._accepted, frames_dropped_queue_full=self._dropped,
                             frames_rejected_out_of_order=self._rejected, frames_outside_take=self._outside,
                             queue_depth=self._journal.queue_depth, journal=self._journal.snapshot(),
                             journal_alive=self._journal.alive)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop a take still recording (as ``complete``), finish writing, release the database."""
        if self._closed:
            return
        try:
            if self._take is not None:
                self.stop_take(timeout_s)
        finally:
            self._closed = True
            finished = self._journal.close(timeout_s)
            self._conn.close()
            self._lock.release()
        if not finished:
            raise RecorderError(f"{self.path}: the journal did not finish writing "
                                f"({self._journal.snapshot().last_error or 'timed out'})")

    def __enter__(self) -> TakeRecorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ frame-loop thread

    def record(self, frame: FrameRecord) -> bool:
        """Hand over one frame (frame-loop thread; never waits for I/O).

        True when queued for the journal. False, and counted, when no take is recording, when
        the frame number does not increase, or when the journal queue is full.
        """
        with self._state:
            if self._take is None:
                self._outside += 1
                return False
            if self._last_frame is not None and frame.frame <= self._last_frame:
                self._rejected += 1
                self._lost_in_take += 1
                return False
            self._last_frame = frame.frame
            if not self._journal.offer(self._take.id, frame):
                self._dropped += 1
                self._lost_in_take += 1
                return False
            self._accepted += 1
            return True
