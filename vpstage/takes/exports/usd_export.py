"""USD camera track for DCC tools (usd-core / ``pxr``).

One ``UsdGeom.Camera`` per tracked camera under ``/Take``, with time samples per recorded frame:

* stage metadata: ``upAxis = Z``, ``metersPerUnit = 1`` (the stage frame: metres, Z up),
  ``timeCodesPerSecond = framesPerSecond = `` the take's rate; the time code of a frame is its
  timecode frame count (``FrameRecord.timecode_frames``), so the DCC timeline's frame numbers
  line up with the plate's timecode;
* transform: one matrix op, camera -> stage. USD cameras look down their local -Z with +Y up;
  the recorded OpenCV camera (+Z forward, +Y down) is turned into that by flipping Y and Z;
* lens and filmback: USD measures ``focalLength``, ``horizontalAperture``, ``verticalAperture`` and
  the aperture offsets in *tenths of a scene unit*; with metres as the unit, 1 mm is 0.01. So a
  35 mm lens is authored as 0.35 (field of view and every ratio come out as in millimetres).
  ``focusDistance`` is in scene units (metres); ``fStop`` is unitless;
* extras (namespace ``vpstage:``): ``distortion`` (k1, k2, p1, p2, as before),
  ``distortionModel`` (``Brown-Conrady U-D`` / ``D-U`` / as the sender named it),
  ``distortionRadial`` (k1..k6), ``distortionTangential`` (p1, p2), ``distortionOverscan``,
  ``distortionOffset`` (mm on the sensor, +y up), ``entrancePupilOffset`` (m), all time-sampled;
  the take's slate, name, timecodes and stage hash are in the layer's ``customLayerData``.

The file is written through a temporary file and renamed (atomic); ``.usda`` is text, ``.usdc``
and ``.usd`` are binary crate files.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from vpstage.config import atomic_write_bytes
from vpstage.takes.exports.registry import ExportError, TakeExport, export_format
from vpstage.takes.frame_records import CalibratedCameraState, format_rate_nd

METERS_PER_UNIT = 1.0
LENS_UNITS_PER_MM = 0.001 / METERS_PER_UNIT * 10.0
"""USD lens/filmback values are tenths of a scene unit: mm -> that unit."""
CV_TO_USD_CAMERA = np.diag([1.0, -1.0, -1.0])
"""Axes of the USD camera (x right, y up, z backward) in the OpenCV camera frame."""
CLIPPING_RANGE_M = (0.01, 10000.0)
USD_SUFFIXES = (".usda", ".usdc", ".usd")


def usd_camera_matrix(cal: CalibratedCameraState) -> np.ndarray:
    """4x4 USD-camera -> stage transform (column vectors; USD stores the transpose)."""
    m = np.eye(4)
    m[:3, :3] = cal.rotation_matrix() @ CV_TO_USD_CAMERA
    m[:3, 3] = cal.eye_m
    return m


def _prim_names(cameras: list[str]) -> dict[str, str]:
    from pxr import Tf

    names: dict[str, str] = {}
    for camera in cameras:
        base = Tf.MakeValidIdentifier(camera)
        name, n = base, 1
        while name in names.values():
            n += 1
            name = f"{base}_{n}"
        names[camera] = name
    return names


def _layer_data(export: TakeExport) -> dict[str, Any]:
    take = export.take
    data = {"vpstage:take": take.name, "vpstage:slate": take.slate, "vpstage:takeNumber": take.take_number,
            "vpstage:rate": format_rate_nd(take.rate), "vpstage:takeUuid": take.uuid,
            "vpstage:timeCodes": "timecode frame count at the take rate"}
    optional = {"vpstage:startTimecode": take.start_timecode, "vpstage:endTimecode": take.end_timecode,
                "vpstage:stageHash": take.stage_hash, "vpstage:scene": take.scene or None}
    return {**data, **{k: v for k, v in optional.items() if v is not None}}


def build_stage(export: TakeExport) -> Any:
    """The in-memory ``Usd.Stage`` of a take's camera track."""
    from pxr import Gf, Sdf, Usd, UsdGeom

    frames = export.frames
    if not frames:
        raise ExportError(f"take {export.take.name} has no frames to export")
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, METERS_PER_UNIT)
    rate = float(export.take.rate)
    stage.SetTimeCodesPerSecond(rate)
    stage.SetFramesPerSecond(rate)
    stage.SetStartTimeCode(frames[0].timecode_frames)
    stage.SetEndTimeCode(frames[-1].timecode_frames)
    layer = stage.GetRootLayer()
    layer.customLayerData = _layer_data(export)
    stage.SetDefaultPrim(UsdGeom.Xform.Define(stage, "/Take").GetPrim())
    prims = _prim_names(list(dict.fromkeys(c.camera for f in frames for c in f.cameras)))
    for index, (camera, prim_name) in enumerate(prims.items()):
        attrs = _define_camera(stage, f"/Take/{prim_name}", camera)
        # Time samples go straight into the layer inside one change block: one recomposition, not
        # one per value (about 10x faster for long takes).
        with Sdf.ChangeBlock():
            for frame in export.reporting(frames, len(prims), index):
                record = frame.camera(camera)
                if record is None or record.calibrated is None:
                    continue  # no sample this frame: DCC tools interpolate between neighbours
                for path, value in _samples(record.calibrated, Gf, attrs):
                    layer.SetTimeSample(path, float(frame.timecode_frames), value)
    return stage


