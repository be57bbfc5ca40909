"""Typed readers for untrusted OpenTrackIO document fields, and transform composition.

Each reader returns ``None`` when the key is absent and raises ParseError (``bad_value`` for a
wrong type or range, ``non_finite`` for NaN/inf) when it is present but unusable. Booleans are
not numbers here, even though Python treats them as ints.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from vpstage.geometry.rotations import body_rotation, pan_tilt_roll_from_rotation
from vpstage.protocols.opentrackio.packet import ParseError
from vpstage.timing.timecode import Timecode, TimecodeError

Pose = tuple[float, float, float, float, float, float]


def obj(container: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParseError(f"{key} must be an object", "bad_value")
    return value


def number(container: dict[str, Any], key: str) -> float | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{key} must be a number", "bad_value")
    try:
        result = float(value)
    except OverflowError as exc:  # an int too large for a float
        raise ParseError(f"{key} is out of range", "non_finite") from exc
    if not math.isfinite(result):
        raise ParseError(f"{key} is not finite", "non_finite")
    return result


def integer(container: dict[str, Any], key: str, low: int | None = None, high: int | None = None) -> int | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{key} must be an integer", "bad_value")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParseError(f"{key}={value} is out of range", "bad_value")
    return value


def fraction(container: dict[str, Any], key: str) -> Fraction | None:
    rate = obj(container, key)
    if rate is None:
        return None
    num, denom = integer(rate, "num", 1), integer(rate, "denom", 1)
    if num is None or denom is None:
        raise ParseError(f"{key} needs positive integers num and denom", "bad_value")
    return Fraction(num, denom)


def timecode(timing: dict[str, Any]) -> Timecode | None:
    tc = obj(timing, "timecode")
    if tc is None:
        return None
    parts = [integer(tc, k, 0, high) for k, high in (("hours", 23), ("minutes", 59), ("seconds", 59),
                                                      ("frames", 119))]
    rate = fraction(tc, "frameRate")
    hours, minutes, seconds, frames = parts
    if hours is None or minutes is None or seconds is None or frames is None or rate is None:
        raise ParseError("timecode needs hours, minutes, seconds, frames and frameRate", "bad_value")
    drop = tc.get("dropFrame", False)
    if not isinstance(drop, bool):
        raise ParseError("timecode.dropFrame must be a boolean", "bad_value")
    sub = integer(tc, "subFrame", 0, 0xFFFFFFFF) or 0
    try:
        return Timecode(hours=hours, minutes=minutes, seconds=seconds, frames=frames, rate=rate, drop_frame=drop,
                        sub_frame=sub)
    except TimecodeError as exc:  # a label no clock shows (frames past the rate, a dropped number)
        raise ParseError(f"timecode: {exc}", "bad_value") from None


def _vector(container: dict[str, Any], key: str, names: tuple[str, str, str], default: float) -> list[float]:
    vec = obj(container, key)
    if vec is None:
        return [default] * 3
    out = []
    for name in names:
        value = number(vec, name)
        out.append(default if value is None else value)
    return out


def composed_pose(transforms: Any) -> Pose | None:
    """Compose an OpenTrackIO ``transforms`` list into one pose (x, y, z, pan, tilt, roll).

    ``p_parent = t_i + R_i @ (s_i * p_child)``, applied from the last transform outwards. The
    orientation is the product of the rotations (a non-uniform scale does not skew it).
    Returns None when ``transforms`` is absent or empty.
    """
    if transforms is None:
        return None
    if not isinstance(transforms, list) or not all(isinstance(t, dict) for t in transforms):
        raise ParseError("transforms must be a list of objects", "bad_value")
    if not transforms:
        return None
    parts = [(_vector(t, "translation", ("x", "y", "z"), 0.0),
              _vector(t, "rotation", ("pan", "tilt", "roll"), 0.0),
              _vector(t, "scale", ("x", "y", "z"), 1.0)) for t in transforms]
    if len(parts) == 1:
        (x, y, z), (pan, tilt, roll), _ = parts[0]
        return (x, y, z, pan, tilt, roll)
    linear = np.eye(3)
    rotation = np.eye(3)
    position = np.zeros(3)
    for translation, angles, scale in parts:
        r = body_rotation(*angles)
        position = position + linear @ np.asarray(translation)
        linear = linear @ r @ np.diag(scale)
        rotation = rotation @ r
    if not np.all(np.isfinite(position)):
        raise ParseError("composed transform is not finite", "non_finite")
    pan, tilt, roll = pan_tilt_roll_from_rotation(rotation)
    return (float(position[0]), float(position[1]), float(position[2]), pan, tilt, roll)
