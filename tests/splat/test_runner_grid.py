"""The splat rasterizer's runner grid only grows, with headroom, in whole buckets (pure function)."""

from __future__ import annotations

from render.splat.raster_inputs import grown_grid


def test_a_first_grid_has_headroom_in_whole_buckets() -> None:
    assert grown_grid((30, 17), None, 8) == (40, 24)  # 37.5 -> 40, 21.25 -> 24


def test_a_window_that_fits_keeps_the_grid() -> None:
    assert grown_grid((12, 20), (40, 24), 8) == (40, 24)


def test_only_the_axis_that_outgrew_the_grid_grows_and_nothing_shrinks() -> None:
    assert grown_grid((41, 3), (40, 24), 8) == (56, 24)  # 51.25 -> 56


def test_a_breathing_window_settles_on_one_grid() -> None:
    grid = None
    grids = set()
    for step in range(200):  # a window oscillating between 60 and 70 tiles wide, 30 and 36 high
        needed = (60 + step % 11, 30 + step % 7)
        grid = grown_grid(needed, grid, 8)
        grids.add(grid)
    assert len(grids) == 1
