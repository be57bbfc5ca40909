"""Every lens distortion value (model name, k1..k6, p1, p2, overscan, centre offset) survives the
whole path: OpenTrackIO datagram -> decoded sample -> buffer -> calibrated camera -> take record ->
takes database -> every export (CSV, JSON, USD, OpenTrackIO read back by our decoder)."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest

from vpstage.frame_master.record_builder import camera_record
from vpstage.frame_master.tracked_cameras import TrackedCamera
from vpstage.protocols import opentrackio as otio
from vpstage.takes import FrameRecord, TakeLibrary, TakeRecorder
from vpstage.takes.exports import export_take
from vpstage.tracking.buffer import SampleBuffer
from vpstage.tracking.calibration import CameraCalibration
from vpstage.tracking.distortion import LensDistortion

RATE = Fraction(24000, 1001)
LENS = {
    "pinholeFocalLength": 21.5, "focusDistance": 3.0, "entrancePupilOffset": 0.09,
    "distortionOffset": {"x": 0.0125, "y": -0.0375},
    "distortion": [
        {"model": "Vendor Polynomial", "radial": [9.0]},
        {"model": "Brown-Conrady U-D", "radial": [-0.1875, 0.046875, -0.00390625, 0.0009765625, -0.000244140625,
                                                  6.103515625e-05],
         "tangential": [0.000152587890625, -0.0003814697265625], "overscan": 1.0859375},
    ],
}
EXPECTED = LensDistortion(model="Brown-Conrady U-D",
                          radial=(-0.1875, 0.046875, -0.00390625, 0.0009765625, -0.000244140625,
                                  6.103515625e-05),
                          tangential=(0.000152587890625, -0.0003814697265625), overscan=1.0859375,
                          offset_mm=(0.0125, -0.0375))


def sample_document(i: int) -> dict[str, object]:
    return {"protocol": {"name": "OpenTrackIO", "version": [1, 0, 1]}, "sourceNumber": 1,
            "transforms": [{"id": "Camera", "translation": {"x": 0.1 * i, "y": -3.0, "z": 1.5},
                            "rotation": {"pan": 2.0 * i, "tilt": -4.0, "roll": 0.5}}],
            "lens": LENS}


def test_every_distortion_value_survives_decode_record_and_export(tmp_path: Path) -> None:
    # decode: real datagrams through the packet layer
    buffer = SampleBuffer()
    for i in range(3):
        payload = otio.encode_document(sample_document(i))
        (datagram,) = otio.write_segments(payload, otio.ENCODING_JSON, i)
        packet = otio.parse_packet(datagram)
        sample = otio.parse_sample_payload(packet.payload, packet.encoding, "10.0.0.9", 10**12 + i * 41_708_333)
        assert sample is not None and sample.distortion == EXPECTED
        buffer.push(sample)
    # sample at a frame instant between two samples, calibrate with the physical lens (sent values)
    calibration = CameraCalibration(sensor_width_mm=24.88, sensor_height_mm=13.99, image_width=1920, image_height=1080)
    frames = []
    for i in range(2):
        pose = buffer.state_at(10**12 + i * 41_708_333 + 20_000_000)
        assert pose is not None
        state = calibration.camera_state(pose)
        assert state.distortion == EXPECTED
        tracked = TrackedCamera(name="A", state=state, pose=pose, tracking_lost=False, age_ms=3.5, priority=2,
                                active=True, on_wall=True)
        record = camera_record(tracked, "otio")
        assert record.calibrated is not None and record.calibrated.distortion == EXPECTED
        frames.append(FrameRecord(frame=100 + i, timecode=f"01:00:00:{i:02d}", timecode_frames=86400 + i, rate=RATE,
                                  monotonic_ns=10**12 + i, cameras=(record,)))
    # the takes database
    db = tmp_path / "takes.sqlite"
    with TakeRecorder(db) as recorder:
        recorder.start_take("D001", rate=RATE)
        for frame in frames:
            assert recorder.record(frame)
        recorder.stop_take()
    with TakeLibrary(db) as library:
        stored = library.frames("D001_T01")
        assert stored == frames
        assert stored[0].cameras[0].calibrated.distortion == EXPECTED  # type: ignore[union-attr]
        paths = {fmt: export_take(library, "D001_T01", fmt, tmp_path / f"take.{suffix}")
                 for fmt, suffix in (("csv", "csv"), ("json", "json"), ("opentrackio", "jsonl"), ("usd", "usda"))}
    # CSV: one column per value
    row = next(csv.DictReader(paths["csv"].open(newline="")))
    assert tuple(float(row[f"camera/A/k{n}"]) for n in range(1, 7)) == EXPECTED.radial
    assert (float(row["camera/A/p1"]), float(row["camera/A/p2"])) == EXPECTED.tangential
    assert row["camera/A/distortion_model"] == EXPECTED.model
    assert float(row["camera/A/distortion_overscan"]) == EXPECTED.overscan
    assert (float(row["camera/A/distortion_offset_x[mm]"]),
            float(row["camera/A/distortion_offset_y[mm]"])) == EXPECTED.offset_mm
    assert (row["camera/A/priority"], row["camera/A/active"], row["camera/A/on_wall"]) == ("2", "1", "1")
    # JSON: the whole record, read back exactly
    doc = json.loads(paths["json"].read_text())
    assert doc["frames"][0]["cameras"][0]["calibrated"]["distortion"] == EXPECTED.to_dict()
    assert [FrameRecord.from_dict(f) for f in doc["frames"]] == frames
    # OpenTrackIO: our decoder reads the exported sample's distortion back whole
    lines = paths["opentrackio"].read_text().splitlines()
    assert len(lines) == 2
    back = otio.parse_sample_payload(lines[0].encode(), otio.ENCODING_JSON, "file", 0)
    assert back is not None and back.distortion == EXPECTED
    # USD: the extras
    pytest.importorskip("pxr", reason="usd-core is needed for the USD export")
    from pxr import Usd

    usd = Usd.Stage.Open(str(paths["usd"]))
    prim = usd.GetPrimAtPath("/Take/A")
    t = Usd.TimeCode(86400)
    assert prim.GetAttribute("vpstage:distortionModel").Get(t) == EXPECTED.model
    assert tuple(prim.GetAttribute("vpstage:distortionRadial").Get(t)) == EXPECTED.radial
    assert tuple(prim.GetAttribute("vpstage:distortionTangential").Get(t)) == EXPECTED.tangential
    assert prim.GetAttribute("vpstage:distortionOverscan").Get(t) == EXPECTED.overscan
    assert tuple(prim.GetAttribute("vpstage:distortionOffset").Get(t)) == EXPECTED.offset_mm
