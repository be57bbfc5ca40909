"""What a camera's lens brings onto its sensor, in the undistorted image plane (tangent units).

* the **sensor window**: the camera's own pinhole window (principal offset included);
* the **image window**: the sensor window, widened to the bounding box of the sensor's border
  undistorted (a distorted lens sees more, or less, than its pinhole) and to the lens's overscan
  factor. Equal to the sensor window without distortion.

The frustum (``vpstage.frustum.frustum``) grows its inner window from the image window; lens
calibration (``vpstage.tracking.lens_calibration``) states the overscan a distortion needs from it.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import LensDistortion, undistort_points

Window = tuple[float, float, float, float]
"""Image-plane window (x_left, x_right, y_top, y_bottom), tangent units."""
BORDER_SAMPLES = 64
"""Sensor border points per side undistorted for the image window (the bounding box of the
undistorted border; between samples it bends by far less than a pixel)."""


def sensor_window(camera: CameraState) -> Window:
    """The camera's own image-plane window as a pinhole (principal offset included)."""
    k = camera.intrinsics()
    return (-k.cx / k.fx, (k.width - k.cx) / k.fx, -k.cy / k.fy, (k.height - k.cy) / k.fy)


def sensor_border(window: Window, samples: int = BORDER_SAMPLES) -> NDArray[np.float64]:
    """(4 * samples, 2) points around a window's edge, corners included, clockwise from top-left."""
    xl, xr, yt, yb = window
    t = np.linspace(0.0, 1.0, samples, endpoint=False)
    top = np.stack([xl + t * (xr - xl), np.full_like(t, yt)], axis=1)
    right = np.stack([np.full_like(t, xr), yt + t * (yb - yt)], axis=1)
    bottom = np.stack([xr - t * (xr - xl), np.full_like(t, yb)], axis=1)
    left = np.stack([np.full_like(t, xl), yb - t * (yb - yt)], axis=1)
    return np.concatenate([top, right, bottom, left])


@functools.lru_cache(maxsize=256)
def _lens_window(sensor: Window, distortion: LensDistortion, centre: tuple[float, float]) -> Window:
    xl, xr, yt, yb = sensor
    s = max(distortion.overscan, 1.0)
    xl, xr, yt, yb = min(xl, xl * s), max(xr, xr * s), min(yt, yt * s), max(yb, yb * s)
    if distortion.known and not distortion.is_zero:
        border = undistort_points(distortion, sensor_border(sensor), centre)
        good = border[np.all(np.isfinite(border), axis=1)]
        if len(good):
            lo, hi = good.min(axis=0), good.max(axis=0)
            xl, xr = min(xl, float(lo[0])), max(xr, float(hi[0]))
            yt, yb = min(yt, float(lo[1])), max(yb, float(hi[1]))
    return (xl, xr, yt, yb)


def image_window(camera: CameraState) -> Window:
    """What the lens brings onto the sensor, in the undistorted image plane: the sensor window, the
    bounding box of its distorted border undistorted, and the sensor window times the lens's
    overscan factor (see the module docstring). Equal to :func:`sensor_window` without distortion."""
    sensor = sensor_window(camera)
    distortion = camera.distortion
    if distortion.overscan <= 1.0 and (distortion.is_zero or not distortion.known):
        return sensor
    return _lens_window(sensor, distortion, camera.distortion_centre())
