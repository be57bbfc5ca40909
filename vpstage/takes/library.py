"""The take browser: list, search, read, rename, annotate, soft-delete and restore takes.

Safe beside a live recorder (WAL readers never block the writer). Opening the library recovers
takes left ``recording`` by a dead recorder, but only when no live recorder holds the database.
Methods may be called from any thread (one connection, guarded by a lock).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from vpstage.takes.codec import RecordDecodeError
from vpstage.takes.database import (
    RecorderLock,
    TakeDatabaseError,
    find_take,
    iter_frames,
    next_take_number,
    open_database,
    recover_interrupted,
    select_takes,
    transaction,
)
from vpstage.takes.frame_records import FrameRecord, TakeInfo, TakeRefError, TakeStatus, check_slate, take_name
from vpstage.takes.integrity import (
    READ_ERRORS,
    DatabaseHealth,
    TakeDamage,
    TakeDamagedError,
    check_database,
    is_damage,
    scan_take,
)
from vpstage.takes.take_stats import DEFAULT_GAP_THRESHOLD_MS, TakeStats, take_stats


class TakeLibrary:
    """Browse the takes database at ``db_path`` (which must exist).

    ``recover`` (default): mark takes interrupted by a dead recorder ``recovered`` on opening.
    Raises TakeDatabaseError when the file is missing, not a takes database or too damaged to open.
    A damaged file opens when it can: reading what sits on damaged pages raises TakeDamagedError
    (a TakeDatabaseError naming the take and what of it still reads back); :meth:`check` checks it all.
    """

    def __init__(self, db_path: str | os.PathLike[str], *, recover: bool = True) -> None:
        self.path = Path(db_path)
        self._conn = open_database(self.path, create=False)
        self._lock = threading.Lock()
        self.recovery_error: str | None = None
        """Why interrupted takes could not be marked recovered (a damaged file), else None."""
        self.recovered: list[TakeInfo] = self._recover() if recover else []

    def _recover(self) -> list[TakeInfo]:
        lock = RecorderLock(self.path)
        if not lock.acquire():
            return []  # a live recorder owns the takes that are recording
        try:
            return recover_interrupted(self._conn)
        except READ_ERRORS as exc:
            self.recovery_error = f"interrupted takes were not marked recovered: {exc}"
            return []
        finally:
            lock.release()

    @contextlib.contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn SQLite's errors (and undecodable rows) into a TakeDatabaseError saying what failed."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            damaged = " (the database file is damaged)" if is_damage(exc) else ""
            raise TakeDatabaseError(f"{self.path}: cannot read {what}: {exc}{damaged}") from exc
        except (RecordDecodeError, ZeroDivisionError) as exc:
            raise TakeDatabaseError(f"{self.path}: cannot read {what}: {exc} (the database file is damaged)") from exc

    def _damaged(self, take: TakeInfo, exc: Exception) -> TakeDatabaseError:
        damage = scan_take(self._conn, take) or TakeDamage(take=take, error=str(exc), readable=())
        return TakeDamagedError(str(self.path), damage)

    def check(self) -> DatabaseHealth:
        """Check the whole file (``PRAGMA quick_check``, then every take when it is damaged)."""
        with self._lock:
            return check_database(self._conn, lambda: select_takes(self._conn, "1"))

    # ------------------------------------------------------------------ reading

    def list_takes(self, *, include_deleted: bool = False) -> list[TakeInfo]:
        """Takes in creation order (soft-deleted ones only with ``include_deleted``)."""
        with self._lock, self._reading("the list of takes"):
            return select_takes(self._conn, "1" if include_deleted else "deleted = 0")

    def search(self, text: str | None = None, *, slate: str | None = None, scene: str | None = None,
               notes: str | None = None, circled: bool | None = None, status: TakeStatus | None = None,
               include_deleted: bool = False) -> list[TakeInfo]:
        """Takes matching every given filter. ``text`` matches slate, scene, camera roll or notes;
        ``slate``/``scene``/``notes`` match their own field. String matches are case-insensitive
        substrings."""
        clauses: list[str] = ["1" if include_deleted else "deleted = 0"]
        params: list[str | int] = []
        if text:
            clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in
                                              ("slate", "scene", "camera_roll", "notes")) + ")")
            params += [_like(text)] * 4
        for column, value in (("slate", slate), ("scene", scene), ("notes", notes)):
            if value:
                clauses.append(f"{column} LIKE ? ESCAPE '\\'")
                params.append(_like(value))
        if circled is not None:
            clauses.append("circled = ?")
            params.append(int(circled))
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        with self._lock, self._reading("the list of takes"):
            return select_takes(self._conn, " AND ".join(clauses), tuple(params))

    def get(self, ref: str | int) -> TakeInfo:
        """A take by ``SLATE_TNN`` or id (soft-deleted takes too). Raises TakeNotFoundError."""
        with self._lock, self._reading(f"take {ref}"):
            return find_take(self._conn, ref)

    def frames(self, ref: str | int) -> list[FrameRecord]:
        """Every recorded frame of the take, in frame order. Raises TakeDamagedError when some of
        them sit on damaged pages (it says which frames still read back)."""
        with self._lock:
            with self._reading(f"take {ref}"):
                take = find_take(self._conn, ref)
            try:
                return list(iter_frames(self._conn, take.id))
            except READ_ERRORS as exc:
                raise self._damaged(take, exc) from exc

    def stage_yaml(self, ref: str | int) -> str | None:
        """The canonical project YAML the take was recorded with (None if none was given)."""
        with self._lock:
            with self._reading(f"take {ref}"):
                take = find_take(self._conn, ref)
            try:
                row = self._conn.execute("SELECT yaml FROM stage_configs WHERE hash = ?",
                                         (take.stage_hash,)).fetchone()
            except sqlite3.DatabaseError as exc:
                raise self._damaged(take, exc) from exc
        return None if row is None else str(row[0])

    def stats(self, ref: str | int, *, gap_threshold_ms: float = DEFAULT_GAP_THRESHOLD_MS) -> TakeStats:
        return take_stats(self.get(ref), self.frames(ref), gap_threshold_ms)

    # ------------------------------------------------------------------ editing

    def rename(self, ref: str | int, slate: str, take_number: int | None = None) -> TakeInfo:
        """Move a take to ``slate`` (and ``take_number``, default the slate's next free number)."""
        check_slate(slate)
        with self._lock, self._reading(f"take {ref}"), transaction(self._conn) as conn:
            take = find_take(conn, ref)
            number = take_number if take_number is not None else (
                take.take_number if slate == take.slate else next_take_number(conn, slate))
            if number < 1:
                raise TakeRefError("take numbers start at 1")
            try:
                conn.execute("UPDATE takes SET slate = ?, take_number = ? WHERE id = ?", (slate, number, take.id))
            except sqlite3.IntegrityError:
                raise TakeRefError(f"take {take_name(slate, number)} already exists") from None
            return find_take(conn, take.id)

    def update(self, ref: str | int, *, notes: str | None = None, scene: str | None = None,
               camera_roll: str | None = None, circled: bool | None = None) -> TakeInfo:
        """Change the given annotation fields; the others stay."""
        changes = {k: v for k, v in (("notes", notes), ("scene", scene), ("camera_roll", camera_roll),
                                     ("circled", None if circled is None else int(circled))) if v is not None}
        with self._lock, self._reading(f"take {ref}"), transaction(self._conn) as conn:
            take = find_take(conn, ref)
            if changes:
                assignments = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE takes SET {assignments} WHERE id = ?", (*changes.values(), take.id))
            return find_take(conn, take.id)

    def delete(self, ref: str | int) -> TakeInfo:
        """Soft-delete: hidden from lists and searches, kept on disk, restorable."""
        return self._set_deleted(ref, True)

    def restore(self, ref: str | int) -> TakeInfo:
        return self._set_deleted(ref, False)

    def _set_deleted(self, ref: str | int, deleted: bool) -> TakeInfo:
        with self._lock, self._reading(f"take {ref}"), transaction(self._conn) as conn:
            take = find_take(conn, ref)
            conn.execute("UPDATE takes SET deleted = ? WHERE id = ?", (int(deleted), take.id))
            return find_take(conn, take.id)

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> TakeLibrary:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
