"""Tracker -> stage alignment: a similarity transform set by hand or solved from point pairs.

``p_stage = scale * R @ p_tracker + translation``; a tracked orientation maps as ``R @ R_tracker``.
``R`` is written in project files as yaw/pitch/roll with the pan/tilt/roll convention
(``R = body_rotation(yaw, pitch, roll)``), see ``vpstage.stage.model.Alignment``.

Solving: the operator puts the tracked camera (or a tracked probe) on three or more surveyed stage
points and captures the tracker's reading at each. ``solve_alignment`` finds the least-squares
rotation, translation and optionally scale (Umeyama's closed form via an SVD) and reports each
point's residual and the RMS, so a bad capture stands out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vpstage.geometry.rotations import body_rotation, pan_tilt_roll_from_rotation
from vpstage.stage.model import Alignment

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class AlignmentTransform:
    """A similarity transform from the tracker frame to the stage frame (metres). Compared by
    identity (it holds numpy arrays)."""

    rotation: F64 = field(default_factory=lambda: np.eye(3))
    translation: F64 = field(default_factory=lambda: np.zeros(3))
    scale: float = 1.0

    @staticmethod
    def from_model(model: Alignment) -> AlignmentTransform:
        return AlignmentTransform(body_rotation(model.yaw_deg, model.pitch_deg, model.roll_deg),
                                  np.asarray(model.translation, dtype=np.float64), float(model.scale))

    def to_model(self) -> Alignment:
        yaw, pitch, roll = pan_tilt_roll_from_rotation(self.rotation)
        x, y, z = (float(v) for v in self.translation)
        return Alignment(translation=(x, y, z), yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll, scale=self.scale)

    def apply_points(self, points: ArrayLike) -> F64:
        """(..., 3) tracker points -> stage points."""
        p = np.asarray(points, dtype=np.float64)
        return np.asarray(self.scale * p @ self.rotation.T + self.translation, dtype=np.float64)

    def apply_rotation(self, rotation: F64) -> F64:
        """A tracker-frame orientation (3x3, columns = body or camera axes) -> stage frame."""
        return np.asarray(self.rotation @ rotation, dtype=np.float64)

    def matrix(self) -> F64:
        m = np.eye(4)
        m[:3, :3] = self.scale * self.rotation
        m[:3, 3] = self.translation
        return m


@dataclass(frozen=True)
class AlignmentSolution:
    transform: AlignmentTransform
    residuals_m: F64
    """Distance between each stage point and its transformed tracker point (N,)."""

    @property
    def rms_m(self) -> float:
        return float(math.sqrt(float(np.mean(self.residuals_m ** 2))))

    @property
    def max_m(self) -> float:
        return float(np.max(self.residuals_m))

    def report(self) -> str:
        lines = [f"point {i}: {r * 1000:.1f} mm" for i, r in enumerate(self.residuals_m)]
        lines.append(f"RMS {self.rms_m * 1000:.1f} mm, worst {self.max_m * 1000:.1f} mm, "
                     f"scale {self.transform.scale:.6f}")
        return "\n".join(lines)


def solve_alignment(tracker_points: ArrayLike, stage_points: ArrayLike, with_scale: bool = False) -> AlignmentSolution:
    """Least-squares similarity (Umeyama 1991) mapping ``tracker_points`` onto ``stage_points``.

    Both are (N, 3) metres with N >= 3 points that are not all on one line. ``with_scale=False``
    fixes the scale at 1 (the usual case: both frames are metric). Raises ValueError on too few,
    mismatched, non-finite or collinear points.
    """
    src = np.asarray(tracker_points, dtype=np.float64)
    dst = np.asarray(stage_points, dtype=np.float64)
    if src.ndim != 2 or src.shape[1] != 3 or src.shape != dst.shape:
        raise ValueError("need two (N, 3) arrays of matching point pairs")
    if len(src) < 3:
        raise ValueError(f"need at least 3 point pairs, got {len(src)}")
    if not (np.all(np.isfinite(src)) and np.all(np.isfinite(dst))):
        raise ValueError("points must be finite")
    mu_src, mu_dst = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_src, dst - mu_dst
    spread = np.linalg.svd(a, compute_uv=False)
    if spread[1] < 1e-6 * max(spread[0], 1e-12):
        raise ValueError("the tracker points are (nearly) collinear: the rotation is undetermined")
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, 1.0, 1.0 if np.linalg.det(u @ vt) >= 0 else -1.0])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(s) @ d) / np.mean(np.sum(a * a, axis=1))) if with_scale else 1.0
    translation = mu_dst - scale * rotation @ mu_src
    transform = AlignmentTransform(rotation, translation, scale)
    residuals = np.linalg.norm(transform.apply_points(src) - dst, axis=1)
    return AlignmentSolution(transform, residuals)
