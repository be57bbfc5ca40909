"""Shared geometric conventions: stage frame, pan/tilt/roll, OpenCV camera axes, boxes."""

from vpstage.geometry.boxes import OrientedBox
from vpstage.geometry.rotations import (
    CV_FROM_BODY,
    body_rotation,
    camera_rotation,
    look_at_rotation,
    matrix_to_quat,
    pan_tilt_roll_from_rotation,
    quat_to_matrix,
)

__all__ = [
    "CV_FROM_BODY",
    "OrientedBox",
    "body_rotation",
    "camera_rotation",
    "look_at_rotation",
    "matrix_to_quat",
    "pan_tilt_roll_from_rotation",
    "quat_to_matrix",
]
