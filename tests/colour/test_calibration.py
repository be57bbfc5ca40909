"""Wall calibration after the output transform, in code values: matrix / gains / gamma, or a .cube."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from render.colour.accuracy import TEN_BIT_STEP, lut_apply_numpy, ocio_reference
from render.colour.bake import bake_canvas_lut
from tests.colour.conftest import SDR
from vpstage.colour.cube_file import CubeLut, write_cube
from vpstage.colour.settings import CubeCalibration, MatrixCalibration
from vpstage.colour.transforms import CanvasTransform, canvas_processor

COLOURS = np.array([[0.0, 0.0, 0.0], [0.01, 0.01, 0.01], [0.18, 0.18, 0.18], [0.9, 0.9, 0.9],
                    [0.5, 0.1, 0.05], [0.02, 0.3, 0.6], [4.0, 2.0, 1.0]], np.float32)
GREYS = slice(0, 4)


def _through(aces: Any, spec: CanvasTransform) -> np.ndarray:
    return ocio_reference(canvas_processor(aces, spec).getDefaultCPUProcessor(), COLOURS)


def _grid(size: int) -> np.ndarray:
    g = np.linspace(0.0, 1.0, size)
    r, gg, b = np.meshgrid(g, g, g, indexing="ij")
    return np.stack([r, gg, b], axis=-1)


def test_matrix_gains_gamma_follow_the_documented_formula(aces: Any) -> None:
    matrix = [[0.9, 0.1, 0.0], [0.05, 0.9, 0.05], [0.0, 0.1, 0.9]]
    calibration = MatrixCalibration(matrix=matrix, gains=(1.0, 0.8, 1.3), gamma=(1.0, 2.0, 0.5))
    plain = _through(aces, CanvasTransform("ACEScg", SDR))
    expected = np.clip(np.array([1.0, 0.8, 1.3]) * (plain @ np.array(matrix).T), 0.0, 1.0) ** np.array([1, 2, 0.5])
    spec = CanvasTransform("ACEScg", SDR, calibration)
    np.testing.assert_allclose(_through(aces, spec), expected, atol=2e-5)
    baked = lut_apply_numpy(bake_canvas_lut(aces, spec, 65), COLOURS)
    np.testing.assert_allclose(baked[GREYS], expected[GREYS], atol=TEN_BIT_STEP)


def test_identity_calibration_changes_nothing(aces: Any) -> None:
    plain = _through(aces, CanvasTransform("ACEScg", SDR))
    np.testing.assert_allclose(_through(aces, CanvasTransform("ACEScg", SDR, MatrixCalibration())), plain, atol=1e-6)


def _wall_cube(gain: float) -> np.ndarray:
    """out = (0.8 g + 0.1, r, gain * b): affine, so tetrahedral interpolation reproduces it exactly."""
    grid = _grid(9)
    return np.stack([0.8 * grid[..., 1] + 0.1, grid[..., 0], gain * grid[..., 2]], axis=-1)


def test_3d_cube_calibration(aces: Any, tmp_path: Path) -> None:
    write_cube(tmp_path / "wall.cube", CubeLut(kind="3d", table=_wall_cube(0.5)))
    plain = _through(aces, CanvasTransform("ACEScg", SDR))
    expected = np.stack([0.8 * plain[:, 1] + 0.1, plain[:, 0], 0.5 * plain[:, 2]], axis=1)
    spec = CanvasTransform("ACEScg", SDR, CubeCalibration(cube="wall.cube"), tmp_path / "wall.cube")
    np.testing.assert_allclose(_through(aces, spec), expected, atol=2e-5)
    baked = lut_apply_numpy(bake_canvas_lut(aces, spec, 65), COLOURS)
    np.testing.assert_allclose(baked[GREYS], expected[GREYS], atol=TEN_BIT_STEP)


def test_1d_cube_calibration(aces: Any, tmp_path: Path) -> None:
    ramp = np.linspace(0.0, 1.0, 1024)
    write_cube(tmp_path / "gamma.cube", CubeLut(kind="1d",
                                                table=np.stack([ramp**2, ramp, np.sqrt(ramp)], axis=1)), precision=9)
    plain = _through(aces, CanvasTransform("ACEScg", SDR))
    spec = CanvasTransform("ACEScg", SDR, CubeCalibration(cube="gamma.cube"), tmp_path / "gamma.cube")
    expected = np.stack([plain[:, 0] ** 2, plain[:, 1], np.sqrt(plain[:, 2])], axis=1)
    np.testing.assert_allclose(_through(aces, spec)[1:], expected[1:], atol=1e-4)  # sqrt is steep at 0


def test_an_edited_cube_is_baked_again(aces: Any, tmp_path: Path) -> None:
    path = tmp_path / "wall.cube"
    write_cube(path, CubeLut(kind="3d", table=_wall_cube(0.5)))
    spec = CanvasTransform("ACEScg", SDR, CubeCalibration(cube="wall.cube"), path)
    before = bake_canvas_lut(aces, spec, 17)
    write_cube(path, CubeLut(kind="3d", table=_wall_cube(0.25)))
    after = bake_canvas_lut(aces, spec, 17)
    assert after.key != before.key
    np.testing.assert_allclose(after.table[:, 2], before.table[:, 2] / 2, atol=1e-5)  # OCIO read the new file
