"""Takes recorded before record schema 2 (k1, k2, p1, p2 only; no priority, active camera or
interleave) still read, export and take new takes beside them.

``fixtures/schema1_takes.sqlite`` and ``fixtures/schema1_take.json`` were written by the code of
record schema 1 (take OLD1_T01: 6 frames of the synthetic cameras A and B, B without a sample in
frame 3), then checkpointed into one file; tests work on a copy."""

from __future__ import annotations

import csv
import json
import math
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.takes.synthetic import make_frame, record_take
from vpstage.takes import FrameRecord, TakeLibrary, TakeRecorder
from vpstage.takes.codec import RECORD_SCHEMA, unpack_frame_payload
from vpstage.takes.exports import export_take
from vpstage.tracking.distortion import LensDistortion

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "takes.sqlite"
    shutil.copyfile(FIXTURES / "schema1_takes.sqlite", db)
    return db


def old_distortion(i: int) -> LensDistortion:
    """What schema 1 kept of the synthetic lens of frame i, read as Brown-Conrady D-U."""
    return LensDistortion.from_coefficients((-0.02 + 1e-4 * math.sin(i), 0.001), (1e-5, -2e-5))


def test_the_fixture_is_schema_1() -> None:
    with sqlite3.connect(f"file:{FIXTURES / 'schema1_takes.sqlite'}?mode=ro", uri=True) as conn:
        assert dict(conn.execute("SELECT key, value FROM meta")) == {"schema_version": "1", "record_schema": "1"}
        payload = conn.execute("SELECT payload FROM frames ORDER BY frame LIMIT 1").fetchone()[0]
    import msgpack

    cameras, _ = msgpack.unpackb(payload)
    assert len(cameras[0]) == 4 and len(cameras[0][2]) == 12  # schema 1 rows: nothing appended
    assert RECORD_SCHEMA == 4
    (camera, *_), _, regions = unpack_frame_payload(payload)
    assert camera.calibrated is not None and camera.priority is None and regions == ()


def test_an_old_take_reads_with_its_distortion_as_d_u(old_db: Path) -> None:
    with TakeLibrary(old_db) as library:
        (take,) = library.list_takes()
        assert (take.name, take.frame_count, take.status) == ("OLD1_T01", 6, "complete")
        frames = library.frames("OLD1_T01")
    assert [f.frame for f in frames] == list(range(1000, 1006))
    for i, frame in enumerate(frames):
        for record in frame.cameras:
            assert (record.priority, record.active, record.on_wall, record.interleave) == (None, None, None, None)
            if record.calibrated is None:
                assert (record.camera, i) == ("B", 3)
                continue
            assert record.calibrated.distortion == old_distortion(i)
            state = record.calibrated.to_camera_state()
            assert state.distortion.model == "Brown-Conrady D-U" and state.distortion.overscan == 1.0


def test_an_old_take_exports_and_its_old_json_still_reads(old_db: Path, tmp_path: Path) -> None:
    with TakeLibrary(old_db) as library:
        frames = library.frames("OLD1_T01")
        rows = list(csv.DictReader(export_take(library, "OLD1_T01", "csv", tmp_path / "t.csv").open(newline="")))
        doc = json.loads(export_take(library, "OLD1_T01", "json", tmp_path / "t.json").read_text())
        export_take(library, "OLD1_T01", "opentrackio", tmp_path / "t.jsonl")
    assert [float(r["camera/A/k1"]) for r in rows] == [f.cameras[0].calibrated.distortion.radial[0]  # type: ignore[union-attr]
                                                       for f in frames]
    assert rows[0]["camera/A/k3"] == "0.0" and rows[0]["camera/A/distortion_model"] == "Brown-Conrady D-U"
    assert rows[0]["camera/A/priority"] == rows[0]["camera/A/active"] == rows[0]["camera/A/interleave_every"] == ""
    assert doc["format_version"] == 2 and [FrameRecord.from_dict(f) for f in doc["frames"]] == frames
    old = json.loads((FIXTURES / "schema1_take.json").read_text())
    assert old["format_version"] == 1 and old["frames"][0]["cameras"][0]["calibrated"]["distortion"] == [
        -0.02, 0.001, 1e-05, -2e-05]
    assert [FrameRecord.from_dict(f) for f in old["frames"]] == frames  # version 1 exports still read


def test_a_new_take_records_beside_the_old_one(old_db: Path) -> None:
    with TakeRecorder(old_db) as recorder:
        new = record_take(recorder, "NEW1", 4)
    with TakeLibrary(old_db) as library:
        assert [t.name for t in library.list_takes()] == ["OLD1_T01", "NEW1_T01"]
        assert library.frames("NEW1_T01") == new
        assert library.frames("NEW1_T01")[0] == make_frame(0)
        assert library.frames("OLD1_T01")[0].cameras[0].calibrated.distortion == old_distortion(0)  # type: ignore[union-attr]


def test_schema3_encoders_split_into_counts_and_normalised_values() -> None:
    """Before schema 4 a raw state held whichever encoder value the protocol sent, in one field."""
    import msgpack

    from vpstage.takes.codec import pack_frame_payload

    row = ["opentrackio", "sim", 1.0, 2.0, 3.0, 10.0, 5.0, 0.0, 1234.0, 0.25, None]
    payload = msgpack.packb([[["A", row, None, None]], []], use_bin_type=True)
    ((camera,), _, _) = unpack_frame_payload(payload)
    raw = camera.raw
    assert raw is not None
    assert (raw.focus_raw, raw.iris_raw, raw.zoom_raw) == (1234, None, None) and isinstance(raw.focus_raw, int)
    assert (raw.focus_norm, raw.iris_norm, raw.zoom_norm) == (None, 0.25, None)
    assert raw.encoder("focus") == 1234.0 and raw.encoder("iris") == 0.25 and raw.encoder("zoom") is None
    again = unpack_frame_payload(pack_frame_payload((camera,), ()))[0][0]
    assert again.raw == raw  # schema 4 keeps both
