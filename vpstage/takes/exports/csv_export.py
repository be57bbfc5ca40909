"""CSV export: one row per frame, one group of columns per camera, node and scene asset.

Column names are ``frame``, ``timecode``, ``timecode_frames``, ``rate`` (N/D), ``monotonic[ns]``,
then ``camera/<name>/<field>``, ``node/<name>/<field>`` and ``scene/<name>/<field>`` (fields in
:data:`CAMERA_COLUMNS`, :data:`NODE_COLUMNS`, :data:`SCENE_COLUMNS`); a unit in brackets ends the
name when the value has one (``camera/A/eye_x[m]``). Names never contain ``/`` (project names
use letters, digits, ``_ - .``), so ``split("/")`` parses a header. Empty cell: no value (the camera
had no sample, the lens sends no focus, ...). Booleans are ``1``/``0``. Floats are written in
shortest round-trip form, so ``float(cell)`` gives back the recorded value exactly.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vpstage.config import atomic_write_text
from vpstage.takes.exports.registry import TakeExport, export_format
from vpstage.takes.frame_records import (
    CalibratedCameraState,
    CameraRecord,
    FrameRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
    format_rate_nd,
)

Column = tuple[str, Callable[[Any], object]]


def _raw(get: Callable[[RawCameraState], object]) -> Callable[[CameraRecord], object]:
    return lambda c: None if c.raw is None else get(c.raw)


def _cal(get: Callable[[CalibratedCameraState], object]) -> Callable[[CameraRecord], object]:
    return lambda c: None if c.calibrated is None else get(c.calibrated)


@functools.lru_cache(maxsize=4)
def _pan_tilt_roll(cal: CalibratedCameraState) -> tuple[float, float, float]:
    return cal.pan_tilt_roll()  # cached: the three angle columns of a row share one conversion


def _angle(index: int) -> Callable[[CameraRecord], object]:
    return _cal(lambda s: _pan_tilt_roll(s)[index])


FRAME_COLUMNS: list[Column] = [
    ("frame", lambda f: f.frame), ("timecode", lambda f: f.timecode), ("timecode_frames", lambda f: f.timecode_frames),
    ("rate", lambda f: format_rate_nd(f.rate)), ("monotonic[ns]", lambda f: f.monotonic_ns),
]

CAMERA_COLUMNS: list[Column] = [
    ("tracking_age[ms]", lambda c: c.tracking_age_ms),
    ("protocol", _raw(lambda r: r.protocol)), ("source", _raw(lambda r: r.source)),
    ("raw_x[m]", _raw(lambda r: r.x_m)), ("raw_y[m]", _raw(lambda r: r.y_m)), ("raw_z[m]", _raw(lambda r: r.z_m)),
    ("raw_pan[deg]", _raw(lambda r: r.pan_deg)), ("raw_tilt[deg]", _raw(lambda r: r.tilt_deg)),
    ("raw_roll[deg]", _raw(lambda r: r.roll_deg)), ("raw_focus", _raw(lambda r: r.encoder("focus"))),
    ("raw_iris", _raw(lambda r: r.encoder("iris"))), ("raw_zoom", _raw(lambda r: r.encoder("zoom"))),
    ("eye_x[m]", _cal(lambda s: s.eye_m[0])), ("eye_y[m]", _cal(lambda s: s.eye_m[1])),
    ("eye_z[m]", _cal(lambda s: s.eye_m[2])),
    ("rot_w", _cal(lambda s: s.rotation_wxyz[0])), ("rot_x", _cal(lambda s: s.rotation_wxyz[1])),
    ("rot_y", _cal(lambda s: s.rotation_wxyz[2])), ("rot_z", _cal(lambda s: s.rotation_wxyz[3])),
    ("pan[deg]", _angle(0)), ("tilt[deg]", _angle(1)), ("roll[deg]", _angle(2)),
    ("focal_length[mm]", _cal(lambda s: s.focal_length_mm)), ("focus_distance[m]", _cal(lambda s: s.focus_distance_m)),
    ("f_stop", _cal(lambda s: s.f_stop)), ("sensor_width[mm]", _cal(lambda s: s.sensor_width_mm)),
    ("sensor_height[mm]", _cal(lambda s: s.sensor_height_mm)), ("image_width[px]", _cal(lambda s: s.image_width)),
    ("image_height[px]", _cal(lambda s: s.image_height)),
    ("principal_offset_x[mm]", _cal(lambda s: s.principal_offset_mm[0])),
    ("principal_offset_y[mm]", _cal(lambda s: s.principal_offset_mm[1])),
    ("k1", _cal(lambda s: s.distortion.radial[0])), ("k2", _cal(lambda s: s.distortion.radial[1])),
    ("p1", _cal(lambda s: s.distortion.tangential[0])), ("p2", _cal(lambda s: s.distortion.tangential[1])),
    ("entrance_pupil_offset[m]", _cal(lambda s: s.entrance_pupil_offset_m)),
    ("k3", _cal(lambda s: s.distortion.radial[2])), ("k4", _cal(lambda s: s.distortion.radial[3])),
    ("k5", _cal(lambda s: s.distortion.radial[4])), ("k6", _cal(lambda s: s.distortion.radial[5])),
    ("distortion_model", _cal(lambda s: s.distortion.model)),
    ("distortion_overscan", _cal(lambda s: s.distortion.overscan)),
    ("distortion_offset_x[mm]", _cal(lambda s: s.distortion.offset_mm[0])),
    ("distortion_offset_y[mm]", _cal(lambda s: s.distortion.offset_mm[1])),
    ("priority", lambda c: c.priority), ("active", lambda c: c.active), ("on_wall", lambda c: c.on_wall),
    ("interleave_every", lambda c: None if c.interleave is None else c.interleave[0]),
    ("interleave_phase", lambda c: None if c.interleave is None else c.interleave[1]),
]
"""Per camera. ``raw_*``: tracker frame as received; the rest: calibrated, stage frame (Z up);
``rot_*``: OpenCV-camera -> stage quaternion; ``pan/tilt/roll``: the same orientation as angles;
``k1``..``k6``, ``p1``, ``p2``, ``distortion_*``: the lens distortion as recorded (model name,
overscan factor, centre offset in mm with +y up); ``priority``, ``active``, ``on_wall``,
``interleave_*``: how the camera's inner frustum was layered (empty for older takes). Columns
added later come after the ones before them, so older readers keep their positions."""

NODE_COLUMNS: list[Column] = [
    ("plan[ms]", lambda n: n.plan_ms), ("render[ms]", lambda n: n.render_ms),
    ("present[ms]", lambda n: n.present_ms), ("late", lambda n: n.late), ("dropped", lambda n: n.dropped),
]

SCENE_COLUMNS: list[Column] = [
    ("content_hash", lambda s: s.content_hash), ("enabled", lambda s: s.enabled),
    ("translation_x", lambda s: s.translation[0]), ("translation_y", lambda s: s.translation[1]),
    ("translation_z", lambda s: s.translation[2]), ("yaw[deg]", lambda s: s.yaw_deg),
    ("pitch[deg]", lambda s: s.pitch_deg), ("roll[deg]", lambda s: s.roll_deg), ("scale", lambda s: s.scale),
]
"""Per scene asset: stage -> scene placement (translation in scene units) and content hash."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(value)


