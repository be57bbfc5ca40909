"""Damage in a takes database: find it, name the takes it touches and what can still be read.

SQLite keeps no checksums, so damage shows up in two ways: the file's structure is broken
(``database disk image is malformed``: a torn or overwritten page, found by ``PRAGMA quick_check``
and by any read that crosses the page), or a record's bytes no longer decode. Either way the take
browser raises :class:`TakeDamagedError` naming the take, the frames that still read back and the
error, instead of failing half-way with SQLite's message. :func:`check_database` is the whole-file
check (``takes list`` runs it).

To say what is readable, :func:`scan_take` reads a take's frames in order; where a read fails it
seeks past the damage (exponential, then binary probing on the frame number) and goes on, so a
damaged page in the middle of a take costs only the frames stored on it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vpstage.takes.codec import RecordDecodeError, unpack_frame_payload, unpack_scene_payload
from vpstage.takes.database import TakeDatabaseError
from vpstage.takes.frame_records import TakeInfo

DECODE_ERRORS: tuple[type[Exception], ...] = (RecordDecodeError, ValueError, TypeError, KeyError, ZeroDivisionError,
                                              OverflowError)
"""What reading back a damaged record can raise besides sqlite3.DatabaseError."""
READ_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, *DECODE_ERRORS)

MAX_DAMAGED_REGIONS = 64
"""Damaged stretches one scan steps over before it calls the rest of the take unreadable."""

_FRAME_MIN, _FRAME_MAX = -(1 << 63), (1 << 63) - 1
_QUICK_CHECK_LINES = 20


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """True for SQLite's "malformed" / "not a database" errors (not for a busy or locked database)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    text = str(exc)
    return "malformed" in text or "not a database" in text


@dataclass(frozen=True)
class FrameSpan:
    """Consecutive readable frames (by frame number; gaps the recorder left are inside)."""

    first: int
    last: int
    count: int

    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True, kw_only=True)
class TakeDamage:
    """What is wrong with one take and what of it still reads back."""

    take: TakeInfo
    error: str
    readable: tuple[FrameSpan, ...]
    scene_states_ok: bool = True
    stage_config_ok: bool = True

    @property
    def readable_frames(self) -> int:
        return sum(span.count for span in self.readable)

    def describe(self) -> str:
        total = f" of {self.take.frame_count}" if self.take.frame_count else ""
        spans = ", ".join(span.label() for span in self.readable[:8]) + (", ..." if len(self.readable) > 8 else "")
        frames = f"{self.readable_frames}{total} frames" + (f" ({spans})" if spans else "")
        extra = "" if self.scene_states_ok else "; its scene placements are unreadable"
        extra += "" if self.stage_config_ok else "; its stage configuration is unreadable"
        return (f"take {self.take.name} (id {self.take.id}) is damaged: {self.error}. Still readable: its metadata "
                f"and {frames}{extra}")

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "readable_frames": self.readable_frames,
                "readable": [[s.first, s.last] for s in self.readable],
                "scene_states_ok": self.scene_states_ok, "stage_config_ok": self.stage_config_ok}


class TakeDamagedError(TakeDatabaseError):
    """A take cannot be read back whole: the database file is damaged where it is stored."""

    def __init__(self, path: str, damage: TakeDamage) -> None:
        self.damage = damage
        super().__init__(f"{path}: {damage.describe()}. Copy the file before any repair "
                         "(e.g. `sqlite3 takes.sqlite .recover`)")


@dataclass(frozen=True)
class DatabaseHealth:
    """The outcome of :func:`check_database`."""

    problems: tuple[str, ...]
    """What ``PRAGMA quick_check`` reported (empty: the file's structure is sound)."""
    damaged: tuple[TakeDamage, ...]
    takes_readable: bool = True
    """False when even the list of takes cannot be read."""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.damaged and self.takes_readable


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA quick_check``: [] when the file's structure is sound, else what it found."""
    try:
        rows = conn.execute(f"PRAGMA quick_check({_QUICK_CHECK_LINES})").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    found = [str(r[0]) for r in rows]
    return [] if found == ["ok"] else found


def check_database(conn: sqlite3.Connection, takes: Callable[[], list[TakeInfo]]) -> DatabaseHealth:
    """Check the whole file; when it is damaged, scan every take to say which are hit."""
    problems = tuple(quick_check(conn))
    if not problems:
        return DatabaseHealth((), ())
    try:
        listed = takes()
    except READ_ERRORS:
        return DatabaseHealth(problems, (), takes_readable=False)
    damaged = tuple(d for d in (scan_take(conn, t) for t in listed) if d is not None)
    return DatabaseHealth(problems, damaged)


