"""From an interpolated tracker pose to a calibrated ``CameraState`` in the stage frame.

Steps: the lens profile turns the sample's encoders (or sent values) into focal length, focus,
entrance pupil and distortion; the alignment maps the tracked position and orientation into the
stage frame; the eye moves from the tracked point (the sensor / image plane, as OpenTrackIO and
FreeD report it) along the optical axis by the entrance-pupil offset (positive toward the
subject). Intrinsics follow from the sensor size and focal length (``CameraState.intrinsics``).

OpenTrackIO's ``projectionOffset`` (mm) becomes ``principal_offset_mm``; its +y is taken as up
on the sensor, so it is negated into the OpenCV +y-down convention (to be checked against a real
sender).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from vpstage.geometry.rotations import CV_FROM_BODY
from vpstage.stage.model import Camera
from vpstage.tracking.alignment import AlignmentTransform
from vpstage.tracking.buffer import PoseAt
from vpstage.tracking.camera import CameraState
from vpstage.tracking.lens import PRESETS, LensProfile
from vpstage.tracking.quaternions import quat_matrix


class CalibratedPose(NamedTuple):
    """One camera sampled at one instant: the tracker-frame pose (what the tracker sent,
    interpolated at the sampling time) and the calibrated stage-frame camera made from it."""

    pose: PoseAt
    state: CameraState


@dataclass(frozen=True, kw_only=True)
class CameraCalibration:
    """Everything that turns a tracker pose into a ``CameraState`` for one film camera."""

    sensor_width_mm: float
    sensor_height_mm: float
    image_width: int = 3840
    image_height: int = 2160
    lens: LensProfile = field(default_factory=lambda: PRESETS["physical"])
    alignment: AlignmentTransform = field(default_factory=AlignmentTransform)

    @staticmethod
    def from_camera(camera: Camera, lens: LensProfile) -> CameraCalibration:
        return CameraCalibration(sensor_width_mm=camera.sensor_width_mm, sensor_height_mm=camera.sensor_height_mm,
                                 image_width=camera.image_width, image_height=camera.image_height, lens=lens,
                                 alignment=AlignmentTransform.from_model(camera.alignment))

    def camera_state(self, pose: PoseAt) -> CameraState:
        """The calibrated camera at ``pose.time_ns`` (stage frame, eye = entrance pupil)."""
        values = self.lens.evaluate(pose.sample)
        body = self.alignment.apply_rotation(quat_matrix(pose.quaternion))
        position = self.alignment.apply_points(np.asarray(pose.position_m))
        eye = position + values.entrance_pupil_m * body[:, 1]
        offset_x, offset_y = values.projection_offset_mm
        return CameraState(
            eye=eye,
            rotation=body @ CV_FROM_BODY,
            focal_length_mm=values.focal_length_mm,
            sensor_width_mm=self.sensor_width_mm,
            sensor_height_mm=self.sensor_height_mm,
            image_width=self.image_width,
            image_height=self.image_height,
            principal_offset_mm=(offset_x, -offset_y),
            distortion=values.distortion,
            focus_distance_m=values.focus_distance_m,
            f_stop=values.f_stop,
            time_ns=pose.time_ns,
            extra={"age_ms": pose.age_ns / 1e6, "entrance_pupil_m": values.entrance_pupil_m},
        )
