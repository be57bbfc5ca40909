"""OpenTrackIO sample documents (JSON or CBOR) to and from ``CameraSample``.

Reading (protocol reference §2.4): every field is optional, unknown keys are ignored, but a
document must be a JSON/CBOR object carrying at least one OpenTrackIO top-level key, and if it
names its protocol the name must be "OpenTrackIO". Values of known fields must have the right
type and be finite; otherwise the whole document is refused (``ParseError``), because a camera
pose built from half a sample is worse than holding the last one.

* ``transforms``: composed in list order (each is relative to the one before), the last being the
  camera sensor relative to the stage origin; translation in metres, rotation as pan/tilt/roll
  degrees (intrinsic Z, X, Y, the same convention as FreeD), optional per-axis ``scale``.
* ``lens``: ``pinholeFocalLength`` mm, ``focusDistance`` m, ``fStop``, ``tStop``,
  ``entrancePupilOffset`` m, ``encoders`` 0..1, ``rawEncoders`` counts, ``projectionOffset`` mm,
  and the distortion kept whole (:class:`~vpstage.tracking.distortion.LensDistortion`): of the
  ``distortion`` entries, the first whose model is a Brown-Conrady one (``U-D`` or ``D-U``; an
  entry naming no model is OpenTrackIO's default ``D-U``), else the first entry; its model name,
  up to six radial (k1..k6) and two tangential (p1, p2) coefficients and ``overscan``, with the
  lens's ``distortionOffset`` (mm). A chosen entry with more coefficients than Brown-Conrady has is
  refused (``bad_value``); so is a list that is not a list of objects.
* ``timing``: ``sampleTimestamp`` (PTP seconds + nanoseconds), ``sequenceNumber``, ``sampleRate``,
  ``timecode``. ``static.camera.activeSensorPhysicalDimensions`` (mm), ``tracker.status``.

Writing produces a full sample (version 1.0.1) that this module reads back to an equal
``CameraSample``: the takes exporter and the simulator use it.
"""

from __future__ import annotations

import json
import uuid
from fractions import Fraction
from typing import Any

import cbor2

from vpstage.protocols.opentrackio.fields import (
    composed_pose,
    fraction,
    integer,
    number,
    obj,
    timecode,
)
from vpstage.protocols.opentrackio.packet import (
    DEFAULT_MTU,
    ENCODING_CBOR,
    ENCODING_JSON,
    ParseError,
    write_segments,
)
from vpstage.tracking.distortion import DEFAULT_MODEL, KNOWN_MODELS, MAX_MODEL_NAME, LensDistortion
from vpstage.tracking.sample import CameraSample

PROTOCOL_NAME = "OpenTrackIO"
PROTOCOL_VERSION = (1, 0, 1)
MAX_SOURCE_ID_LENGTH = 256
"""A ``sourceId`` (a URN, ~45 characters) becomes the camera id: longer ones are refused (``bad_value``)."""
TOP_LEVEL_KEYS = frozenset({
    "protocol", "sampleId", "sourceId", "sourceNumber", "relatedSampleIds", "tracker", "timing",
    "transforms", "lens", "globalStage", "static", "custom",
})


def decode_payload(payload: bytes, encoding: int) -> dict[str, Any]:
    """JSON or CBOR bytes -> a document (dict). Raises ParseError (encoding, payload, not_a_sample)."""
    try:
        if encoding == ENCODING_JSON:
            doc = json.loads(payload.decode("utf-8"))
        elif encoding == ENCODING_CBOR:
            doc = cbor2.loads(payload)
        else:
            raise ParseError(f"unsupported payload encoding 0x{encoding:02X}", "encoding")
    except ParseError:
        raise
    except Exception as exc:  # untrusted bytes: any decoder failure (incl. recursion, overflow) is bad input
        raise ParseError(f"undecodable payload: {type(exc).__name__}", "payload") from exc
    if not isinstance(doc, dict) or not doc or not TOP_LEVEL_KEYS.intersection(doc):
        raise ParseError("payload is not an OpenTrackIO sample object", "not_a_sample")
    protocol = obj(doc, "protocol")
    if protocol is not None and protocol.get("name", PROTOCOL_NAME) != PROTOCOL_NAME:
        raise ParseError(f"protocol name {protocol.get('name')!r} is not OpenTrackIO", "not_a_sample")
    return doc


def _camera_id(doc: dict[str, Any]) -> int | str:
    number_ = integer(doc, "sourceNumber", 0, 255)
    if number_ is not None:
        return number_
    source_id = doc.get("sourceId")
    if source_id is None:
        return 0
    if not isinstance(source_id, str):
        raise ParseError("sourceId must be a string", "bad_value")
    if len(source_id) > MAX_SOURCE_ID_LENGTH:
        raise ParseError(f"sourceId longer than {MAX_SOURCE_ID_LENGTH} characters", "bad_value")
    return source_id