# ----------------------------------------------------------------------------- one take


def _error_text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _scene_states_ok(conn: sqlite3.Connection, take_id: int) -> tuple[bool, str | None]:
    try:
        for (payload,) in conn.execute("SELECT payload FROM scene_states WHERE take_id = ?", (take_id,)):
            unpack_scene_payload(payload)
    except READ_ERRORS as exc:
        return False, f"scene states: {_error_text(exc)}"
    return True, None


def _stage_config_ok(conn: sqlite3.Connection, take: TakeInfo) -> tuple[bool, str | None]:
    if take.stage_hash is None:
        return True, None
    try:
        conn.execute("SELECT length(yaml) FROM stage_configs WHERE hash = ?", (take.stage_hash,)).fetchone()
    except sqlite3.DatabaseError as exc:
        return False, f"stage configuration: {_error_text(exc)}"
    return True, None


def _rows_from(conn: sqlite3.Connection, take_id: int, first: int) -> Iterator[tuple[int, bytes]]:
    yield from conn.execute("SELECT frame, payload FROM frames WHERE take_id = ? AND frame >= ? ORDER BY frame",
                            (take_id, first))


class _Run:
    """Frames read back in a row."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None
        self.count = 0

    def add(self, frame: int) -> None:
        self.first = frame if self.first is None else self.first
        self.last, self.count = frame, self.count + 1

    def close(self, spans: list[FrameSpan]) -> None:
        if self.first is not None and self.last is not None:
            spans.append(FrameSpan(self.first, self.last, self.count))


def _read_run(conn: sqlite3.Connection, take_id: int, first: int,
              spans: list[FrameSpan]) -> tuple[int | None, str | None, bool]:
    """Read frames from ``first`` until the end or damage; the readable run goes into ``spans``.

    Returns (the frame the read stopped at: the last one read, or the one that did not decode;
    the error, or None at the end; whether the error was one undecodable frame, to step over)."""
    run = _Run()
    try:
        for frame, payload in _rows_from(conn, take_id, first):
            try:
                unpack_frame_payload(payload)
            except DECODE_ERRORS as exc:
                run.close(spans)
                return frame, f"frame {frame} does not decode ({_error_text(exc)})", True
            run.add(frame)
    except sqlite3.DatabaseError as exc:
        run.close(spans)
        return run.last, _error_text(exc), False
    run.close(spans)
    return run.last, None, False


def _seeks(conn: sqlite3.Connection, take_id: int, first: int) -> bool | None:
    """Can a read start at ``first``? True (a frame is there), None (no frames from there), False (damage)."""
    try:
        row = conn.execute("SELECT frame FROM frames WHERE take_id = ? AND frame >= ? ORDER BY frame LIMIT 1",
                           (take_id, first)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return None if row is None else True


def _past_damage(conn: sqlite3.Connection, take_id: int, after: int) -> int | None:
    """The lowest frame number above ``after`` from which reading works again (None: nothing after)."""
    step = 1
    bad = after
    while after + step <= _FRAME_MAX:
        found = _seeks(conn, take_id, after + step)
        if found is None:
            return None
        if found:
            good = after + step
            while good - bad > 1:  # narrow down to the first start that reads
                middle = (good + bad) // 2
                if _seeks(conn, take_id, middle) is False:
                    bad = middle
                else:
                    good = middle
            return good
        bad, step = after + step, step * 2
    return None


def scan_take(conn: sqlite3.Connection, take: TakeInfo) -> TakeDamage | None:
    """Read a whole take as the browser would; None when all of it reads back."""
    spans: list[FrameSpan] = []
    errors: list[str] = []
    scenes_ok, scene_error = _scene_states_ok(conn, take.id)
    stage_ok, stage_error = _stage_config_ok(conn, take)
    errors += [e for e in (scene_error, stage_error) if e]
    start: int | None = _FRAME_MIN
    regions = 0
    while start is not None and regions <= MAX_DAMAGED_REGIONS:
        last, error, skip = _read_run(conn, take.id, start, spans)
        if error is None:
            break
        errors.append(error)
        regions += 1
        if skip:
            start = None if last is None else last + 1
        else:  # nothing read at all from ``start``: the damage begins there, so look past it
            start = _past_damage(conn, take.id, last if last is not None else start)
    if not errors:
        return None
    return TakeDamage(take=take, error=errors[0], readable=tuple(spans), scene_states_ok=scenes_ok,
                      stage_config_ok=stage_ok)
