"""Takes record the colour regions each frame's orders carried (record schema 3): they read back
exactly, frames without regions are stored as in schema 2, and the JSON export carries them."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

import msgpack

from devices.tracking.hub import TrackingHub
from tests.engine.helpers import tiny_stage
from tests.takes.synthetic import make_frame, record_take
from vpstage.colour.grading import RegionGrade
from vpstage.colour.settings import ColourRegion, ColourSettings
from vpstage.frame_master import Planner
from vpstage.frame_master.frame_stats import FrameStats
from vpstage.frame_master.record_builder import frame_record
from vpstage.stage import Stage
from vpstage.takes import FrameRecord, TakeLibrary, TakeRecorder
from vpstage.takes.codec import pack_frame_payload, unpack_frame_payload
from vpstage.timing import FrameClock, ManualTimeSource

WARM = RegionGrade(canvas="wall-left", rect=(100, 50, 900, 500), feather_px=24.0, lift=(0.01, 0.0, -0.005),
                   gamma=(1.1, 1.0, 0.95), gain=(1.05, 1.0, 0.9), saturation=0.85)
COOL = dataclasses.replace(WARM, canvas="wall-centre", gain=(0.9, 1.0, 1.1), saturation=1.2)


def graded_frame(i: int) -> FrameRecord:
    """Frames 0..9 without regions, then WARM, then from frame 20 WARM and COOL (a live edit)."""
    regions = () if i < 10 else (WARM,) if i < 20 else (WARM, COOL)
    return dataclasses.replace(make_frame(i), colour_regions=regions)


def test_regions_read_back_frame_by_frame(tmp_path: Path) -> None:
    with TakeRecorder(tmp_path / "takes.sqlite") as recorder:
        written = record_take(recorder, "A001", 30, make=graded_frame)
    with TakeLibrary(tmp_path / "takes.sqlite") as library:
        frames = library.frames("A001_T01")
    assert [f.colour_regions for f in frames] == [f.colour_regions for f in written]
    assert frames[25].colour_regions == (WARM, COOL) and frames[3].colour_regions == ()


def test_a_frame_without_regions_is_stored_as_in_schema_2() -> None:
    frame = make_frame(3)
    payload = pack_frame_payload(frame.cameras, frame.nodes)
    assert len(msgpack.unpackb(payload)) == 2  # [cameras, nodes]: a schema 2 reader reads it as its own
    assert unpack_frame_payload(payload)[2] == ()
    graded = msgpack.unpackb(pack_frame_payload(frame.cameras, frame.nodes, (WARM,)))
    assert len(graded) == 3 and graded[:2] == msgpack.unpackb(payload)  # appended, nothing moved


def test_the_json_form_keeps_the_regions() -> None:
    frame = graded_frame(25)
    data = frame.to_dict()
    assert data["colour_regions"][0]["rect"] == [100, 50, 900, 500]
    assert FrameRecord.from_dict(data) == frame
    del data["colour_regions"]  # an export written before colour regions
    assert FrameRecord.from_dict(data).colour_regions == ()


def test_the_engine_records_the_regions_the_planner_sent() -> None:
    base = tiny_stage()
    project = base.project.model_copy(deep=True)
    project.colour = ColourSettings(regions=[ColourRegion(name="r", canvas="front", rect=(0, 0, 20, 10))])
    stage = Stage.from_project(project, base.layout.base_dir)
    planner = Planner(stage, TrackingHub(stage.project))
    time = ManualTimeSource(10**12)
    tick = FrameClock(stage.project.frame_rate, time_source=time, start_ns=time.now_ns()).tick(0)
    planned = planner.plan(tick).planned
    assert planned is not None
    nan = math.nan
    stats = FrameStats(frame=tick.index, timecode=str(tick.timecode), time_ns=tick.time_ns, deadline_ns=0, plan_ms=0.1,
                       send_ms=0.1, present_ms=0.0, present_skew_ms=0.0, tracking_age_ms=nan,
                       tracking_to_present_ms=nan, skipped_before=0, nodes=())
    record = frame_record(planned, stats, Fraction(30), {}, {})
    assert record.colour_regions == (RegionGrade(canvas="front", rect=(0, 0, 20, 10)),)
