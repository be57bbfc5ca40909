"""Lens calibration from checkerboard images: images rendered here through a lens of known
distortion (OpenCV's model, U-D), calibrated back, and written into a lens file by the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from cli import main
from vpstage.tracking.distortion import BROWN_CONRADY_UD, LensDistortion, undistort_points
from vpstage.tracking.lens_calibration import Board, CalibrationError, calibrate_lens
from vpstage.tracking.lens_file import load_lens_library
from vpstage.tracking.sample import CameraSample

W, H = 640, 480
SUPERSAMPLE = 2
K = np.array([[520.0, 0.0, 322.0], [0.0, 520.0, 236.0], [0.0, 0.0, 1.0]])
"""Pixel centres at i + 0.5 here (OpenCV puts them at i: its cx, cy come out half a pixel less)."""
TRUE = LensDistortion.from_opencv([-0.28, 0.09, 0.0, 0.0, 0.0])
BOARD = Board(9, 6, 30.0)
SENSOR_WIDTH_MM = 12.8  # 20 um pixels: f = 520 px = 10.4 mm


@pytest.fixture(scope="module")
def rays() -> np.ndarray:
    """(H * s, W * s, 3) undistorted camera-frame rays (z = 1) of every sub-pixel of the image."""
    xs = (np.arange(W * SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    ys = (np.arange(H * SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    u, v = np.meshgrid(xs, ys)
    distorted = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]], axis=-1)
    straight = undistort_points(TRUE, distorted)
    return np.concatenate([straight, np.ones(straight.shape[:-1] + (1,))], axis=-1)


def render_board(rays: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """The board (plane z = 0 of its frame, p_camera = R p_board + t) as the distorting camera sees
    it: 8-bit grey, each pixel the mean of its sub-pixels; a white margin of one square around it."""
    normal = rotation[:, 2]
    depth = (normal @ translation) / (rays @ normal)
    board = (depth[..., None] * rays - translation) @ rotation
    square = BOARD.square_mm / 1000.0
    i, j = np.floor(board[..., 0] / square + 1).astype(int), np.floor(board[..., 1] / square + 1).astype(int)
    on_board = (i >= 0) & (i <= BOARD.columns) & (j >= 0) & (j <= BOARD.rows) & (depth > 0)
    margin = ((board[..., 0] > -2 * square) & (board[..., 0] < (BOARD.columns + 1) * square)
              & (board[..., 1] > -2 * square) & (board[..., 1] < (BOARD.rows + 1) * square) & (depth > 0))
    value = np.where(on_board & ((i + j) % 2 == 0), 20.0, np.where(margin, 235.0, 128.0))
    return value.reshape(H, SUPERSAMPLE, W, SUPERSAMPLE).mean(axis=(1, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def images(rays: np.ndarray) -> list[np.ndarray]:
    """Ten views of the board at different tilts and places in the frame (seeded)."""
    rng = np.random.default_rng(7)
    centre = np.array([(BOARD.columns - 1) / 2, (BOARD.rows - 1) / 2, 0.0]) * BOARD.square_mm / 1000.0
    out = []
    for _ in range(10):
        rotation = cv2.Rodrigues(np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5),
                                           rng.uniform(-0.3, 0.3)]))[0]
        depth = rng.uniform(0.45, 0.6)
        aim = np.array([rng.uniform(-0.35, 0.35) * depth, rng.uniform(-0.25, 0.25) * depth, depth])
        out.append(render_board(rays, rotation, aim - rotation @ centre))
    return out


def test_calibration_recovers_the_lens(images: list[np.ndarray]) -> None:
    seen: list[tuple[int, int]] = []
    result = calibrate_lens(images, BOARD, radial=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, len(images)) for i in range(1, len(images) + 1)]  # after each image's board search
    assert len(result.used) >= 8 and set(result.used) | set(result.rejected) == set(range(10))
    assert result.rms_px < 0.5
    assert result.distortion.model == BROWN_CONRADY_UD
    k1, k2 = result.distortion.radial[:2]
    assert abs(k1 - TRUE.radial[0]) < 0.01 and abs(k2 - TRUE.radial[1]) < 0.03
    assert result.distortion.radial[2:] == (0.0, 0.0, 0.0, 0.0)
    assert result.fx == pytest.approx(520.0, rel=0.005) and result.fy == pytest.approx(520.0, rel=0.005)
    assert result.focal_length_mm(SENSOR_WIDTH_MM) == pytest.approx(10.4, rel=0.005)
    # the overscan this barrel lens needs: its image window's widest side over the sensor's
    overscan = result.overscan(SENSOR_WIDTH_MM)
    assert 1.1 < overscan < 1.4
    point = result.zoom_point(1200, SENSOR_WIDTH_MM)
    assert point["encoder"] == 1200 and point["k1"] == k1 and point["overscan"] == pytest.approx(overscan, abs=1e-6)


def test_too_few_boards_is_an_error(images: list[np.ndarray]) -> None:
    with pytest.raises(CalibrationError, match="found in 0 of 3"):
        calibrate_lens(images[:3], Board(10, 7, 30.0))  # squares, not inner corners: no board is found
    with pytest.raises(ValueError, match="COLSxROWS"):
        Board.parse("9 by 6", 30.0)


def test_the_cli_writes_one_zoom_point_per_step(images: list[np.ndarray], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    names = []
    for n, image in enumerate(images):
        names.append(str(tmp_path / f"board{n:02d}.png"))
        assert cv2.imwrite(names[-1], image)
    lenses = tmp_path / "lenses.yaml"
    common = ["--board", "9x6", "--square-mm", "30", "--sensor-width-mm", str(SENSOR_WIDTH_MM), "--lens", "zoom-a",
              "--radial", "2", "-o", str(lenses)]
    assert main(["lens-calibrate", *names, "--zoom", "0", *common]) == 0
    assert "RMS" in capsys.readouterr().out
    assert main(["lens-calibrate", *names[:6], "--zoom", "65535", *common]) == 0
    doc = yaml.safe_load(lenses.read_text())
    (lens,) = doc["lenses"]
    assert lens["distortion_model"] == "Brown-Conrady U-D" and [p["encoder"] for p in lens["zoom"]] == [0, 65535]
    profile = load_lens_library(lenses)["zoom-a"]
    values = profile.evaluate(CameraSample(protocol="freed", source="src", camera_id=1, arrival_ns=0, x_m=0, y_m=0,
                                           z_m=0, pan_deg=0, tilt_deg=0, roll_deg=0, zoom_raw=0))
    assert values.distortion.model == BROWN_CONRADY_UD
    assert abs(values.distortion.radial[0] - TRUE.radial[0]) < 0.01
    assert values.focal_length_mm == pytest.approx(10.4, rel=0.005)
    assert values.distortion.overscan > 1.1
    # bad input: exit 2 before anything is written; an unreadable image too
    before = lenses.read_text()
    assert main(["lens-calibrate", *names, "--zoom", "0", *common[:1], "9 by 6", *common[2:]]) == 2
    assert main(["lens-calibrate", str(tmp_path / "missing.png"), "--zoom", "0", *common]) == 2
    assert main(["lens-calibrate", *names[:2], "--zoom", "5", *common]) == 1  # 2 images: too few
    assert lenses.read_text() == before
    assert math.isfinite(values.focal_length_mm)
