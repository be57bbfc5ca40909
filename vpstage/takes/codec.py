"""Compact binary encoding of frame records for the journal (record schema 4).

Each frame row stores its scalar fields as columns and the rest as two MessagePack arrays, fields
in a fixed order (positional, no key names: about half the bytes of keyed maps):

* frame payload: ``[cameras, nodes]``, (schema 3, only on frames with colour regions:) ``[cameras,
  nodes, regions]``
  - camera: ``[camera, raw | nil, calibrated | nil, tracking_age_ms | nil,`` (schema 2:)
    ``priority | nil, active | nil, on_wall | nil, interleave[2] | nil]``
  - raw: ``[protocol, source, x_m, y_m, z_m, pan_deg, tilt_deg, roll_deg, focus, iris, zoom,`` (schema
    4:) ``focus_norm, iris_norm, zoom_norm]``: from schema 4 ``focus``/``iris``/``zoom`` are raw
    encoder counts (integers) and the normalised values follow; before, each of the three held
    whichever the protocol sent (read back as a count when integral, else as a normalised value)
  - calibrated: ``[eye_m[3], rotation_wxyz[4], focal_length_mm, sensor_width_mm, sensor_height_mm,
    focus_distance_m, f_stop, image_width, image_height, principal_offset_mm[2],
    distortion[4] (k1, k2, p1, p2), entrance_pupil_offset_m,`` (schema 2:) ``distortion_model,
    distortion_k3_k6[4], distortion_overscan, distortion_offset_mm[2]]``
  - node: ``[node, plan_ms, render_ms, present_ms, late, dropped]``
  - region (an enabled colour region as the nodes applied it): ``[canvas, rect[4], feather_px,
    lift[3], gamma[3], gain[3], saturation]``
* scene payload (stored once per distinct scene state in ``scene_states``):
  ``[[name, content_hash, translation[3], yaw_deg, pitch_deg, roll_deg, scale, enabled], ...]``

Floats are written as float64, so every value reads back bit-exactly. Schema 2 only appended
fields at the end of arrays, so it stays compatible both ways: schema 1 rows (takes recorded
before) read with the new fields absent (distortion Brown-Conrady D-U with k3..k6 zero, overscan
1, no offset; priority, active, on-wall and interleave None), and a schema 1 reader ignores what
it does not know. Schema 3 appends the frame's colour regions the same way (a frame without any
is written exactly as in schema 2). Schema 4 appends the normalised encoder values to the raw
state. A later schema may append more the same way.
"""

from __future__ import annotations

from typing import Any

import msgpack

from vpstage.colour.grading import RegionGrade
from vpstage.takes.frame_records import (
    CalibratedCameraState,
    CameraRecord,
    NodeTiming,
    RawCameraState,
    SceneAssetState,
)
from vpstage.tracking.distortion import DEFAULT_MODEL, LensDistortion

RECORD_SCHEMA = 4


class RecordDecodeError(ValueError):
    """A stored payload that does not decode as a frame record (schema 1 to 4)."""


def _raw_row(raw: RawCameraState) -> list[Any]:
    return [raw.protocol, raw.source, raw.x_m, raw.y_m, raw.z_m, raw.pan_deg, raw.tilt_deg, raw.roll_deg,
            raw.focus_raw, raw.iris_raw, raw.zoom_raw, raw.focus_norm, raw.iris_norm, raw.zoom_norm]


def _calibrated_row(cal: CalibratedCameraState) -> list[Any]:
    d = cal.distortion
    return [cal.eye_m, cal.rotation_wxyz, cal.focal_length_mm, cal.sensor_width_mm, cal.sensor_height_mm,
            cal.focus_distance_m, cal.f_stop, cal.image_width, cal.image_height, cal.principal_offset_mm,
            d.legacy, cal.entrance_pupil_offset_m, d.model, d.radial[2:], d.overscan, d.offset_mm]


def _camera_row(cam: CameraRecord) -> list[Any]:
    return [cam.camera, None if cam.raw is None else _raw_row(cam.raw),
            None if cam.calibrated is None else _calibrated_row(cam.calibrated), cam.tracking_age_ms,
            cam.priority, cam.active, cam.on_wall, cam.interleave]


def _region_row(r: RegionGrade) -> list[Any]:
    return [r.canvas, r.rect, r.feather_px, r.lift, r.gamma, r.gain, r.saturation]


def _region_from_row(row: list[Any]) -> RegionGrade:
    canvas, rect, feather, lift, gamma, gain, saturation = row[:7]
    return RegionGrade(canvas=canvas, rect=_ints4(rect), feather_px=feather, lift=_floats3(lift),
                       gamma=_floats3(gamma), gain=_floats3(gain), saturation=saturation)


def _ints4(values: list[Any]) -> tuple[int, int, int, int]:
    a, b, c, d = (int(v) for v in values)
    return a, b, c, d


def _floats3(values: list[Any]) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return a, b, c


