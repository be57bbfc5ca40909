"""Shared geometric conventions: stage frame, pan/tilt/roll, OpenCV camera axes, the pinhole camera, boxes."""

from vpstage.geometry.boxes import OrientedBox
from vpstage.geometry.pinhole import Intrinsics, PinholeCamera
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
    "Intrinsics",
    "OrientedBox",
    "PinholeCamera",
    "body_rotation",
    "camera_rotation",
    "look_at_rotation",
    "matrix_to_quat",
    "pan_tilt_roll_from_rotation",
    "quat_to_matrix",
]
