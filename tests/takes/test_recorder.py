"""Recording takes: exact read-back, take numbering, refusals, and a writer that falls behind."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STAGES
from tests.takes.synthetic import RATE, drive, make_frame
from vpstage.stage import dump_project_yaml, load_project
from vpstage.takes import DurabilityPolicy, RawCameraState, RecorderError, TakeLibrary, TakeRecorder


@pytest.mark.slow
def test_300_frames_at_60hz_read_back_exactly(tmp_path: Path) -> None:
    project = load_project(STAGES / "demo.yaml").project
    db = tmp_path / "takes" / "takes.sqlite"
    with TakeRecorder(db) as recorder:
        take = recorder.start_take("A001", rate=RATE, project=project, scene="12A", camera_roll="A017",
                                   notes="dolly in")
        assert take.status == "recording" and take.name == "A001_T01"
        frames = drive(recorder, 300, rate_hz=60.0)  # paced like the frame loop
        done = recorder.stop_take()
        stats = recorder.stats()
    assert stats.frames_accepted == 300 and stats.frames_dropped_queue_full == 0
    assert stats.journal.frames_written == 300 and stats.journal.write_errors == 0
    assert done.status == "complete" and done.frame_count == 300 and done.frames_lost == 0
    assert (done.start_timecode, done.end_timecode) == ("01:00:00:00", "01:00:04:59")
    yaml_text = dump_project_yaml(project)
    assert done.stage_hash == hashlib.sha256(yaml_text.encode()).hexdigest()
    assert done.project_name == project.name and done.rate == Fraction(60)

    with TakeLibrary(db) as library:
        back = library.frames("A001_T01")
        assert library.stage_yaml(done.id) == yaml_text
        assert library.get(done.id) == done
    assert len(back) == 300
    for original, read in zip(frames, back, strict=True):
        assert read == original  # every field, bit-exact floats
    # Scene states are stored once per distinct state (4 in the synthetic take), not per frame.
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM scene_states").fetchone() == (4,)


def test_take_numbers_increase_per_slate(tmp_path: Path) -> None:
    with TakeRecorder(tmp_path / "t.sqlite") as recorder:
        names = []
        for slate in ("A001", "A001", "B002", "A001"):
            names.append(recorder.start_take(slate, rate=RATE).name)
            recorder.stop_take()
        assert names == ["A001_T01", "A001_T02", "B002_T01", "A001_T03"]
        assert recorder.start_take("A001", rate=RATE, take_number=7).name == "A001_T07"
        recorder.stop_take()
        with pytest.raises(RecorderError, match="A001_T02 already exists"):
            recorder.start_take("A001", rate=RATE, take_number=2)
        assert recorder.start_take("A001", rate=RATE).name == "A001_T08"


def test_refusals_are_clear(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    with TakeRecorder(db) as recorder:
        with pytest.raises(RecorderError, match="no take is recording"):
            recorder.stop_take()
        with pytest.raises(RecorderError, match="frame rate"):
            recorder.start_take("A001")
        with pytest.raises(ValueError, match="slate 'A 1'"):
            recorder.start_take("A 1", rate=RATE)
        assert not recorder.record(make_frame(0))  # no take: ignored, counted
        recorder.start_take("A001", rate=RATE)
        with pytest.raises(RecorderError, match="A001_T01 is still recording"):
            recorder.start_take("A002", rate=RATE)
        assert recorder.record(make_frame(1))
        assert not recorder.record(make_frame(1))  # frame numbers must increase
        assert not recorder.record(make_frame(0))
        with pytest.raises(RecorderError, match="another recorder"):
            TakeRecorder(db, lock_timeout_s=0.0)
        take = recorder.stop_take()
        stats = recorder.stats()
    assert (stats.frames_outside_take, stats.frames_rejected_out_of_order, stats.frames_accepted) == (1, 2, 1)
    assert take.frame_count == 1 and take.frames_lost == 2


def test_unencodable_record_is_counted_and_the_journal_goes_on(tmp_path: Path) -> None:
    good = make_frame(0)
    cam = good.cameras[0]
    assert cam.raw is not None
    bad_raw = RawCameraState(**{**cam.raw.to_dict(), "focus_raw": np.int64(5)})  # not a plain number
    bad = make_frame(1)
    bad = type(bad)(**{**{k: getattr(bad, k) for k in bad.__slots__},
                       "cameras": (type(cam)(camera=cam.camera, raw=bad_raw, calibrated=cam.calibrated,
                                             tracking_age_ms=cam.tracking_age_ms),)})
    with TakeRecorder(tmp_path / "t.sqlite") as recorder:
        recorder.start_take("A001", rate=RATE)
        for frame in (good, bad, make_frame(2)):
            assert recorder.record(frame)
        take = recorder.stop_take()
        journal = recorder.stats().journal
    assert journal.frames_unencodable == 1 and "frame 1001 not recorded" in (journal.last_error or "")
    assert take.frame_count == 2


def test_writer_falling_behind_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    policy = DurabilityPolicy(commit_interval_s=0.001, max_batch_frames=2)
    with TakeRecorder(db, policy=policy, queue_frames=4) as recorder:
        recorder.start_take("A001", rate=RATE)
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database: the journal must wait
        accepted = [recorder.record(make_frame(i)) for i in range(20)]
        time.sleep(0.3)  # the journal is stuck in SQLite's busy wait meanwhile
        blocker.execute("ROLLBACK")
        blocker.close()
        assert recorder.flush(10.0)  # the journal catches up once the other writer lets go
        accepted += [recorder.record(make_frame(i)) for i in range(20, 24)]  # fits the queue
        take = recorder.stop_take()
        stats = recorder.stats()
    refused = [i for i, ok in enumerate(accepted) if not ok]
    assert refused and all(accepted[20:])
    assert stats.frames_dropped_queue_full == len(refused) == take.frames_lost
    assert stats.frames_accepted == 24 - len(refused) == take.frame_count
    with TakeLibrary(db) as library:
        recorded = [f.frame - 1000 for f in library.frames(take.id)]
        missing = library.stats(take.id).missing_ranges
    assert recorded == [i for i in range(24) if i not in refused]
    assert [n for a, b in missing for n in range(a - 1000, b - 999)] == refused
