"""The OpenTrackIO export parses back through our own decoder, frame by frame, camera by camera."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STAGES
from tests.takes.synthetic import CAMERAS, RATE, make_frame, record_take
from vpstage.protocols.opentrackio import ENCODING_JSON, parse_sample_payload
from vpstage.stage import load_project
from vpstage.takes import FrameRecord, TakeLibrary, TakeRecorder
from vpstage.takes.exports import export_take


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[TakeLibrary, list[FrameRecord]]]:
    db = tmp_path / "takes.sqlite"
    project = load_project(STAGES / "flat_wall.yaml").project
    with TakeRecorder(db) as recorder:
        frames = record_take(recorder, "A001", 12, make=lambda i: make_frame(i, missing=["B"] if i == 4 else []),
                             project=project)
    with TakeLibrary(db) as library:
        yield library, frames


def test_every_sample_parses_back_to_the_recorded_camera(recorded: tuple[TakeLibrary, list[FrameRecord]],
                                                         tmp_path: Path) -> None:
    library, frames = recorded
    path = export_take(library, "A001_T01", "opentrackio", tmp_path / "take.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == 12 * len(CAMERAS) - 1  # camera B had no sample in frame 4
    samples = [parse_sample_payload(line.encode(), ENCODING_JSON, "file", 0) for line in lines]
    expected = [(f, c) for f in frames for c in f.cameras if c.calibrated is not None]
    sources = set()
    for sample, (frame, record) in zip(samples, expected, strict=True):
        assert sample is not None
        cal = record.calibrated
        assert sample.camera_id == CAMERAS.index(record.camera) + 1
        assert sample.sequence == frame.frame and sample.sample_rate == RATE
        assert str(sample.timecode) == frame.timecode and sample.timecode.rate == RATE
        sensor = np.asarray(cal.eye_m) - cal.entrance_pupil_offset_m * cal.rotation_matrix()[:, 2]
        np.testing.assert_allclose(sample.position_m, sensor, rtol=0, atol=1e-12)
        assert (sample.pan_deg, sample.tilt_deg, sample.roll_deg) == cal.pan_tilt_roll()
        assert sample.focal_length_mm == cal.focal_length_mm and sample.f_stop == cal.f_stop
        assert sample.focus_distance_m == cal.focus_distance_m
        assert sample.entrance_pupil_m == cal.entrance_pupil_offset_m
        assert sample.distortion == cal.distortion
        assert sample.projection_offset_mm == (cal.principal_offset_mm[0], -cal.principal_offset_mm[1])
        assert sample.sensor_size_mm == (cal.sensor_width_mm, cal.sensor_height_mm)
        assert (sample.focus_raw, sample.iris_raw, sample.zoom_raw) == (record.raw.focus_raw, record.raw.iris_raw,
                                                                         record.raw.zoom_raw)
        sources.add(sample.camera_id)
    assert sources == {1, 2}
    again = export_take(library, "A001_T01", "opentrackio", tmp_path / "again.jsonl")
    assert again.read_bytes() == path.read_bytes()  # stable sample ids
