"""OpenTrackIO export: one OpenTrackIO 1.0.1 JSON sample per camera per frame, as JSON Lines.

Each line is a complete sample document written with the tracking codec's own writer
(``vpstage.protocols.opentrackio.document_from_sample``), so any OpenTrackIO reader (ours
included) can replay the move. What it describes is the **render camera** as recorded, in the
stage frame (metres, Z up, +Y toward the main wall), after alignment and lens profile:

* ``transforms``: one "Camera" transform, the sensor point (the entrance pupil moved back by
  ``entrancePupilOffset`` along the optical axis, as OpenTrackIO places the camera) with
  pan/tilt/roll of the calibrated orientation;
* ``lens``: ``pinholeFocalLength`` mm, ``focusDistance`` m, ``fStop``, ``entrancePupilOffset`` m,
  Brown-Conrady distortion, ``projectionOffset`` mm (OpenTrackIO's +y is up, the record's is
  down), and the tracker's raw encoder counts (``rawEncoders``) when they were integers;
* ``timing``: the frame's timecode, ``sequenceNumber`` = frame number, ``sampleRate`` = take rate;
* ``static.camera.activeSensorPhysicalDimensions`` (mm); ``sourceNumber`` = the camera's index in
  the take + 1 and ``sourceId`` a URN per take and camera; ``sampleId`` a URN per take, frame and
  camera (stable: exporting twice writes the same file). Frames in which a camera had no tracking
  sample have no line for it.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np

from vpstage.config import atomic_write_text
from vpstage.protocols.opentrackio import document_from_sample
from vpstage.takes.exports.registry import ExportError, TakeExport, export_format
from vpstage.takes.frame_records import CameraRecord, FrameRecord
from vpstage.timing.timecode import Timecode, TimecodeError
from vpstage.tracking.sample import CameraSample


def sample_timecode(frame: FrameRecord) -> Timecode | None:
    """The frame's SMPTE label as OpenTrackIO timing (None when it cannot be read)."""
    text = frame.timecode
    drop = ";" in text or "." in text or "," in text
    parts = text.replace(";", ":").replace(".", ":").replace(",", ":").split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds, frames = (int(p) for p in parts)
    try:
        return Timecode(hours=hours, minutes=minutes, seconds=seconds, frames=frames, rate=frame.rate, drop_frame=drop)
    except TimecodeError:  # a label that does not exist at the take's rate: exported without timing
        return None


def camera_sample(frame: FrameRecord, record: CameraRecord, number: int) -> CameraSample | None:
    """The calibrated camera of one record as a CameraSample in the stage frame (None: no sample)."""
    cal = record.calibrated
    if cal is None:
        return None
    forward = cal.rotation_matrix()[:, 2]
    sensor = np.asarray(cal.eye_m) - cal.entrance_pupil_offset_m * forward
    pan, tilt, roll = cal.pan_tilt_roll()
    raw = record.raw
    offset_x, offset_y = cal.principal_offset_mm
    return CameraSample(protocol="opentrackio", source="vpstage", camera_id=number, arrival_ns=frame.monotonic_ns,
                        x_m=float(sensor[0]), y_m=float(sensor[1]), z_m=float(sensor[2]), pan_deg=pan, tilt_deg=tilt,
                        roll_deg=roll, focus_raw=None if raw is None else raw.focus_raw,
                        iris_raw=None if raw is None else raw.iris_raw,
                        zoom_raw=None if raw is None else raw.zoom_raw,
                        focus_norm=None if raw is None else raw.focus_norm,
                        iris_norm=None if raw is None else raw.iris_norm,
                        zoom_norm=None if raw is None else raw.zoom_norm, focal_length_mm=cal.focal_length_mm,
                        focus_distance_m=cal.focus_distance_m, f_stop=cal.f_stop,
                        entrance_pupil_m=cal.entrance_pupil_offset_m, distortion=cal.distortion,
                        projection_offset_mm=(offset_x, -offset_y),
                        sensor_size_mm=(cal.sensor_width_mm, cal.sensor_height_mm), timecode=sample_timecode(frame),
                        sequence=frame.frame, sample_rate=frame.rate, status="recorded")


@export_format("opentrackio", suffix=".jsonl",
               description="OpenTrackIO 1.0.1 JSON samples, one line per camera per frame (stage frame)")
def write_opentrackio(export: TakeExport, path: Path) -> None:
    take = export.take
    cameras = list(dict.fromkeys(c.camera for f in export.frames for c in f.cameras))
    namespace = uuid.UUID(take.uuid)
    lines = []
    for frame in export.reporting(export.frames):
        for record in frame.cameras:
            number = cameras.index(record.camera) + 1
            sample = camera_sample(frame, record, number)
            if sample is None:
                continue
            source = uuid.uuid5(namespace, f"camera:{record.camera}").urn
            sample_id = uuid.uuid5(namespace, f"frame:{frame.frame}:camera:{record.camera}").urn
            doc = document_from_sample(sample, source_id=source, sample_id=sample_id)
            try:
                lines.append(json.dumps(doc, allow_nan=False, separators=(",", ":")))
            except ValueError as exc:
                raise ExportError(f"take {take.name} frame {frame.frame}: {exc}") from exc
    if len(cameras) > 255:
        raise ExportError(f"take {take.name}: {len(cameras)} cameras do not fit OpenTrackIO source numbers")
    atomic_write_text(path, "".join(line + "\n" for line in lines), backup=False)
