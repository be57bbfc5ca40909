"""The takes database: one SQLite file per project, in WAL mode.

Tables (schema 1; see ``docs/takes.md``):

* ``meta(key, value)``: ``schema_version``, ``record_schema``;
* ``stage_configs(hash, yaml)``: each distinct canonical project YAML, by SHA-256;
* ``takes``: one row per take (metadata, status, counts), ``UNIQUE(slate, take_number)``;
* ``scene_states(id, take_id, payload)``: distinct scene states (placements, asset hashes);
* ``frames``: one row per recorded frame, keyed ``(take_id, frame)`` (clustered, ``WITHOUT ROWID``).

Concurrency: any number of readers (the browser, the CLI) alongside one recorder. The recorder
holds an exclusive ``flock`` on ``<db>.lock`` for its lifetime; the kernel drops it when the
process dies, which is how a later open tells a crashed take (status ``recording``, lock free) from
one that is being recorded right now (lock held).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from vpstage.config.atomic import fsync_dir
from vpstage.takes.codec import RECORD_SCHEMA, unpack_frame_payload, unpack_scene_payload
from vpstage.takes.frame_records import FrameRecord, TakeInfo, TakeStatus, parse_take_ref, take_name

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stage_configs (hash TEXT PRIMARY KEY, yaml TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS takes (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    slate TEXT NOT NULL,
    take_number INTEGER NOT NULL CHECK (take_number >= 1),
    scene TEXT NOT NULL DEFAULT '',
    camera_roll TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    circled INTEGER NOT NULL DEFAULT 0,
    rate_num INTEGER NOT NULL,
    rate_den INTEGER NOT NULL,
    start_timecode TEXT,
    end_timecode TEXT,
    stage_hash TEXT REFERENCES stage_configs(hash),
    project_name TEXT,
    created_at TEXT NOT NULL,
    closed_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'recovered')),
    deleted INTEGER NOT NULL DEFAULT 0,
    frame_count INTEGER NOT NULL DEFAULT 0,
    frames_lost INTEGER NOT NULL DEFAULT 0,
    UNIQUE (slate, take_number)
);
CREATE TABLE IF NOT EXISTS scene_states (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES takes(id),
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS frames (
    take_id INTEGER NOT NULL REFERENCES takes(id),
    frame INTEGER NOT NULL,
    timecode TEXT NOT NULL,
    timecode_frames INTEGER NOT NULL,
    rate_num INTEGER NOT NULL,
    rate_den INTEGER NOT NULL,
    monotonic_ns INTEGER NOT NULL,
    scene_state_id INTEGER REFERENCES scene_states(id),
    payload BLOB NOT NULL,
    PRIMARY KEY (take_id, frame)
) WITHOUT ROWID;
"""

_TAKE_COLUMNS = ("id, uuid, slate, take_number, scene, camera_roll, notes, circled, rate_num, rate_den, "
                 "start_timecode, end_timecode, stage_hash, project_name, created_at, closed_at, status, deleted, "
                 "frame_count, frames_lost")


class TakeDatabaseError(Exception):
    """The takes database cannot be opened or used (missing, not a takes database, newer schema,
    damaged, locked by a recorder)."""


