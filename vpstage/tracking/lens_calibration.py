"""Lens calibration from checkerboard images (OpenCV ``calibrateCamera``): one lens profile entry per
zoom step.

Shoot 10-20 images of a flat checkerboard at one zoom (and focus) setting, the board filling
different parts of the frame at different tilts, corners included (distortion shows at the edges).
:func:`calibrate_lens` finds the board's inner corners in each image (``findChessboardCorners``,
refined to sub-pixel with ``cornerSubPix``), solves OpenCV's camera model and returns the
intrinsics, the distortion (Brown-Conrady **U-D**: OpenCV's coefficients map undistorted to
distorted), the RMS reprojection error and what each image gave. :meth:`LensCalibration.zoom_point`
turns it into a lens file zoom point (``vpstage.tracking.lens_file``): focal length in mm from the
sensor width, k1..k6, p1, p2 and the overscan factor the distortion needs (the widest side of the
image window, :func:`vpstage.tracking.image_window.image_window`, over the sensor's).

The board is given by its **inner corners** (``9x6`` for a board of 10 x 7 squares) and its square
size in millimetres. Images are 8-bit grey or BGR arrays (any reader; the CLI uses OpenCV's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from vpstage.tracking.camera import CameraState
from vpstage.tracking.distortion import BROWN_CONRADY_UD, LensDistortion
from vpstage.tracking.lens_file import zoom_point_dict

F64 = NDArray[np.float64]
RadialCount = Literal[2, 3, 6]
MIN_VIEWS = 3
_BOARD_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


class CalibrationError(ValueError):
    """The images cannot calibrate the lens (too few boards found, inconsistent sizes)."""


@dataclass(frozen=True)
class Board:
    """A checkerboard: ``columns`` x ``rows`` inner corners, squares ``square_mm`` wide."""

    columns: int
    rows: int
    square_mm: float

    def __post_init__(self) -> None:
        if self.columns < 3 or self.rows < 3 or self.columns == self.rows:
            raise ValueError("a board needs at least 3 x 3 inner corners and different counts along its two "
                             "sides (so its orientation is unambiguous)")
        if not (math.isfinite(self.square_mm) and self.square_mm > 0):
            raise ValueError(f"square size must be > 0 mm, got {self.square_mm}")

    @staticmethod
    def parse(text: str, square_mm: float) -> Board:
        """``"9x6"`` (inner corners) and the square size."""
        match = _BOARD_RE.match(text)
        if not match:
            raise ValueError(f"board {text!r}: give inner corners as COLSxROWS, e.g. 9x6")
        return Board(int(match[1]), int(match[2]), float(square_mm))

    @property
    def pattern(self) -> tuple[int, int]:
        return (self.columns, self.rows)

    def object_points(self) -> NDArray[np.float32]:
        """(columns * rows, 3) corner positions on the board (metres, z = 0), row by row, as
        ``findChessboardCorners`` orders them."""
        grid = np.mgrid[0:self.columns, 0:self.rows].T.reshape(-1, 2) * self.square_mm / 1000.0
        return np.concatenate([grid, np.zeros((len(grid), 1))], axis=1).astype(np.float32)


@dataclass(frozen=True, kw_only=True)
class LensCalibration:
    """One zoom step's calibration (pixels of the calibration images; OpenCV conventions)."""

    image_size: tuple[int, int]
    """(width, height) of the images."""
    camera_matrix: F64
    """(3, 3) [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]."""
    distortion: LensDistortion
    """Brown-Conrady U-D, as OpenCV estimates it."""
    rms_px: float
    """RMS reprojection error over every corner of every image used."""
    view_errors_px: tuple[float, ...]
    """RMS reprojection error per image used."""
    used: tuple[int, ...]
    """Indices of the images in which the board was found."""
    rejected: tuple[int, ...] = field(default_factory=tuple)
    """Indices of the images without a (whole) board."""

    @property
    def fx(self) -> float:
        return float(self.camera_matrix[0, 0])

    @property
    def fy(self) -> float:
        return float(self.camera_matrix[1, 1])

    def focal_length_mm(self, sensor_width_mm: float) -> float:
        """fx in millimetres, for images that span ``sensor_width_mm`` of sensor."""
        return self.fx * sensor_width_mm / self.image_size[0]

    def camera_state(self, sensor_width_mm: float) -> CameraState:
        """The calibrated camera as a ``CameraState`` (at the origin; principal point included)."""
        width, height = self.image_size
        pixel_mm = sensor_width_mm / width
        focal = self.focal_length_mm(sensor_width_mm)
        sensor_height = height * pixel_mm * self.fx / self.fy  # square pixels make it height * pixel_mm
        cx, cy = float(self.camera_matrix[0, 2]), float(self.camera_matrix[1, 2])
        offset = ((cx - width / 2) * pixel_mm, (cy - height / 2) * sensor_height / height)
        return CameraState(eye=np.zeros(3), rotation=np.eye(3), focal_length_mm=focal, sensor_width_mm=sensor_width_mm,
                           sensor_height_mm=sensor_height, image_width=width, image_height=height,
                           principal_offset_mm=offset, distortion=self.distortion)

    def overscan(self, sensor_width_mm: float) -> float:
        """The render overscan factor this distortion needs: the largest ratio, side by side, of the
        image window (the distorted sensor border, undistorted) to the sensor window (>= 1)."""
        from vpstage.tracking.image_window import image_window, sensor_window

        state = self.camera_state(sensor_width_mm)
        sensor, image = sensor_window(state), image_window(state)
        return max(1.0, *(abs(i) / abs(s) for i, s in zip(image, sensor, strict=True) if abs(s) > 1e-12))

    def zoom_point(self, encoder: float, sensor_width_mm: float) -> dict[str, Any]:
        """The lens file zoom point of this calibration at zoom encoder value ``encoder``."""
        return zoom_point_dict(encoder, self.focal_length_mm(sensor_width_mm), self.distortion.radial,
                               self.distortion.tangential, self.overscan(sensor_width_mm))

    def summary(self, sensor_width_mm: float) -> dict[str, Any]:
        d = self.distortion
        return {"images_used": len(self.used), "images_rejected": len(self.rejected), "rms_px": self.rms_px,
                "fx": self.fx, "fy": self.fy, "cx": float(self.camera_matrix[0, 2]),
                "cy": float(self.camera_matrix[1, 2]), "focal_length_mm": self.focal_length_mm(sensor_width_mm),
                "model": d.model, "k": list(d.radial), "p": list(d.tangential),
                "overscan": self.overscan(sensor_width_mm)}


