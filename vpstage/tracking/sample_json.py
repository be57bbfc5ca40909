"""Samples as flat JSON records: what ``main.py track --jsonl`` prints and the simulator replays.

Values are as the tracker sent them (metres and degrees, before lens mapping and alignment).
Optional fields appear only when the sample has them, so a FreeD record carries ``zoom_raw`` and
``focus_raw`` and an OpenTrackIO record carries ``focal_length_mm`` / ``focus_distance_m`` when
they were sent.
"""

from __future__ import annotations

from typing import Any

from vpstage.tracking.distortion import LensDistortion
from vpstage.tracking.sample import CameraSample

_OPTIONAL = ("zoom_raw", "focus_raw", "iris_raw", "zoom_norm", "focus_norm", "iris_norm", "user_bits",
             "focal_length_mm", "focus_distance_m", "f_stop", "t_stop", "entrance_pupil_m", "sequence",
             "source_time_ns", "status")


def sample_record(sample: CameraSample, t0_ns: int | None = None) -> dict[str, Any]:
    """A JSON-ready dict. ``t_s`` is the arrival time in seconds after ``t0_ns`` (or the raw
    monotonic time when ``t0_ns`` is None)."""
    t = sample.arrival_ns - (t0_ns or 0)
    record: dict[str, Any] = {
        "protocol": sample.protocol, "source": sample.source, "camera_id": sample.camera_id,
        "t_s": round(t / 1e9, 9),
        "x_m": sample.x_m, "y_m": sample.y_m, "z_m": sample.z_m,
        "pan_deg": sample.pan_deg, "tilt_deg": sample.tilt_deg, "roll_deg": sample.roll_deg,
    }
    for name in _OPTIONAL:
        value = getattr(sample, name)
        if value is not None:
            record[name] = value
    if sample.distortion is not None:  # the whole model: {model, radial, tangential, overscan, offset_mm}
        record["distortion"] = LensDistortion.coerce(sample.distortion).to_dict()
    if sample.timecode is not None:
        record["timecode"] = str(sample.timecode)
    return record
