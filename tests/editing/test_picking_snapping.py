"""Ray picking against cabinet quads and the editors' snapping rules."""

from __future__ import annotations

import numpy as np
import pytest

from vpstage.stage.document import StageDocument
from vpstage.stage.picking import pick_quad
from vpstage.stage.snapping import plan_snap_points, section_snap_points, snap_plan_offset, snap_rect


def test_pick_the_cabinet_in_front_of_the_camera(flat_doc: StageDocument) -> None:
    cab = flat_doc.layout.cabinets
    hit = pick_quad(cab.corners, (0.3, -3.0, 1.6), (0.0, 1.0, 0.0))
    assert hit is not None and cab.ids[hit.index] == "wall/c06r02"
    assert hit.distance == pytest.approx(3.0) and hit.point == pytest.approx((0.3, 0.0, 1.6))
    behind = pick_quad(cab.corners, (0.3, 3.0, 1.6), (0.0, -1.0, 0.0))
    assert behind is not None and behind.index == hit.index
    assert pick_quad(cab.corners, (0.3, -3.0, 1.6), (0.0, -1.0, 0.0)) is None  # looking away
    assert pick_quad(cab.corners, (9.0, -3.0, 1.6), (0.0, 1.0, 0.0)) is None  # beside the wall


def test_pick_takes_the_nearest_quad(demo_doc: StageDocument) -> None:
    cab = demo_doc.layout.cabinets
    # Looking straight up from the floor centre: the ceiling is nearer than anything else.
    hit = pick_quad(cab.corners, (0.1, 0.1, 0.5), (0.0, 0.0, 1.0))
    assert hit is not None and cab.ids[hit.index].startswith("ceiling/")
    # Looking along +Y at 1.5 m: the centre arc at 4.5 m.
    hit = pick_quad(cab.corners, (0.0, 0.0, 1.5), (0.0, 1.0, 0.0))
    assert hit is not None and cab.ids[hit.index].startswith("wall-centre/")
    assert hit.distance == pytest.approx(4.5, abs=0.01)


def test_section_snap_points_are_the_wall_ends(flat_doc: StageDocument) -> None:
    points = section_snap_points(flat_doc.layout, 0)
    np.testing.assert_allclose(points, [[-3.0, 0.0], [3.0, 0.0]])


def test_plan_offset_snaps_to_a_neighbour_then_to_the_grid(demo_doc: StageDocument) -> None:
    left_end = section_snap_points(demo_doc.layout, 1)[:1]
    others = plan_snap_points(demo_doc.layout, [0, 2])
    # wall-centre starts exactly where wall-left ends: a small drag snaps back onto it
    assert snap_plan_offset(left_end, others, (0.05, -0.04), radius=0.15, grid=0.1) == pytest.approx((0.0, 0.0))
    far = snap_plan_offset(left_end, others, (1.03, 0.0), radius=0.15, grid=0.5)
    assert np.all(np.isclose(np.mod(left_end[0] + far, 0.5), 0.0) | np.isclose(np.mod(left_end[0] + far, 0.5), 0.5))
    assert snap_plan_offset(left_end, others, (1.03, 0.0), radius=0.15, grid=None) == pytest.approx((1.03, 0.0))


def test_rect_snaps_to_neighbour_edges_and_canvas_border() -> None:
    others = np.array([[0, 0, 128, 128], [128, 0, 256, 128]], dtype=np.float64)
    assert snap_rect((262, 5), (128, 128), others, (1920, 1080), radius=10) == (256, 0)
    assert snap_rect((1788, 950), (128, 128), others, (1920, 1080), radius=10) == (1792, 952)
    assert snap_rect((700, 500), (128, 128), others, (1920, 1080), radius=10, grid=64) == (704, 512)
    # a rectangle in another row is not attracted sideways
    assert snap_rect((262, 600), (128, 128), others, (1920, 1080), radius=10) == (262, 600)