def _group(frame: FrameRecord, kind: str, name: str) -> CameraRecord | NodeTiming | SceneAssetState | None:
    items: tuple[Any, ...] = {"camera": frame.cameras, "node": frame.nodes, "scene": frame.scene}[kind]
    key = {"camera": "camera", "node": "node", "scene": "name"}[kind]
    return next((item for item in items if getattr(item, key) == name), None)


def take_csv(export: TakeExport) -> str:
    """The CSV text of a take (see the module docstring for the columns)."""
    frames = export.frames
    groups = [("camera", name, CAMERA_COLUMNS) for name in dict.fromkeys(c.camera for f in frames for c in f.cameras)]
    groups += [("node", name, NODE_COLUMNS) for name in dict.fromkeys(n.node for f in frames for n in f.nodes)]
    groups += [("scene", name, SCENE_COLUMNS) for name in dict.fromkeys(s.name for f in frames for s in f.scene)]
    header = [name for name, _ in FRAME_COLUMNS]
    header += [f"{kind}/{name}/{column}" for kind, name, columns in groups for column, _ in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for frame in export.reporting(frames):
        row = [_cell(get(frame)) for _, get in FRAME_COLUMNS]
        for kind, name, columns in groups:
            item = _group(frame, kind, name)
            row += [_cell(None if item is None else get(item)) for _, get in columns]
        writer.writerow(row)
    return out.getvalue()


@export_format("csv", suffix=".csv", description="one row per frame; cameras, nodes, scene assets as column groups")
def write_csv(export: TakeExport, path: Path) -> None:
    atomic_write_text(path, take_csv(export), backup=False)
