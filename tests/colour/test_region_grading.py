"""Colour regions on a render node: the torch path against the numpy reference, the formula at
known pixels, the feather ramp, and that nothing outside a region's rectangle changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from render.node.regions import CanvasRegions
from vpstage.colour.grading import RegionGrade, feather_ramp, grade_reference, graded_values, rescaled_grades

WARM = RegionGrade(canvas="front", rect=(8, 4, 40, 28), feather_px=6.0, lift=(0.05, 0.0, -0.02),
                   gamma=(1.2, 1.0, 0.8), gain=(1.1, 0.95, 0.9), saturation=0.6)
COOL = RegionGrade(canvas="front", rect=(30, 20, 70, 50), feather_px=0.0, gain=(0.8, 0.9, 1.2), saturation=1.5)
EDGE = RegionGrade(canvas="front", rect=(-10, 40, 20, 90), feather_px=4.0, lift=(0.1, 0.1, 0.1))
"""Partly outside the 64 x 48 canvas (a rectangle from the wire is not trusted)."""
OTHER = RegionGrade(canvas="side", rect=(0, 0, 64, 48), gain=(0.0, 0.0, 0.0))


def canvas_image(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((48, 64, 3), dtype=np.float32)


def test_a_neutral_region_changes_nothing() -> None:
    image = canvas_image()
    neutral = RegionGrade(canvas="front", rect=(0, 0, 64, 48), feather_px=10.0)
    np.testing.assert_allclose(grade_reference(image, [neutral], "front"), image, atol=1e-6)


def test_the_formula_at_one_pixel() -> None:
    grade = RegionGrade(canvas="front", rect=(0, 0, 4, 4), lift=(0.1, 0.0, 0.0), gamma=(2.0, 1.0, 0.5),
                        gain=(1.0, 0.5, 1.0), saturation=0.0)
    v = np.array([0.5, 0.5, 0.5], np.float32)
    r = (0.5 + 0.1 * 0.5) ** 0.5
    g = 0.25
    b = 0.5 ** 2
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    np.testing.assert_allclose(graded_values(v, grade), [luma] * 3, rtol=1e-12)


def test_the_feather_ramps_linearly_inside_the_rectangle() -> None:
    np.testing.assert_allclose(feather_ramp(10, 20, 10, 20, 4.0), [0.125, 0.375, 0.625, 0.875, 1, 1, 0.875,
                                                                  0.625, 0.375, 0.125])
    np.testing.assert_array_equal(feather_ramp(10, 20, 12, 14, 0.0), [1, 1])
    image = np.full((48, 64, 3), 0.5, np.float32)
    out = grade_reference(image, [WARM], "front")
    x0, y0, x1, _y1 = WARM.rect
    full = graded_values(image[0, 0], WARM)
    np.testing.assert_allclose(out[16, 20], full, rtol=1e-6)  # 8+ px from every edge: fully graded
    np.testing.assert_allclose(out[16, x0], 0.5 + (0.5 / 6) * (full - 0.5), rtol=1e-6)  # first column
    assert np.array_equal(out[:y0], image[:y0]) and np.array_equal(out[:, x1:], image[:, x1:])


@pytest.mark.parametrize("grades", [(WARM,), (WARM, COOL), (COOL, WARM, EDGE, OTHER)])
def test_torch_matches_the_reference(grades: tuple[RegionGrade, ...]) -> None:
    image = canvas_image()
    colour = torch.from_numpy(image.copy())
    CanvasRegions("cpu").apply("front", grades, colour)
    np.testing.assert_allclose(colour.numpy(), grade_reference(image, grades, "front"), atol=2e-6)


def test_pixels_outside_every_rectangle_are_untouched() -> None:
    image = canvas_image(2)
    colour = torch.from_numpy(image.copy())
    CanvasRegions("cpu").apply("front", (WARM, COOL, OTHER), colour)
    inside = np.zeros((48, 64), bool)
    for x0, y0, x1, y1 in (WARM.rect, COOL.rect):
        inside[y0:y1, x0:x1] = True
    assert np.array_equal(colour.numpy()[~inside], image[~inside])
    assert not np.allclose(colour.numpy()[inside], image[inside])


def test_frames_reuse_the_scratch_and_the_prepared_regions() -> None:
    regions = CanvasRegions("cpu")
    colour = torch.from_numpy(canvas_image())
    regions.apply("front", (WARM, COOL), colour)
    scratch = {k: v[0].data_ptr() for k, v in regions._scratch.items()}
    prepared = dict(regions._prepared)
    for _ in range(3):
        regions.apply("front", (WARM, COOL), colour)
    assert {k: v[0].data_ptr() for k, v in regions._scratch.items()} == scratch
    assert all(regions._prepared[k] is v for k, v in prepared.items())
    assert scratch["front"] and regions._scratch["front"][1].numel() == 34 * 28  # the larger part on the canvas


def test_rescaled_grades_follow_a_scaled_down_canvas() -> None:
    [scaled] = rescaled_grades([WARM, OTHER], {"front": (64, 48)}, {"front": (32, 24)})
    assert scaled.rect == (4, 2, 20, 14) and scaled.feather_px == 3.0 and scaled.gain == WARM.gain
    assert rescaled_grades([WARM], {"front": (64, 48)}, {"front": (64, 48)}) == (WARM,)