def _lens_fields(doc: dict[str, Any]) -> dict[str, Any]:
    lens = obj(doc, "lens") or {}
    out: dict[str, Any] = {
        # 1.0.x samples name it pinholeFocalLength; some camdkit revisions wrote focalLength
        "focal_length_mm": number(lens, "pinholeFocalLength") or number(lens, "focalLength"),
        "focus_distance_m": number(lens, "focusDistance"),
        "f_stop": number(lens, "fStop"),
        "t_stop": number(lens, "tStop"),
        "entrance_pupil_m": number(lens, "entrancePupilOffset"),
    }
    encoders = obj(lens, "encoders") or {}
    raw = obj(lens, "rawEncoders") or {}
    for name in ("focus", "iris", "zoom"):
        out[f"{name}_norm"] = number(encoders, name)
        out[f"{name}_raw"] = integer(raw, name, 0)
    offset = obj(lens, "projectionOffset")
    if offset is not None:
        out["projection_offset_mm"] = (number(offset, "x") or 0.0, number(offset, "y") or 0.0)
    out["distortion"] = _distortion(lens)
    return out


def _distortion(lens: dict[str, Any]) -> LensDistortion | None:
    entries = lens.get("distortion")
    if entries is None:
        return None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ParseError("lens.distortion must be a non-empty list of objects", "bad_value")
    models = [_model_name(entry, i) for i, entry in enumerate(entries)]
    index = next((i for i, model in enumerate(models) if model in KNOWN_MODELS), 0)
    entry = entries[index]
    radial, tangential = (_coefficients(entry, key, index) for key in ("radial", "tangential"))
    overscan = number(entry, "overscan")
    if overscan is not None and overscan <= 0:
        raise ParseError(f"lens.distortion[{index}].overscan must be positive", "bad_value")
    offset = obj(lens, "distortionOffset")
    offset_mm = (0.0, 0.0) if offset is None else (number(offset, "x") or 0.0, number(offset, "y") or 0.0)
    try:
        return LensDistortion.from_coefficients(radial, tangential, models[index],
                                                1.0 if overscan is None else overscan, offset_mm)
    except ValueError as exc:
        raise ParseError(f"lens.distortion[{index}]: {exc}", "bad_value") from exc


def _model_name(entry: dict[str, Any], index: int) -> str:
    model = entry.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model or len(model) > MAX_MODEL_NAME:
        raise ParseError(f"lens.distortion[{index}].model must be a name of 1..{MAX_MODEL_NAME} characters",
                         "bad_value")
    return model


def _coefficients(entry: dict[str, Any], key: str, index: int) -> list[float]:
    values = entry.get(key, [])
    if not isinstance(values, list):
        raise ParseError(f"lens.distortion[{index}].{key} must be a list", "bad_value")
    picked = [number({key: v}, key) for v in values]
    return [v if v is not None else 0.0 for v in picked]


def _timing_fields(doc: dict[str, Any]) -> dict[str, Any]:
    timing = obj(doc, "timing") or {}
    out: dict[str, Any] = {
        "sequence": integer(timing, "sequenceNumber", 0),
        "sample_rate": fraction(timing, "sampleRate"),
        "timecode": timecode(timing),
    }
    stamp = obj(timing, "sampleTimestamp")
    if stamp is not None:
        seconds = integer(stamp, "seconds", 0, (1 << 48) - 1) or 0
        nanos = integer(stamp, "nanoseconds", 0, 999_999_999) or 0
        out["source_time_ns"] = seconds * 1_000_000_000 + nanos
    return out


def _static_fields(doc: dict[str, Any]) -> dict[str, Any]:
    camera = obj(obj(doc, "static") or {}, "camera") or {}
    dims = obj(camera, "activeSensorPhysicalDimensions")
    if dims is None:
        return {}
    width, height = number(dims, "width"), number(dims, "height")
    return {"sensor_size_mm": (width, height)} if width and height else {}


def sample_from_document(doc: dict[str, Any], source: str, arrival_ns: int) -> CameraSample | None:
    """Build a CameraSample; ``None`` when the document carries no transforms (no pose).

    Raises ParseError (bad_value, non_finite) when a known field has the wrong type or value.
    """
    fields: dict[str, Any] = {**_lens_fields(doc), **_timing_fields(doc), **_static_fields(doc)}
    tracker = obj(doc, "tracker") or {}
    status = tracker.get("status")
    fields["status"] = status if isinstance(status, str) else None
    camera_id = _camera_id(doc)
    pose = composed_pose(doc.get("transforms"))
    if pose is None:
        return None
    x, y, z, pan, tilt, roll = pose
    return CameraSample(protocol="opentrackio", source=source, camera_id=camera_id, arrival_ns=arrival_ns, x_m=x, y_m=y,
                        z_m=z, pan_deg=pan, tilt_deg=tilt, roll_deg=roll, **fields)


