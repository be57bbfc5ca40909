"""Tracking maths: camera samples and states, lens profiles, alignment, delay/interpolation.

Import submodules for the rest: ``buffer`` (SampleBuffer, PoseAt), ``lens`` / ``lens_file``,
``distortion`` (LensDistortion: the whole Brown-Conrady model, undistort/distort points),
``lens_calibration`` (checkerboard calibration, one lens file zoom point per run),
``alignment`` (AlignmentTransform, solve_alignment), ``calibration`` (CameraCalibration).
"""

from vpstage.geometry.pinhole import Intrinsics
from vpstage.tracking.camera import CameraState
from vpstage.tracking.sample import CameraSample

__all__ = ["CameraSample", "CameraState", "Intrinsics"]