def _gray(image: NDArray[Any]) -> NDArray[np.uint8]:
    import cv2

    array = np.asarray(image)
    if array.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        array = cv2.cvtColor(array, code)
    if array.dtype != np.uint8:
        raise ValueError("calibration images must be 8-bit")
    return np.ascontiguousarray(array)


def find_corners(image: NDArray[Any], board: Board) -> NDArray[np.float32] | None:
    """The board's inner corners (columns * rows, 1, 2) refined to sub-pixel, or None when the whole
    board is not found."""
    import cv2

    gray = _gray(image)
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH + cv2.CALIB_CB_NORMALIZE_IMAGE
    found, corners = cv2.findChessboardCorners(gray, board.pattern, None, flags)
    if not found or corners is None:
        return None
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 60, 1e-4)
    refined = cv2.cornerSubPix(gray, corners, (5, 5), (-1, -1), criteria)
    return np.asarray(refined, dtype=np.float32)


def calibrate_lens(images: Sequence[NDArray[Any]], board: Board, radial: RadialCount = 3,
                   tangential: bool = True, progress: Callable[[int, int], None] | None = None) -> LensCalibration:
    """Calibrate from checkerboard images of one zoom step (module docstring). ``radial``: how many
    radial coefficients to estimate (2: k1 k2; 3: k1 k2 k3; 6: the rational model k1..k6);
    ``tangential``: estimate p1 p2 (else 0); ``progress(images searched, images in all)`` after each
    image's corner search (seconds each on large images), on the calling thread. Raises CalibrationError."""
    import cv2

    if not images:
        raise CalibrationError("no images")
    size: tuple[int, int] | None = None
    object_points, image_points, used, rejected = [], [], [], []
    for i, image in enumerate(images):
        gray = _gray(image)
        shape = (gray.shape[1], gray.shape[0])
        if size is None:
            size = shape
        elif shape != size:
            raise CalibrationError(f"image {i} is {shape[0]}x{shape[1]}, the first was {size[0]}x{size[1]}")
        corners = find_corners(gray, board)
        if progress is not None:
            progress(i + 1, len(images))
        if corners is None:
            rejected.append(i)
            continue
        object_points.append(board.object_points())
        image_points.append(corners)
        used.append(i)
    if len(used) < MIN_VIEWS or size is None:
        raise CalibrationError(f"the {board.columns}x{board.rows} board was found in {len(used)} of {len(images)} "
                               f"images; at least {MIN_VIEWS} are needed (check COLSxROWS: inner corners)")
    flags = 0
    if radial == 2:
        flags |= cv2.CALIB_FIX_K3
    elif radial == 6:
        flags |= cv2.CALIB_RATIONAL_MODEL
    if not tangential:
        flags |= cv2.CALIB_ZERO_TANGENT_DIST
    criteria = (cv2.TERM_CRITERIA_COUNT + cv2.TERM_CRITERIA_EPS, 200, 1e-12)
    rms, found_matrix, found_coefficients, rvecs, tvecs = cv2.calibrateCamera(
        object_points, image_points, size, None, None, flags=flags, criteria=criteria)
    matrix: F64 = np.asarray(found_matrix, dtype=np.float64)
    coefficients: F64 = np.asarray(found_coefficients, dtype=np.float64).ravel()
    errors = []
    for obj, img, rvec, tvec in zip(object_points, image_points, rvecs, tvecs, strict=True):
        projected, _ = cv2.projectPoints(obj, rvec, tvec, matrix, coefficients)
        diff = np.asarray(projected, dtype=np.float64).reshape(-1, 2) - img.reshape(-1, 2)
        errors.append(float(np.sqrt(np.mean(np.sum(diff * diff, axis=1)))))
    distortion = LensDistortion.from_opencv(coefficients[:8], BROWN_CONRADY_UD)
    return LensCalibration(image_size=size, camera_matrix=matrix, distortion=distortion, rms_px=float(rms),
                           view_errors_px=tuple(errors), used=tuple(used), rejected=tuple(rejected))