def document_from_sample(sample: CameraSample, source_id: str | None = None,
                         sample_id: str | None = None) -> dict[str, Any]:
    """A full OpenTrackIO 1.0.1 document for ``sample`` (pose as a single "Camera" transform)."""
    doc: dict[str, Any] = {
        "protocol": {"name": PROTOCOL_NAME, "version": list(PROTOCOL_VERSION)},
        "sampleId": sample_id or uuid.uuid4().urn,
        "transforms": [{"id": "Camera",
                        "translation": {"x": sample.x_m, "y": sample.y_m, "z": sample.z_m},
                        "rotation": {"pan": sample.pan_deg, "tilt": sample.tilt_deg, "roll": sample.roll_deg}}],
    }
    if source_id is not None:
        doc["sourceId"] = source_id
    if isinstance(sample.camera_id, int):
        doc["sourceNumber"] = sample.camera_id
    elif source_id is None:
        doc["sourceId"] = sample.camera_id
    if sample.status is not None:
        doc["tracker"] = {"status": sample.status}
    timing = _timing_document(sample)
    if timing:
        doc["timing"] = timing
    lens = _lens_document(sample)
    if lens:
        doc["lens"] = lens
    if sample.sensor_size_mm is not None:
        width, height = sample.sensor_size_mm
        doc["static"] = {"camera": {"activeSensorPhysicalDimensions": {"width": width, "height": height}}}
    return doc


def _rational(value: Fraction) -> dict[str, int]:
    return {"num": value.numerator, "denom": value.denominator}


def _timing_document(sample: CameraSample) -> dict[str, Any]:
    timing: dict[str, Any] = {"mode": "internal" if sample.source_time_ns is not None else "external"}
    if sample.source_time_ns is not None:
        seconds, nanos = divmod(sample.source_time_ns, 1_000_000_000)
        timing["sampleTimestamp"] = {"seconds": seconds, "nanoseconds": nanos}
    if sample.sequence is not None:
        timing["sequenceNumber"] = sample.sequence
    if sample.sample_rate is not None:
        timing["sampleRate"] = _rational(sample.sample_rate)
    tc = sample.timecode
    if tc is not None:
        timing["timecode"] = {"hours": tc.hours, "minutes": tc.minutes, "seconds": tc.seconds,
                              "frames": tc.frames, "frameRate": _rational(tc.rate),
                              "dropFrame": tc.drop_frame, "subFrame": tc.sub_frame}
    return timing


def _lens_document(sample: CameraSample) -> dict[str, Any]:
    lens: dict[str, Any] = {}
    for key, value in (("pinholeFocalLength", sample.focal_length_mm), ("focusDistance", sample.focus_distance_m),
                       ("fStop", sample.f_stop), ("tStop", sample.t_stop),
                       ("entrancePupilOffset", sample.entrance_pupil_m)):
        if value is not None:
            lens[key] = value
    encoders = {n: v for n, v in (("focus", sample.focus_norm), ("iris", sample.iris_norm),
                                  ("zoom", sample.zoom_norm)) if v is not None}
    raw = {n: v for n, v in (("focus", sample.focus_raw), ("iris", sample.iris_raw),
                             ("zoom", sample.zoom_raw)) if v is not None}
    if encoders:
        lens["encoders"] = encoders
    if raw:
        lens["rawEncoders"] = raw
    if sample.distortion is not None:
        distortion = LensDistortion.coerce(sample.distortion)
        lens["distortion"] = [{"model": distortion.model, "radial": list(distortion.radial),
                               "tangential": list(distortion.tangential), "overscan": distortion.overscan}]
        if any(distortion.offset_mm):
            lens["distortionOffset"] = {"x": distortion.offset_mm[0], "y": distortion.offset_mm[1]}
    if sample.projection_offset_mm is not None:
        lens["projectionOffset"] = {"x": sample.projection_offset_mm[0], "y": sample.projection_offset_mm[1]}
    return lens


def encode_document(doc: dict[str, Any], encoding: int = ENCODING_JSON) -> bytes:
    """Document -> payload bytes (compact JSON, or CBOR). NaN/inf raise ValueError."""
    if encoding == ENCODING_JSON:
        return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")
    if encoding == ENCODING_CBOR:
        return bytes(cbor2.dumps(doc))
    raise ValueError(f"unsupported encoding 0x{encoding:02X}")


def write_sample_packets(sample: CameraSample, sequence: int, encoding: int = ENCODING_JSON,
                         mtu: int = DEFAULT_MTU, source_id: str | None = None) -> list[bytes]:
    """A sample as ready-to-send datagrams (segmented when the payload exceeds the MTU)."""
    payload = encode_document(document_from_sample(sample, source_id=source_id), encoding)
    return write_segments(payload, encoding, sequence & 0xFFFF, mtu)


def parse_sample_payload(payload: bytes, encoding: int, source: str, arrival_ns: int) -> CameraSample | None:
    """``decode_payload`` then ``sample_from_document``."""
    return sample_from_document(decode_payload(payload, encoding), source, arrival_ns)
