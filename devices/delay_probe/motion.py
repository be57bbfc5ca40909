"""The probe's camera path: a fixed eye panning in the ``ProbeMotion`` pattern around a base aim."""

from __future__ import annotations

from devices.tracking.paths import PathFn, PathPoint, Vec3
from vpstage.tracking.delay_measure import ProbeMotion


def probe_path(eye: Vec3, pan_deg: float, tilt_deg: float, motion: ProbeMotion, *,
               focal_length_mm: float = 35.0, focus_distance_m: float = 3.0) -> PathFn:
    """A ``TrackerSimulator`` path: the camera at ``eye`` (stage metres), tilted ``tilt_deg``,
    panning ``pan_deg + motion.offset(t)`` (``t`` seconds since the simulator started)."""
    def at(t: float) -> PathPoint:
        return PathPoint(x_m=eye[0], y_m=eye[1], z_m=eye[2], pan_deg=pan_deg + motion.offset(t), tilt_deg=tilt_deg,
                         roll_deg=0.0, focal_length_mm=focal_length_mm, focus_distance_m=round(focus_distance_m, 4))
    return at
