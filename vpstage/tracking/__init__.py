"""Tracking maths: camera samples and states, lens profiles, alignment, delay/interpolation."""

from vpstage.tracking.camera import CameraState, Intrinsics

__all__ = ["CameraState", "Intrinsics"]
