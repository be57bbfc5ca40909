"""Test patterns: golden images on the tiny stage, plus the properties they are meant to show.

Golden PNGs live in tests/engine/golden/. After an intended change, regenerate them with
``VPSTAGE_REGEN_GOLDEN=1 python -m pytest tests/engine/test_patterns.py`` and look at them.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from vpstage.patterns import PatternPainter, PatternSpec, read_frame_counter
from vpstage.stage import Stage
from vpstage.stage.pixels import cabinet_local_coords

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
TINY = FIXTURES / "tiny_stage.yaml"

GOLDEN_SPECS = {
    "cabinets": PatternSpec(name="cabinets"),
    "grid": PatternSpec(name="grid", grid_px=16),
    "bars": PatternSpec(name="bars"),
    "sync": PatternSpec(name="sync"),
    "solid": PatternSpec(name="solid", color=(255, 128, 0)),
    "black": PatternSpec(name="black"),
    "error": PatternSpec(name="error", text="asset demo.ply: file not found"),
    "cabinets_sync": PatternSpec(name="cabinets", sync_overlay=True),
}


@pytest.fixture(scope="module")
def painter() -> PatternPainter:
    return PatternPainter(Stage.open(TINY).layout)


@pytest.mark.parametrize("canvas", ["front", "side"])
@pytest.mark.parametrize("name", sorted(GOLDEN_SPECS))
def test_golden_images(painter: PatternPainter, name: str, canvas: str) -> None:
    image = painter.paint(canvas, GOLDEN_SPECS[name], 1234)
    assert image.dtype == np.uint8 and image.shape[2] == 4 and np.all(image[..., 3] == 255)
    path = GOLDEN / f"{name}_{canvas}.png"
    if os.environ.get("VPSTAGE_REGEN_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        cv2.imwrite(str(path), image[..., :3])
    golden = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert golden is not None, f"missing golden image {path}"
    assert np.array_equal(image[..., :3], golden), f"{path.name} changed"


def test_cabinet_corner_marks_follow_rotation_and_flip(painter: PatternPainter) -> None:
    """The red corner mark sits at each cabinet's own pixel (0, 0), wherever the map puts it."""
    layout = painter.layout
    for canvas in ("front", "side"):
        image = painter.paint(canvas, PatternSpec(name="cabinets"), 0)
        col, row = cabinet_local_coords(layout, layout.canvas_index(canvas))
        ys, xs = np.nonzero((col == 2) & (row == 2))  # just inside the outline, inside the mark
        assert len(ys) == len(layout.cabinets_on_canvas(layout.canvas_index(canvas)))
        assert np.all(image[ys, xs, :3] == (0, 0, 255))  # BGR red
        ys, xs = np.nonzero((col == 20) & (row == 16))  # cabinet centre area: never red
        assert not np.any(np.all(image[ys, xs, :3] == (0, 0, 255), axis=-1))


def test_solid_black_and_bars(painter: PatternPainter) -> None:
    solid = painter.paint("front", PatternSpec(name="solid", color=(10, 20, 30)), 5)
    assert np.all(solid[..., :3] == (30, 20, 10))
    assert not painter.paint("side", PatternSpec(name="black"), 5)[..., :3].any()
    bars = painter.paint("front", PatternSpec(name="bars"), 5)
    assert tuple(bars[0, 0, :3]) == (191, 191, 191) and tuple(bars[0, -1, :3]) == (191, 0, 0)


def test_sync_bar_moves_with_the_frame_and_counter_reads_back(painter: PatternPainter) -> None:
    first = painter.paint("front", PatternSpec(name="sync"), 64 * 10 + 0)
    later = painter.paint("front", PatternSpec(name="sync"), 64 * 10 + 32)
    lit_first = np.flatnonzero(first[40, :, 0] == 255)
    lit_later = np.flatnonzero(later[40, :, 0] == 255)
    assert lit_first.min() == 0 and lit_later.min() == 96  # half way across after half a period
    for frame in (0, 1, 1234, 2**24 - 1):
        assert read_frame_counter(painter.paint("front", PatternSpec(name="sync"), frame)) == frame
    assert read_frame_counter(painter.paint("front", PatternSpec(name="grid"), 3)) is None


def test_still_layers_are_shared_and_outputs_are_fresh(painter: PatternPainter) -> None:
    a = painter.paint("front", PatternSpec(name="grid"), 1)
    b = painter.paint("front", PatternSpec(name="grid"), 2)
    assert a is not b and np.array_equal(a, b)
    a[...] = 0  # a caller may scribble on its canvas without touching the cache
    assert painter.paint("front", PatternSpec(name="grid"), 3).any()


def test_bad_specs_are_refused(painter: PatternPainter) -> None:
    with pytest.raises(ValueError, match="unknown pattern"):
        PatternSpec(name="plaid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RGB"):
        PatternSpec(name="solid", color=(300, 0, 0))
    with pytest.raises(KeyError, match="no canvas"):
        painter.paint("nowhere", PatternSpec(name="grid"), 0)
