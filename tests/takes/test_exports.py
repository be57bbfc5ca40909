"""Exports parse back: CSV (every column group), JSON (exact records), USD (read with pxr)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import STAGES
from tests.takes.synthetic import CAMERAS, NODES, RATE, make_frame, pose, record_take
from vpstage.stage import load_project
from vpstage.takes import FrameRecord, TakeLibrary, TakeRecorder
from vpstage.takes.exports import FORMATS, ExportError, export_take


def _frame(i: int) -> FrameRecord:
    return make_frame(i, missing=["B"] if i == 4 else [], late=["gpu3"] if i == 2 else [])


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[TakeLibrary, list[FrameRecord]]]:
    db = tmp_path / "takes.sqlite"
    project = load_project(STAGES / "flat_wall.yaml").project
    with TakeRecorder(db) as recorder:
        frames = record_take(recorder, "A001", 12, make=_frame, project=project, scene="12A")
    with TakeLibrary(db) as library:
        yield library, frames


def test_registered_formats() -> None:
    assert sorted(FORMATS) == ["csv", "json", "opentrackio", "usd"]


@pytest.mark.parametrize(("fmt", "passes"), [("csv", 1), ("json", 1), ("opentrackio", 1), ("usd", len(CAMERAS))])
def test_export_reports_progress_up_to_the_total(recorded: tuple[TakeLibrary, list[FrameRecord]], tmp_path: Path,
                                                 fmt: str, passes: int) -> None:
    if fmt == "usd":
        pytest.importorskip("pxr", reason="usd-core is needed for the USD export")
    library, frames = recorded
    seen: list[tuple[int, int]] = []
    export_take(library, "A001_T01", fmt, tmp_path / f"take.{fmt}",
                progress=lambda done, total: seen.append((done, total)))
    total = passes * len(frames)  # USD walks the frames once per camera
    assert seen == [(i, total) for i in range(1, total + 1)]


def test_csv_parses_back(recorded: tuple[TakeLibrary, list[FrameRecord]], tmp_path: Path) -> None:
    library, frames = recorded
    path = export_take(library, "A001_T01", "csv", tmp_path / "out" / "take.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header[:5] == ["frame", "timecode", "timecode_frames", "rate", "monotonic[ns]"]
    groups = {tuple(h.split("/")[:2]) for h in header[5:]}
    assert groups == {*(("camera", c) for c in CAMERAS), *(("node", n) for n in NODES),
                      ("scene", "city"), ("scene", "sky")}
    assert len(rows) == len(frames)
    for i, (row, frame) in enumerate(zip(rows, frames, strict=True)):
        assert (int(row["frame"]), row["timecode"], int(row["timecode_frames"]), row["rate"]) == (
            frame.frame, frame.timecode, frame.timecode_frames, "60/1")
        assert int(row["monotonic[ns]"]) == frame.monotonic_ns
        cam = frame.cameras[0]
        assert cam.calibrated is not None and cam.raw is not None
        assert [float(row[f"camera/A/eye_{a}[m]"]) for a in "xyz"] == list(cam.calibrated.eye_m)
        assert [float(row[f"camera/A/rot_{a}"]) for a in "wxyz"] == list(cam.calibrated.rotation_wxyz)
        assert float(row["camera/A/focal_length[mm]"]) == cam.calibrated.focal_length_mm
        assert float(row["camera/A/focus_distance[m]"]) == cam.calibrated.focus_distance_m
        d = cam.calibrated.distortion
        assert [float(row[f"camera/A/k{n}"]) for n in range(1, 7)] == list(d.radial)
        assert [float(row[f"camera/A/p{n}"]) for n in (1, 2)] == list(d.tangential)
        assert row["camera/A/distortion_model"] == d.model == "Brown-Conrady U-D"
        assert float(row["camera/A/distortion_overscan"]) == d.overscan
        assert [float(row[f"camera/A/distortion_offset_{a}[mm]"]) for a in "xy"] == list(d.offset_mm)
        assert row["camera/B/distortion_model"] == "Brown-Conrady D-U" or i == 4
        assert (row["camera/A/priority"], row["camera/A/active"], row["camera/A/on_wall"]) == (
            "2", "0" if i >= 6 else "1", "1" if i % 2 == 0 else "0")
        assert (row["camera/B/interleave_every"], row["camera/B/interleave_phase"]) == ("2", "1")
        assert float(row["camera/A/raw_focus"]) == cam.raw.focus_raw and row["camera/A/protocol"] == "freed"
        assert float(row["camera/A/tracking_age[ms]"]) == cam.tracking_age_ms
        _, pan, tilt, roll = pose("A", i)
        angles = [float(row[f"camera/A/{a}[deg]"]) for a in ("pan", "tilt", "roll")]
        assert angles == pytest.approx([pan, tilt, roll], abs=1e-9)
        assert float(row["node/gpu1/render[ms]"]) == frame.nodes[1].render_ms
        assert row["node/gpu3/late"] == ("1" if i == 2 else "0")
        assert row["scene/sky/enabled"] == ("0" if i % 50 == 0 else "1")
        assert row["scene/city/content_hash"] == "sha256:" + "ab" * 32
    missing = rows[4]
    assert missing["camera/B/eye_x[m]"] == "" and missing["camera/B/tracking_age[ms]"] == ""


def test_json_parses_back_exactly(recorded: tuple[TakeLibrary, list[FrameRecord]], tmp_path: Path) -> None:
    library, frames = recorded
    path = export_take(library, 1, "json", tmp_path / "take.json")
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["format_version"]) == ("vpstage-take", 2)
    take = library.get(1)
    assert doc["take"]["name"] == "A001_T01" and doc["take"]["rate"] == "60/1"
    assert doc["take"]["scene"] == "12A" and doc["take"]["end_timecode"] == frames[-1].timecode
    assert hashlib.sha256(doc["stage_config"]["yaml"].encode()).hexdigest() == doc["stage_config"]["sha256"]
    assert doc["stage_config"]["sha256"] == take.stage_hash
    assert [FrameRecord.from_dict(f) for f in doc["frames"]] == frames


def test_usd_camera_track(recorded: tuple[TakeLibrary, list[FrameRecord]], tmp_path: Path) -> None:
    pxr = pytest.importorskip("pxr", reason="usd-core is needed for the USD export")
    from pxr import Gf, Usd, UsdGeom

    library, frames = recorded
    path = export_take(library, "A001_T01", "usd", tmp_path / "take.usda")
    assert pxr is not None and not list(tmp_path.glob(".take.usda*"))  # no temporary left behind
    stage = Usd.Stage.Open(str(path))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert stage.GetTimeCodesPerSecond() == float(RATE) == stage.GetFramesPerSecond()
    assert (stage.GetStartTimeCode(), stage.GetEndTimeCode()) == (frames[0].timecode_frames,
                                                                  frames[-1].timecode_frames)
    assert stage.GetRootLayer().customLayerData["vpstage:take"] == "A001_T01"
    cam_b = UsdGeom.Camera(stage.GetPrimAtPath("/Take/B"))
    assert frames[4].timecode_frames not in cam_b.GetFocalLengthAttr().GetTimeSamples()  # no sample, no key
    cam = UsdGeom.Camera(stage.GetPrimAtPath("/Take/A"))
    for frame in frames:
        cal = frame.cameras[0].calibrated
        assert cal is not None
        t = Usd.TimeCode(frame.timecode_frames)
        assert cam.GetFocalLengthAttr().Get(t) == pytest.approx(cal.focal_length_mm / 100, rel=1e-6)
        assert cam.GetHorizontalApertureAttr().Get(t) == pytest.approx(cal.sensor_width_mm / 100, rel=1e-6)
        assert cam.GetFocusDistanceAttr().Get(t) == pytest.approx(cal.focus_distance_m, rel=1e-6)
        assert cam.GetFStopAttr().Get(t) == pytest.approx(2.8, rel=1e-6)
        world = np.array(cam.ComputeLocalToWorldTransform(t)).T  # USD stores row vectors
        state = cal.to_camera_state()
        np.testing.assert_allclose(world[:3, 3], cal.eye_m, atol=1e-12)
        np.testing.assert_allclose(world[:3, 2], -state.forward, atol=1e-12)  # USD cameras look down -Z
        # Project a point with USD's own camera model and with our OpenCV intrinsics: same pixel.
        frustum = cam.GetCamera(t).frustum
        point = state.eye + state.rotation @ np.array([0.4, -0.25, 3.5])
        clip = np.append(point, 1.0) @ np.array(frustum.ComputeViewMatrix()) @ np.array(
            frustum.ComputeProjectionMatrix())
        k = state.intrinsics()
        local = state.world_to_camera() @ np.append(point, 1.0)
        u, v = k.fx * local[0] / local[2] + k.cx, k.fy * local[1] / local[2] + k.cy
        np.testing.assert_allclose(clip[:2] / clip[3], [2 * u / k.width - 1, 1 - 2 * v / k.height], atol=1e-6)
        assert cam.GetCamera(t).GetFieldOfView(Gf.Camera.FOVHorizontal) == pytest.approx(
            state.fov_deg()[0], rel=1e-6)
    t3 = Usd.TimeCode(frames[3].timecode_frames)
    recorded_distortion = frames[3].cameras[0].calibrated.distortion  # type: ignore[union-attr]
    prim = cam.GetPrim()
    assert tuple(prim.GetAttribute("vpstage:distortion").Get(t3)) == recorded_distortion.legacy
    assert prim.GetAttribute("vpstage:distortionModel").Get(t3) == recorded_distortion.model
    assert tuple(prim.GetAttribute("vpstage:distortionRadial").Get(t3)) == recorded_distortion.radial
    assert tuple(prim.GetAttribute("vpstage:distortionTangential").Get(t3)) == recorded_distortion.tangential
    assert prim.GetAttribute("vpstage:distortionOverscan").Get(t3) == recorded_distortion.overscan
    assert tuple(prim.GetAttribute("vpstage:distortionOffset").Get(t3)) == recorded_distortion.offset_mm
    assert math.isclose(cam.GetClippingRangeAttr().Get()[0], 0.01, rel_tol=1e-6)


def test_usd_binary_and_bad_names(recorded: tuple[TakeLibrary, list[FrameRecord]], tmp_path: Path) -> None:
    pytest.importorskip("pxr", reason="usd-core is needed for the USD export")
    from pxr import Usd

    library, _ = recorded
    path = export_take(library, "A001_T01", "usd", tmp_path / "take.usdc")
    assert path.read_bytes()[:8] == b"PXR-USDC"
    assert Usd.Stage.Open(str(path)).GetPrimAtPath("/Take/A").IsValid()
    with pytest.raises(ExportError, match=r"ends in \.usda"):
        export_take(library, "A001_T01", "usd", tmp_path / "take.fbx")
    with pytest.raises(ExportError, match="unknown export format 'fbx'"):
        export_take(library, "A001_T01", "fbx", tmp_path / "take.fbx")


def test_export_of_an_empty_take_is_refused_for_usd(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite"
    with TakeRecorder(db) as recorder:
        recorder.start_take("E001", rate=make_frame(0).rate)
        recorder.stop_take()
    with TakeLibrary(db) as library:
        with pytest.raises(ExportError, match="no frames"):
            export_take(library, "E001_T01", "usd", tmp_path / "e.usda")
        csv_text = export_take(library, "E001_T01", "csv", tmp_path / "e.csv").read_text()
    assert csv_text.strip() == "frame,timecode,timecode_frames,rate,monotonic[ns]"
