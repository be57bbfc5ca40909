"""The torch shaper + LUT: exact where it must be, in place, chunking invisible."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from render.colour.apply import apply_lut
from render.colour.bake import grid_points
from render.colour.device_lut import DeviceLut
from render.colour.shaper import Shaper

Table = Callable[[np.ndarray], np.ndarray]


def _lut_of(shaper: Shaper, function: Table) -> DeviceLut:
    table = function(grid_points(shaper).astype(np.float64))
    return DeviceLut(shaper, torch.from_numpy(np.ascontiguousarray(table, dtype=np.float32)))


def _affine_in_grid(shaper: Shaper) -> Table:
    """A table that is affine in the grid coordinates: interpolation must reproduce it exactly."""
    def table(rgb: np.ndarray) -> np.ndarray:
        u = shaper.coordinates(rgb) / (shaper.size - 1)
        return np.asarray(u @ np.array([[0.6, 0.1, 0.2], [0.3, 0.8, 0.1], [0.1, 0.1, 0.7]]) * 0.9 + 0.05)
    return table


@pytest.mark.parametrize("kind", ["log2", "linear"])
@pytest.mark.parametrize("interpolation", ["tetrahedral", "trilinear"])
def test_interpolation_is_exact_for_functions_affine_in_the_grid(kind: str, interpolation: str) -> None:
    shaper = Shaper(kind=kind, size=17)  # type: ignore[arg-type]
    function = _affine_in_grid(shaper)
    rng = np.random.default_rng(1)
    top = 300.0 if kind == "log2" else 1.0
    rgb = (rng.random((64, 48, 3)) ** 3 * top).astype(np.float32)
    out = torch.empty(64, 48, 3)
    apply_lut(torch.from_numpy(rgb), _lut_of(shaper, function), out, interpolation=interpolation)  # type: ignore[arg-type]
    expected = function(rgb.reshape(-1, 3).astype(np.float64)).reshape(rgb.shape)
    np.testing.assert_allclose(out.numpy(), expected, atol=2e-6)


def test_grid_points_come_back_exactly_and_red_varies_fastest() -> None:
    shaper = Shaper(kind="log2", size=9)
    points = grid_points(shaper)
    assert points[1, 0] > 0 and points[1, 1] == 0 and points[9, 1] > 0 and points[81, 2] > 0
    lut = _lut_of(shaper, lambda x: x[:, [2, 0, 1]] / 256.0)
    out = torch.empty(1, points.shape[0], 3)
    apply_lut(torch.from_numpy(points).reshape(1, -1, 3), lut, out)
    np.testing.assert_allclose(out.numpy()[0], points[:, [2, 0, 1]] / 256.0, rtol=1e-5, atol=1e-7)


def test_shaper_breakpoints_and_clamps() -> None:
    shaper = Shaper(kind="log2", size=65)
    values = shaper.grid_values()
    assert values[0] == 0.0 and values[2] == 2.0**-12 and values[-1] == pytest.approx(256.0)
    steps = np.diff(np.log2(values[2:]))
    np.testing.assert_allclose(steps, 20.0 / 62.0)  # the same number of intervals in every stop
    x = torch.tensor([-1.0, 0.0, 2.0**-13, 2.0**-12, 1.0, 256.0, 1e6])
    u = shaper.to_grid(x)
    np.testing.assert_allclose(u.numpy(), shaper.coordinates(x.double().numpy()), atol=1e-4)
    assert u[0] == 0.0 and u[2] == pytest.approx(1.0) and u[-1] == 64.0


def test_writes_into_out_and_chunks_change_nothing() -> None:
    shaper = Shaper(kind="log2", size=33)
    lut = _lut_of(shaper, lambda x: np.sqrt(np.clip(x, 0, None)) / 16.0)
    rgb = torch.rand(40, 70, 3) * 8.0
    out_whole, out_chunked = torch.empty(40, 70, 3), torch.empty(40, 70, 3)
    returned = apply_lut(rgb, lut, out_whole, chunk_pixels=40 * 70)
    apply_lut(rgb, lut, out_chunked, chunk_pixels=333)
    assert returned.data_ptr() == out_whole.data_ptr()
    torch.testing.assert_close(out_whole, out_chunked, rtol=0, atol=0)


def test_a_strided_input_view_is_read_as_it_is() -> None:
    shaper = Shaper(kind="linear", size=17)
    lut = _lut_of(shaper, lambda x: x**2)
    rgba = torch.rand(30, 20, 4)
    out = torch.empty(30, 20, 3)
    apply_lut(rgba[..., :3], lut, out)
    expected = torch.empty(30, 20, 3)
    apply_lut(rgba[..., :3].contiguous(), lut, expected)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_wrong_shapes_and_outputs_are_refused() -> None:
    lut = _lut_of(Shaper(kind="linear", size=5), lambda x: x)
    with pytest.raises(ValueError, match="must both be"):
        apply_lut(torch.zeros(4, 4, 3), lut, torch.empty(4, 5, 3))
    with pytest.raises(ValueError, match="contiguous float32"):
        apply_lut(torch.zeros(4, 4, 3), lut, torch.empty(4, 4, 3, dtype=torch.float64))
