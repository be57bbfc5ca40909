"""The take browser: list, search, rename, annotate, soft-delete, statistics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.takes.synthetic import make_frame, record_take
from vpstage.takes import FrameRecord, TakeInfo, TakeLibrary, TakeNotFoundError, TakeRecorder, TakeRefError


@pytest.fixture
def library(tmp_path: Path) -> Iterator[TakeLibrary]:
    db = tmp_path / "takes.sqlite"
    with TakeRecorder(db) as recorder:
        record_take(recorder, "A001", 3, scene="12A", notes="dolly in, good")
        record_take(recorder, "A001", 3, scene="12A", notes="boom in shot", circled=True)
        record_take(recorder, "B002", 3, scene="14", camera_roll="A017", notes="focus 100% off")
    lib = TakeLibrary(db)
    yield lib
    lib.close()


def names(takes: list[TakeInfo]) -> list[str]:
    return [t.name for t in takes]


def test_list_and_get(library: TakeLibrary) -> None:
    assert names(library.list_takes()) == ["A001_T01", "A001_T02", "B002_T01"]
    assert library.get("B002_T01") == library.get(3) == library.get("3")
    assert library.get("A001_T2").take_number == 2  # take numbers need no zero padding
    with pytest.raises(TakeNotFoundError, match="no take A001_T09"):
        library.get("A001_T09")
    with pytest.raises(TakeRefError, match="SLATE_TNN"):
        library.get("A001-3")


def test_search(library: TakeLibrary) -> None:
    assert names(library.search("DOLLY")) == ["A001_T01"]
    assert names(library.search(scene="12a")) == ["A001_T01", "A001_T02"]
    assert names(library.search(circled=True)) == ["A001_T02"]
    assert names(library.search(circled=False, scene="12A")) == ["A001_T01"]
    assert names(library.search("a017")) == ["B002_T01"]  # camera roll
    assert names(library.search("100%")) == ["B002_T01"]  # LIKE wildcards are literal
    assert names(library.search("%")) == ["B002_T01"]
    assert names(library.search(slate="B0", notes="focus")) == ["B002_T01"]
    assert names(library.search(status="complete")) == names(library.list_takes())
    assert library.search("nothing like this") == []


def test_rename_and_update(library: TakeLibrary) -> None:
    assert library.rename("A001_T02", "C003").name == "C003_T01"
    with pytest.raises(TakeNotFoundError):
        library.get("A001_T02")
    assert library.rename("C003_T01", "C003", 5).name == "C003_T05"
    with pytest.raises(TakeRefError, match="A001_T01 already exists"):
        library.rename("B002_T01", "A001", 1)
    with pytest.raises(TakeRefError, match="slate"):
        library.rename("B002_T01", "bad slate")
    take = library.update("B002_T01", notes="focus fixed", circled=True)
    assert (take.notes, take.circled, take.scene, take.camera_roll) == ("focus fixed", True, "14", "A017")
    assert library.update("B002_T01").notes == "focus fixed"  # nothing given: nothing changes


def test_soft_delete_and_restore(library: TakeLibrary) -> None:
    deleted = library.delete("A001_T01")
    assert deleted.deleted and deleted.frame_count == 3
    assert names(library.list_takes()) == ["A001_T02", "B002_T01"]
    assert names(library.search("dolly")) == []
    assert names(library.search("dolly", include_deleted=True)) == ["A001_T01"]
    assert library.get("A001_T01").deleted  # still reachable by name, frames kept
    assert len(library.frames("A001_T01")) == 3
    assert not library.restore("A001_T01").deleted
    assert names(library.list_takes()) == ["A001_T01", "A001_T02", "B002_T01"]


def test_deleted_take_numbers_are_not_reused(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    with TakeRecorder(db) as recorder:
        record_take(recorder, "A001", 1)
        with TakeLibrary(db) as lib:
            lib.delete("A001_T01")
        record_take(recorder, "A001", 1)
    with TakeLibrary(db) as lib:
        assert names(lib.list_takes(include_deleted=True)) == ["A001_T01", "A001_T02"]


def _eventful(i: int) -> FrameRecord:
    return make_frame(i, late=["gpu1"] if 10 <= i <= 12 else [], dropped=["gpu2"] if i == 50 else [],
                      stale=["B"] if 30 <= i <= 34 else [], missing=["A"] if i in (70, 71) else [])


def test_stats_with_drops_and_tracking_gaps(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    with TakeRecorder(db) as recorder:
        record_take(recorder, "D004", 120, skip={90, 91}, make=_eventful)
    with TakeLibrary(db) as lib:
        stats = lib.stats("D004_T01")
        strict = lib.stats("D004_T01", gap_threshold_ms=4.5)
    assert stats.frame_count == 118 and (stats.first_frame, stats.last_frame) == (1000, 1119)
    assert stats.duration_s == 2.0 and stats.clock_duration_s == pytest.approx(2.0, abs=1e-6)
    assert (stats.missing_frames, stats.missing_ranges) == (2, [(1090, 1091)])
    nodes = {n.node: n for n in stats.nodes}
    assert [(n.late, n.dropped) for n in nodes.values()] == [(0, 0), (3, 0), (0, 1), (0, 0)]
    (late,) = nodes["gpu1"].late_or_dropped
    assert (late.first_frame, late.last_frame, late.first_timecode, late.frames) == (1010, 1012, "01:00:00:10", 3)
    assert [(r.first_frame, r.last_frame) for r in nodes["gpu2"].late_or_dropped] == [(1050, 1050)]
    assert nodes["gpu0"].frames == 118 and nodes["gpu0"].max_render_ms <= 10.0
    gaps = [(g.camera, g.range.first_frame, g.range.last_frame, g.missing_frames, g.max_age_ms)
            for g in stats.tracking_gaps]
    assert gaps == [("A", 1070, 1071, 2, None), ("B", 1030, 1034, 0, 256.0)]
    # A lower threshold turns the normal 4-6 ms ages into gaps too.
    assert len(strict.tracking_gaps) > len(stats.tracking_gaps)


def test_stats_of_an_empty_take(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    with TakeRecorder(db) as recorder:
        recorder.start_take("E005", rate=make_frame(0).rate)
        take = recorder.stop_take()
    assert (take.frame_count, take.start_timecode, take.end_timecode) == (0, None, None)
    with TakeLibrary(db) as lib:
        stats = lib.stats(take.id)
    assert (stats.frame_count, stats.duration_s, stats.nodes, stats.tracking_gaps) == (0, 0.0, [], [])