def pack_frame_payload(cameras: tuple[CameraRecord, ...], nodes: tuple[NodeTiming, ...],
                       regions: tuple[RegionGrade, ...] = ()) -> bytes:
    rows = [[_camera_row(c) for c in cameras],
            [[n.node, n.plan_ms, n.render_ms, n.present_ms, n.late, n.dropped] for n in nodes]]
    if regions:
        rows.append([_region_row(r) for r in regions])
    return msgpack.packb(rows, use_bin_type=True)  # type: ignore[no-any-return]


def pack_scene_payload(scene: tuple[SceneAssetState, ...]) -> bytes:
    rows = [[s.name, s.content_hash, s.translation, s.yaw_deg, s.pitch_deg, s.roll_deg, s.scale, s.enabled]
            for s in scene]
    return msgpack.packb(rows, use_bin_type=True)  # type: ignore[no-any-return]


def _raw_from_row(row: list[Any]) -> RawCameraState:
    protocol, source, x, y, z, pan, tilt, roll = row[:8]
    encoders = _encoders(row[8:11], row[11:14]) if len(row) >= 14 else _schema3_encoders(row[8:11])
    return RawCameraState(protocol=protocol, source=source, x_m=x, y_m=y, z_m=z, pan_deg=pan, tilt_deg=tilt,
                          roll_deg=roll, **encoders)


def _encoders(raw: list[Any], norm: list[Any]) -> dict[str, Any]:
    names = ("focus", "iris", "zoom")
    return {**{f"{n}_raw": None if v is None else int(v) for n, v in zip(names, raw, strict=True)},
            **{f"{n}_norm": v for n, v in zip(names, norm, strict=True)}}


def _schema3_encoders(values: list[Any]) -> dict[str, Any]:
    """Before schema 4 each encoder held what the protocol sent: a count (integral) or a
    normalised value."""
    raw = [v if v is not None and float(v).is_integer() else None for v in values]
    norm = [v if v is not None and not float(v).is_integer() else None for v in values]
    return _encoders(raw, norm)


def _node_from_row(row: list[Any]) -> NodeTiming:
    node, plan, render, present, late, dropped = row[:6]
    return NodeTiming(node=node, plan_ms=plan, render_ms=render, present_ms=present, late=late, dropped=dropped)


def _distortion_from_row(legacy: list[Any], extra: list[Any]) -> LensDistortion:
    """Schema 1 rows end after ``entrance_pupil_offset_m``: their (k1, k2, p1, p2) read as D-U."""
    k1, k2, p1, p2 = legacy
    model, high, overscan, offset = (extra + [DEFAULT_MODEL, (0.0, 0.0, 0.0, 0.0), 1.0, (0.0, 0.0)][len(extra):])[:4]
    k3, k4, k5, k6 = high
    return LensDistortion(model=model, radial=(k1, k2, k3, k4, k5, k6), tangential=(p1, p2), overscan=overscan,
                          offset_mm=(offset[0], offset[1]))


def _calibrated_from_row(row: list[Any]) -> CalibratedCameraState:
    eye, quat, focal, sw, sh, focus, fstop, iw, ih, principal, legacy, epo = row[:12]
    return CalibratedCameraState(eye_m=tuple(eye), rotation_wxyz=tuple(quat), focal_length_mm=focal, sensor_width_mm=sw,
                                 sensor_height_mm=sh, focus_distance_m=focus, f_stop=fstop, image_width=iw,
                                 image_height=ih, principal_offset_mm=tuple(principal),
                                 distortion=_distortion_from_row(legacy, list(row[12:16])), entrance_pupil_offset_m=epo)


def _camera_from_row(row: list[Any]) -> CameraRecord:
    name, raw, cal, age = row[:4]
    priority, active, on_wall, interleave = (list(row[4:8]) + [None] * 4)[:4]
    return CameraRecord(camera=name, raw=None if raw is None else _raw_from_row(raw),
                        calibrated=None if cal is None else _calibrated_from_row(cal), tracking_age_ms=age,
                        priority=priority, active=active, on_wall=on_wall,
                        interleave=None if interleave is None else (int(interleave[0]), int(interleave[1])))


FramePayload = tuple[tuple[CameraRecord, ...], tuple[NodeTiming, ...], tuple[RegionGrade, ...]]


def unpack_frame_payload(data: bytes) -> FramePayload:
    """(cameras, nodes, colour regions) of a stored frame (no regions before schema 3)."""
    try:
        cameras, nodes, *rest = msgpack.unpackb(data, raw=False)
        regions = tuple(_region_from_row(r) for r in rest[0]) if rest else ()
        return (tuple(_camera_from_row(c) for c in cameras), tuple(_node_from_row(n) for n in nodes), regions)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise RecordDecodeError(f"frame payload does not decode: {exc}") from exc


def unpack_scene_payload(data: bytes) -> tuple[SceneAssetState, ...]:
    try:
        return tuple(SceneAssetState(name=name, content_hash=digest, translation=tuple(t), yaw_deg=yaw, pitch_deg=pitch,
                                     roll_deg=roll, scale=scale, enabled=enabled)
                     for name, digest, t, yaw, pitch, roll, scale, enabled, *_ in msgpack.unpackb(data, raw=False))
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise RecordDecodeError(f"scene payload does not decode: {exc}") from exc
