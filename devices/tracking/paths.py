"""Scripted camera paths for the tracker simulator, and replay of recorded ones.

A path is a function of time (seconds since the start) returning a ``PathPoint`` in the stage
frame (metres, pan/tilt/roll degrees) or ``None`` during a dropout, when nothing is sent. Paths
are deterministic (the handheld jitter is a seeded sum of sines), so a test can predict them.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

Vec3 = tuple[float, float, float]
WALL_TARGET: Vec3 = (0.0, 2.0, 1.5)
SUBJECT: Vec3 = (0.0, 0.5, 1.5)
"""Where an actor stands in a volume centred on the stage origin (the orbit's default subject)."""
"""Where the scripted moves look: the middle of a main wall 2 m ahead of the origin."""


@dataclass(frozen=True, kw_only=True)
class PathPoint:
    x_m: float
    y_m: float
    z_m: float
    pan_deg: float
    tilt_deg: float
    roll_deg: float = 0.0
    focal_length_mm: float | None = 35.0
    focus_distance_m: float | None = 3.0
    f_stop: float | None = 2.8
    zoom_raw: int | None = None
    focus_raw: int | None = None
    """Raw encoder values to send as they are (replayed FreeD); else derived from the lens values."""


PathFn = Callable[[float], PathPoint | None]


def look_at(eye: Vec3, target: Vec3) -> tuple[float, float]:
    """Pan and tilt (degrees) that point the optical axis from ``eye`` at ``target``."""
    dx, dy, dz = (t - e for t, e in zip(target, eye, strict=True))
    return math.degrees(math.atan2(dx, dy)), math.degrees(math.atan2(dz, math.hypot(dx, dy)))


def _aimed(eye: Vec3, target: Vec3, focal_mm: float, roll: float = 0.0) -> PathPoint:
    pan, tilt = look_at(eye, target)
    distance = math.dist(eye, target)
    x, y, z = eye
    return PathPoint(x_m=x, y_m=y, z_m=z, pan_deg=pan, tilt_deg=tilt, roll_deg=roll, focal_length_mm=focal_mm,
                     focus_distance_m=round(distance, 4))


def _breathe(t: float, low: float, high: float, period_s: float) -> float:
    """A slow cosine between ``low`` and ``high`` (zoom and focus pulls)."""
    return low + (high - low) * (0.5 - 0.5 * math.cos(2 * math.pi * t / period_s))


def orbit(radius_m: float = 2.0, height_m: float = 1.7, period_s: float = 12.0,
          target: Vec3 = SUBJECT) -> PathFn:
    """Circle the subject at ``radius_m``, always looking at it, zooming 24-50 mm.

    The defaults keep the camera within 2.5 m of the stage origin, inside a volume such as the
    demo's 4.5 m arc, with the wall behind the subject in shot for most of the circle.
    """
    def at(t: float) -> PathPoint:
        a = 2 * math.pi * t / period_s
        eye = (target[0] + radius_m * math.sin(a), target[1] - radius_m * math.cos(a), height_m)
        return _aimed(eye, target, _breathe(t, 24.0, 50.0, period_s * 1.7))
    return at


def dolly(start: Vec3 = (-2.0, -2.0, 1.6), end: Vec3 = (2.0, -2.0, 1.6), period_s: float = 8.0) -> PathFn:
    """Track back and forth along a line, looking straight at the wall (+Y)."""
    def at(t: float) -> PathPoint:
        u = 0.5 - 0.5 * math.cos(2 * math.pi * t / period_s)
        eye = tuple(s + (e - s) * u for s, e in zip(start, end, strict=True))
        return PathPoint(x_m=eye[0], y_m=eye[1], z_m=eye[2], pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0,
                         focal_length_mm=35.0, focus_distance_m=round(WALL_TARGET[1] - eye[1], 4))
    return at


def crane(base: Vec3 = (0.0, -3.0, 0.8), rise_m: float = 2.7, period_s: float = 10.0,
          target: Vec3 = WALL_TARGET) -> PathFn:
    """Rise and fall by ``rise_m`` while tilting to keep the target framed."""
    def at(t: float) -> PathPoint:
        eye = (base[0], base[1], base[2] + rise_m * (0.5 - 0.5 * math.cos(2 * math.pi * t / period_s)))
        return _aimed(eye, target, 28.0)
    return at


def handheld(base: Vec3 = (0.0, -2.5, 1.6), amplitude_m: float = 0.015, amplitude_deg: float = 0.6,
             seed: int = 7, target: Vec3 = WALL_TARGET) -> PathFn:
    """Operator-style jitter around a base pose: a seeded sum of sines (1-9 Hz) per axis."""
    rng = random.Random(seed)
    waves = [[(rng.uniform(1.0, 9.0), rng.uniform(0, 2 * math.pi)) for _ in range(3)] for _ in range(6)]
    base_pan, base_tilt = look_at(base, target)

    def wobble(axis: int, t: float) -> float:
        return sum(math.sin(2 * math.pi * f * t + phase) for f, phase in waves[axis]) / 3

    def at(t: float) -> PathPoint:
        dx, dy, dz = (amplitude_m * wobble(i, t) for i in range(3))
        pan, tilt, roll = (amplitude_deg * wobble(3 + i, t) for i in range(3))
        return PathPoint(x_m=base[0] + dx, y_m=base[1] + dy, z_m=base[2] + dz, pan_deg=base_pan + pan,
                         tilt_deg=base_tilt + tilt, roll_deg=roll, focal_length_mm=35.0,
                         focus_distance_m=round(math.dist(base, target), 4))
    return at


def static(eye: Vec3 = (0.0, -3.0, 1.7), target: Vec3 = WALL_TARGET) -> PathFn:
    point = _aimed(eye, target, 35.0)
    return lambda t: point


def with_dropouts(path: PathFn, every_s: float = 4.0, length_s: float = 0.6) -> PathFn:
    """The same path with nothing sent for ``length_s`` at the end of every ``every_s``."""
    def at(t: float) -> PathPoint | None:
        return None if (t % every_s) >= every_s - length_s else path(t)
    return at


PATHS: dict[str, Callable[[], PathFn]] = {
    "orbit": orbit, "dolly": dolly, "crane": crane, "handheld": handheld, "static": static,
}


def _unwrapped(previous: float, angle: float) -> float:
    return angle + 360.0 * round((previous - angle) / 360.0)


def _optional(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _point_from_record(row: dict[str, Any]) -> PathPoint:
    zoom, focus = row.get("zoom_raw"), row.get("focus_raw")
    return PathPoint(x_m=float(row["x_m"]), y_m=float(row["y_m"]), z_m=float(row["z_m"]), pan_deg=float(row["pan_deg"]),
                     tilt_deg=float(row["tilt_deg"]), roll_deg=float(row.get("roll_deg", 0.0)),
                     focal_length_mm=_optional(row, "focal_length_mm"),
                     focus_distance_m=_optional(row, "focus_distance_m"), f_stop=_optional(row, "f_stop"),
                     zoom_raw=zoom if isinstance(zoom, int) else None,
                     focus_raw=focus if isinstance(focus, int) else None)


def _lerp(a: float | None, b: float | None, u: float) -> float | None:
    return a if a is None or b is None else a + (b - a) * u


class RecordedPath:
    """Replays records (one JSON object per line, as ``main.py track --jsonl`` prints them: ``t_s``,
    ``x_m`` ... ``roll_deg`` and optional lens fields), interpolating linearly and looping."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        rows = sorted((r for r in records if "x_m" in r), key=lambda r: float(r.get("t_s", 0.0)))
        if not rows:
            raise ValueError("a recorded path needs at least one record with x_m, y_m, z_m, pan_deg, tilt_deg")
        t0 = float(rows[0].get("t_s", 0.0))
        self.times = [float(r.get("t_s", 0.0)) - t0 for r in rows]
        self.points: list[PathPoint] = []
        for row in rows:
            point = _point_from_record(row)
            if self.points:  # keep angles continuous so interpolation never spins the long way round
                prev = self.points[-1]
                point = replace(point, pan_deg=_unwrapped(prev.pan_deg, point.pan_deg),
                                roll_deg=_unwrapped(prev.roll_deg, point.roll_deg))
            self.points.append(point)
        self.duration_s = self.times[-1]

    @staticmethod
    def load(path: str | Path) -> RecordedPath:
        """Read a JSONL file; lines that are not JSON objects (e.g. a summary line) are skipped."""
        records = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("{"):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return RecordedPath(records)

    def __call__(self, t: float) -> PathPoint:
        if self.duration_s <= 0:
            return self.points[0]
        t = t % self.duration_s
        i = bisect_right(self.times, t)
        if i >= len(self.points):
            return self.points[-1]
        a, b = self.points[i - 1], self.points[i]
        u = (t - self.times[i - 1]) / max(self.times[i] - self.times[i - 1], 1e-12)
        x, y, z, pan, tilt, roll = (p + (q - p) * u for p, q in ((a.x_m, b.x_m), (a.y_m, b.y_m), (a.z_m, b.z_m),
                                                                  (a.pan_deg, b.pan_deg), (a.tilt_deg, b.tilt_deg),
                                                                  (a.roll_deg, b.roll_deg)))
        return PathPoint(x_m=x, y_m=y, z_m=z, pan_deg=pan, tilt_deg=tilt, roll_deg=roll,
                         focal_length_mm=_lerp(a.focal_length_mm, b.focal_length_mm, u),
                         focus_distance_m=_lerp(a.focus_distance_m, b.focus_distance_m, u),
                         f_stop=_lerp(a.f_stop, b.f_stop, u), zoom_raw=a.zoom_raw, focus_raw=a.focus_raw)