class TakeNotFoundError(KeyError):
    """No take by that name or id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "take not found"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def default_db_path(project_file: str | os.PathLike[str]) -> Path:
    """Where a project's takes live: ``<project dir>/takes/takes.sqlite``."""
    return Path(project_file).resolve().parent / "takes" / "takes.sqlite"


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (explicit BEGIN/COMMIT), WAL, ``synchronous=NORMAL``.

    ``check_same_thread`` is off: each owner guards its connection with its own lock. Call it only
    on a file :func:`open_database` has made or checked: the pragmas write to the file.
    """
    conn = _bare_connection(path)
    _configure(conn)
    return conn


def _bare_connection(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _refuse_foreign_file(db: Path) -> None:
    """Refuse, before SQLite touches it, a file that cannot be a takes database."""
    if not db.is_file():
        raise TakeDatabaseError(f"{db}: not a file")
    try:
        with db.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise TakeDatabaseError(f"{db}: cannot read: {exc.strerror or exc}") from exc
    if not head:
        raise TakeDatabaseError(
            f"{db}: the file is empty (0 bytes), so it is not a takes database, and vpstage will not write over "
            "it. vpstage never leaves an empty database (a new one is built beside it and renamed into place), "
            f"so it was truncated or made by something else: move it (and any {db.name}-wal beside it, which may "
            "still hold takes) out of the way to start a new database here")
    if head != SQLITE_HEADER:
        raise TakeDatabaseError(f"{db}: not a takes database (not an SQLite file); vpstage will not write to it")


def _schema_version(conn: sqlite3.Connection, db: Path) -> int:
    """The file's takes schema version; TakeDatabaseError when it is not a (readable) takes database."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise TakeDatabaseError(f"{db}: cannot read the takes database ({exc})") from exc
        raise TakeDatabaseError(f"{db}: an SQLite database, but not a takes database (it has no vpstage meta "
                                "table); vpstage will not write to it") from exc
    except sqlite3.DatabaseError as exc:
        raise TakeDatabaseError(f"{db}: the takes database is damaged and cannot be opened ({exc}); copy the "
                                "file before any repair (e.g. `sqlite3 takes.sqlite .recover`)") from exc
    if row is None or not str(row[0]).isdigit():
        raise TakeDatabaseError(f"{db}: not a takes database (no schema version in its meta table)")
    return int(row[0])


