"""From a buffered pose to a calibrated CameraState: lens, entrance pupil, alignment, intrinsics."""

import math

import numpy as np
import pytest

from vpstage.geometry.rotations import body_rotation
from vpstage.tracking.alignment import AlignmentTransform
from vpstage.tracking.buffer import SampleBuffer
from vpstage.tracking.calibration import CameraCalibration
from vpstage.tracking.lens import PRESETS
from vpstage.tracking.sample import CameraSample


def pose_of(sample: CameraSample):  # type: ignore[no-untyped-def]
    buf = SampleBuffer()
    buf.push(sample)
    return buf.state_at(sample.arrival_ns)


def test_eye_is_the_entrance_pupil_along_the_optical_axis() -> None:
    sample = CameraSample(protocol="opentrackio", source="s", camera_id=1, arrival_ns=0, x_m=1.0, y_m=2.0, z_m=1.5,
                          pan_deg=90.0, tilt_deg=0.0, roll_deg=0.0, focal_length_mm=35.0, entrance_pupil_m=0.12)
    state = CameraCalibration(sensor_width_mm=36.0, sensor_height_mm=24.0, image_width=3600,
                              image_height=2400).camera_state(pose_of(sample))
    assert state.eye == pytest.approx([1.12, 2.0, 1.5])  # pan 90 looks along +X
    assert state.forward == pytest.approx([1.0, 0.0, 0.0])
    assert state.rotation[:, 1] == pytest.approx([0.0, 0.0, -1.0])  # image down is stage down
    intr = state.intrinsics()
    assert (intr.fx, intr.cx) == pytest.approx((35.0 * 100, 1800.0))
    assert state.fov_deg()[0] == pytest.approx(2 * math.degrees(math.atan(18 / 35)))


def test_alignment_moves_and_turns_the_camera_into_the_stage_frame() -> None:
    align = AlignmentTransform(body_rotation(90.0, 0.0, 0.0), np.array([10.0, 0.0, 0.0]))
    sample = CameraSample(protocol="freed", source="s", camera_id=1, arrival_ns=0, x_m=0.0, y_m=1.0, z_m=0.0,
                          pan_deg=0.0, tilt_deg=0.0, roll_deg=0.0, zoom_raw=2500, focus_raw=30000, user_bits=400)
    state = CameraCalibration(sensor_width_mm=24.0, sensor_height_mm=13.5, lens=PRESETS["zcam-freed"],
                              alignment=align).camera_state(pose_of(sample))
    assert state.eye == pytest.approx([11.0, 0.0, 0.0])  # tracker +Y becomes stage +X
    assert state.forward == pytest.approx([1.0, 0.0, 0.0])
    assert (state.focal_length_mm, state.focus_distance_m, state.f_stop) == pytest.approx((25.0, 3.0, 4.0))


def test_projection_offset_becomes_principal_offset_with_y_down() -> None:
    sample = CameraSample(protocol="opentrackio", source="s", camera_id=1, arrival_ns=0, x_m=0, y_m=0, z_m=0, pan_deg=0,
                          tilt_deg=0, roll_deg=0, projection_offset_mm=(0.5, 0.25))
    state = CameraCalibration(sensor_width_mm=36.0, sensor_height_mm=24.0).camera_state(pose_of(sample))
    assert state.principal_offset_mm == (0.5, -0.25)
