"""A damaged takes database is reported, take by take, with what still reads back; a file that is
not a takes database (an empty one included) is refused and never written to."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.takes.synthetic import make_frame, record_take
from vpstage.takes import TakeDatabaseError, TakeLibrary, TakeRecorder
from vpstage.takes.codec import pack_frame_payload
from vpstage.takes.integrity import TakeDamagedError

SECOND = range(1000, 1900)  # take A002's frame indices: payloads no other take has


def takes_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "takes", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three takes, then the page holding frame 1450 of A002 (of 1000..1899) overwritten with zeros."""
    db = tmp_path_factory.mktemp("damaged") / "takes.sqlite"
    with TakeRecorder(db) as recorder:
        record_take(recorder, "A001", 300)
        record_take(recorder, "A002", len(SECOND), make=lambda i: make_frame(SECOND[i]))
        record_take(recorder, "A003", 300)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    data = bytearray(db.read_bytes())
    frame = make_frame(1450)
    offset = data.find(pack_frame_payload(frame.cameras, frame.nodes))
    assert offset > 0
    start = offset // page_size * page_size
    data[start:start + page_size] = bytes(page_size)
    db.write_bytes(bytes(data))
    return db


def test_reading_a_damaged_take_names_it_and_what_still_reads(damaged: Path) -> None:
    with TakeLibrary(damaged) as library:
        with pytest.raises(TakeDamagedError) as info:
            library.frames("A002_T01")
        assert len(library.frames("A001_T01")) == 300 and len(library.frames("A003_T01")) == 300
        health = library.check()
    damage = info.value.damage
    assert damage.take.name == "A002_T01" and "malformed" in damage.error
    readable = {n for span in damage.readable for n in range(span.first, span.last + 1)}
    assert 1450 + 1000 not in readable  # make_frame(i) is frame 1000 + i
    assert 0 < damage.readable_frames < len(SECOND) and len(damage.readable) == 2  # before and after the page
    assert min(readable) == 2000 and max(readable) == 2899
    assert "take A002_T01 (id 2) is damaged" in str(info.value) and "Still readable" in str(info.value)
    assert not health.ok and [d.take.name for d in health.damaged] == ["A002_T01"]


def test_cli_reports_damage_in_list_show_and_export(damaged: Path, tmp_path: Path) -> None:
    listed = takes_cli("list", "--db", str(damaged))
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    rows = {line.split()[1]: line for line in listed.stdout.splitlines()[1:]}
    assert "DAMAGED" in rows["A002_T01"] and "complete" in rows["A001_T01"] and "complete" in rows["A003_T01"]
    assert "take A002_T01 (id 2) is damaged" in listed.stderr and "frames (2000-" in listed.stderr
    for args in (("show", "A002_T01"), ("export", "A002_T01", "--format", "csv", "-o", str(tmp_path / "a.csv"))):
        done = takes_cli(*args, "--db", str(damaged))
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "take A002_T01 (id 2) is damaged: database disk image is malformed. Still readable" in done.stderr
    assert not (tmp_path / "a.csv").exists()
    assert takes_cli("export", "A001_T01", "--format", "csv", "-o", str(tmp_path / "b.csv"), "--db",
                     str(damaged)).returncode == 0


def _foreign_files(folder: Path) -> dict[str, bytes]:
    (folder / "empty.sqlite").write_bytes(b"")
    (folder / "notes.sqlite").write_bytes(b"call sheet\n")
    with sqlite3.connect(folder / "other.sqlite") as conn:
        conn.execute("CREATE TABLE invoices (n)")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_files_that_are_not_takes_databases_are_refused_and_left_as_they_are(tmp_path: Path) -> None:
    before = _foreign_files(tmp_path)
    expected = {"empty.sqlite": "empty (0 bytes)", "notes.sqlite": "not an SQLite file",
                "other.sqlite": "not a takes database (it has no vpstage meta table)"}
    for name, message in expected.items():
        with pytest.raises(TakeDatabaseError, match=rf"{name}: .*{re.escape(message)}"):
            TakeRecorder(tmp_path / name)
        with pytest.raises(TakeDatabaseError, match=rf"{name}: .*{re.escape(message)}"):
            TakeLibrary(tmp_path / name)
        done = takes_cli("list", "--db", str(tmp_path / name)) if name == "empty.sqlite" else None
        assert done is None or (done.returncode == 1 and "will not write over it" in done.stderr)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith(".lock")} == before


def test_a_new_database_appears_whole(tmp_path: Path) -> None:
    db = tmp_path / "takes" / "takes.sqlite"
    with TakeRecorder(db) as recorder:
        record_take(recorder, "A001", 3)
    assert sorted(p.name for p in db.parent.iterdir()) == ["takes.sqlite", "takes.sqlite.lock"]
    with TakeLibrary(db) as library:
        assert library.check().ok and [t.name for t in library.list_takes()] == ["A001_T01"]