def _create_database(db: Path) -> None:
    """Make a complete, empty takes database at ``db``: built under a temporary name and linked into
    place, so the path never holds a half-made file, and an existing file is never replaced."""
    db.parent.mkdir(parents=True, exist_ok=True)
    tmp = db.with_name(f".{db.name}.{uuid.uuid4().hex[:12]}.new")
    try:
        conn = connect(tmp)
        try:
            conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}"
                               f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'), "
                               f"('record_schema', '{RECORD_SCHEMA}');COMMIT;")
        finally:
            conn.close()
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile: use that one
            os.link(tmp, db)
        fsync_dir(db.parent)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def open_database(path: str | os.PathLike[str], *, create: bool) -> sqlite3.Connection:
    """Open a takes database (with ``create``, make a new one where no file is); check its schema version.

    Never writes to a file that is not a takes database: an empty file, a file of another kind or
    another application's SQLite database raise TakeDatabaseError, as does a damaged one that
    cannot be opened.
    """
    db = Path(path)
    if not db.exists():
        if not create:
            raise TakeDatabaseError(f"{db}: no takes database here (record a take first, or check --db/--project)")
        try:
            _create_database(db)
        except (OSError, sqlite3.Error) as exc:
            raise TakeDatabaseError(f"{db}: cannot create a takes database: {exc}") from exc
    _refuse_foreign_file(db)
    try:
        conn = _bare_connection(db)
    except sqlite3.Error as exc:
        raise TakeDatabaseError(f"{db}: cannot open: {exc}") from exc
    try:
        version = _schema_version(conn, db)
        if version > SCHEMA_VERSION:
            raise TakeDatabaseError(f"{db}: takes schema {version} is newer than this vpstage ({SCHEMA_VERSION})")
        _configure(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise TakeDatabaseError(f"{db}: cannot use the takes database ({exc})") from exc
    except BaseException:
        conn.close()
        raise
    return conn


# ----------------------------------------------------------------------------- recorder lock


class RecorderLock:
    """Exclusive advisory lock on ``<db>.lock`` (``flock``; released by the kernel on process death)."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, timeout_s: float = 0.0) -> bool:
        """Try for up to ``timeout_s``; True when held."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                time.sleep(0.02)
                continue
            self._fd = fd
            return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


# ----------------------------------------------------------------------------- takes


def take_from_row(row: tuple[Any, ...]) -> TakeInfo:
    (id_, uuid, slate, number, scene, roll, notes, circled, rate_num, rate_den, start_tc, end_tc, stage_hash,
     project_name, created_at, closed_at, status, deleted, frame_count, frames_lost) = row
    return TakeInfo(id=id_, uuid=uuid, slate=slate, take_number=number, rate=Fraction(rate_num, rate_den),
                    status=status, created_at=created_at, scene=scene, camera_roll=roll, notes=notes,
                    circled=bool(circled), start_timecode=start_tc, end_timecode=end_tc, stage_hash=stage_hash,
                    project_name=project_name, closed_at=closed_at, deleted=bool(deleted), frame_count=frame_count,
                    frames_lost=frames_lost)


def select_takes(conn: sqlite3.Connection, where: str = "1", params: tuple[Any, ...] = ()) -> list[TakeInfo]:
    rows = conn.execute(f"SELECT {_TAKE_COLUMNS} FROM takes WHERE {where} ORDER BY id", params).fetchall()
    return [take_from_row(r) for r in rows]


def find_take(conn: sqlite3.Connection, ref: str | int) -> TakeInfo:
    """A take by id or ``SLATE_TNN`` (deleted takes included). Raises TakeNotFoundError."""
    parsed = parse_take_ref(ref)
    if isinstance(parsed, int):
        found = select_takes(conn, "id = ?", (parsed,))
    else:
        found = select_takes(conn, "slate = ? AND take_number = ?", parsed)
    if not found:
        label = f"id {parsed}" if isinstance(parsed, int) else take_name(*parsed)
        raise TakeNotFoundError(f"no take {label}")
    return found[0]


def next_take_number(conn: sqlite3.Connection, slate: str) -> int:
    """One more than the highest take number ever used on this slate (deleted takes keep theirs)."""
    (highest,) = conn.execute("SELECT MAX(take_number) FROM takes WHERE slate = ?", (slate,)).fetchone()
    return 1 if highest is None else int(highest) + 1


def finalize_take(conn: sqlite3.Connection, take_id: int, status: TakeStatus, frames_lost: int | None = None) -> None:
    """Close a take: status, first/last timecode and frame count from its journaled frames."""
    first = conn.execute("SELECT timecode FROM frames WHERE take_id = ? ORDER BY frame LIMIT 1", (take_id,)).fetchone()
    last = conn.execute("SELECT timecode FROM frames WHERE take_id = ? ORDER BY frame DESC LIMIT 1",
                        (take_id,)).fetchone()
    (count,) = conn.execute("SELECT COUNT(*) FROM frames WHERE take_id = ?", (take_id,)).fetchone()
    conn.execute("UPDATE takes SET status = ?, start_timecode = ?, end_timecode = ?, frame_count = ?, closed_at = ?, "
                 "frames_lost = COALESCE(?, frames_lost) WHERE id = ?",
                 (status, first and first[0], last and last[0], count, utc_now(), frames_lost, take_id))


def recover_interrupted(conn: sqlite3.Connection) -> list[TakeInfo]:
    """Mark every take still ``recording`` as ``recovered``. Call only while holding the recorder lock
    (so no live recorder owns those takes). SQLite has already rolled the WAL forward on open:
    every committed frame is there."""
    stale = select_takes(conn, "status = 'recording'")
    if not stale:
        return []
    with transaction(conn):
        for take in stale:
            finalize_take(conn, take.id, "recovered")
    return [find_take(conn, t.id) for t in stale]


def iter_frames(conn: sqlite3.Connection, take_id: int) -> Iterator[FrameRecord]:
    """The take's frames in frame order."""
    scenes = {sid: unpack_scene_payload(payload) for sid, payload in
              conn.execute("SELECT id, payload FROM scene_states WHERE take_id = ?", (take_id,))}
    cursor = conn.execute("SELECT frame, timecode, timecode_frames, rate_num, rate_den, monotonic_ns, scene_state_id, "
                          "payload FROM frames WHERE take_id = ? ORDER BY frame", (take_id,))
    for frame, tc, tc_frames, num, den, mono, scene_id, payload in cursor:
        cameras, nodes, regions = unpack_frame_payload(payload)
        scene = () if scene_id is None else scenes[scene_id]
        yield FrameRecord(frame=frame, timecode=tc, timecode_frames=tc_frames, rate=Fraction(num, den),
                          monotonic_ns=mono, cameras=cameras, scene=scene, nodes=nodes, colour_regions=regions)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