def _define_camera(stage: Any, path: str, camera: str) -> dict[str, Any]:
    """Create the camera prim and its attributes; their paths by role."""
    from pxr import Gf, Sdf, UsdGeom

    cam = UsdGeom.Camera.Define(stage, path)
    prim = cam.GetPrim()
    prim.SetCustomDataByKey("vpstage:camera", camera)
    cam.CreateClippingRangeAttr(Gf.Vec2f(*CLIPPING_RANGE_M))
    attrs = {"transform": cam.AddTransformOp().GetAttr(), "focal": cam.CreateFocalLengthAttr(),
             "h_aperture": cam.CreateHorizontalApertureAttr(), "v_aperture": cam.CreateVerticalApertureAttr(),
             "h_offset": cam.CreateHorizontalApertureOffsetAttr(), "v_offset": cam.CreateVerticalApertureOffsetAttr(),
             "focus": cam.CreateFocusDistanceAttr(), "f_stop": cam.CreateFStopAttr(),
             "distortion": prim.CreateAttribute("vpstage:distortion", Sdf.ValueTypeNames.Double4),
             "distortion_model": prim.CreateAttribute("vpstage:distortionModel", Sdf.ValueTypeNames.String),
             "radial": prim.CreateAttribute("vpstage:distortionRadial", Sdf.ValueTypeNames.DoubleArray),
             "tangential": prim.CreateAttribute("vpstage:distortionTangential", Sdf.ValueTypeNames.Double2),
             "overscan": prim.CreateAttribute("vpstage:distortionOverscan", Sdf.ValueTypeNames.Double),
             "distortion_offset": prim.CreateAttribute("vpstage:distortionOffset", Sdf.ValueTypeNames.Double2),
             "pupil": prim.CreateAttribute("vpstage:entrancePupilOffset", Sdf.ValueTypeNames.Double)}
    return {role: attr.GetPath() for role, attr in attrs.items()}


def _samples(cal: CalibratedCameraState, gf: Any, paths: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(attribute path, value) for one frame. A principal point right of / below the image centre is
    the USD film window moved left / up, hence the signs of the aperture offsets."""
    values: list[tuple[str, Any]] = [
        ("transform", gf.Matrix4d(usd_camera_matrix(cal).T.tolist())),
        ("focal", cal.focal_length_mm * LENS_UNITS_PER_MM),
        ("h_aperture", cal.sensor_width_mm * LENS_UNITS_PER_MM),
        ("v_aperture", cal.sensor_height_mm * LENS_UNITS_PER_MM),
        ("h_offset", -cal.principal_offset_mm[0] * LENS_UNITS_PER_MM),
        ("v_offset", cal.principal_offset_mm[1] * LENS_UNITS_PER_MM),
        ("distortion", gf.Vec4d(*cal.distortion.legacy)), ("distortion_model", cal.distortion.model),
        ("radial", _double_array(cal.distortion.radial)), ("tangential", gf.Vec2d(*cal.distortion.tangential)),
        ("overscan", cal.distortion.overscan), ("distortion_offset", gf.Vec2d(*cal.distortion.offset_mm)),
        ("pupil", cal.entrance_pupil_offset_m)]
    if cal.focus_distance_m is not None:
        values.append(("focus", cal.focus_distance_m / METERS_PER_UNIT))
    if cal.f_stop is not None:
        values.append(("f_stop", cal.f_stop))
    return [(paths[role], value) for role, value in values]


def _double_array(values: tuple[float, ...]) -> Any:
    from pxr import Vt

    return Vt.DoubleArray(list(values))


@export_format("usd", suffix=".usda", description="USD camera track (UsdGeom.Camera per camera, time-sampled)")
def write_usd(export: TakeExport, path: Path) -> None:
    if path.suffix.lower() not in USD_SUFFIXES:
        raise ExportError(f"{path}: a USD file name ends in {', '.join(USD_SUFFIXES)}")
    stage = build_stage(export)
    with tempfile.TemporaryDirectory(prefix="vpstage-usd-") as tmp:
        scratch = Path(tmp) / f"take{path.suffix.lower()}"
        if not stage.GetRootLayer().Export(str(scratch)):
            raise ExportError(f"{path}: USD could not write the layer")
        atomic_write_bytes(path, scratch.read_bytes(), backup=False)
