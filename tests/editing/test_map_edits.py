"""Pixel-map edits: moving a cabinet explodes its block and leaves its neighbours in place."""

from __future__ import annotations

import numpy as np
import pytest

from vpstage.stage.change import EditError
from vpstage.stage.document import StageDocument
from vpstage.stage.map_edits import MapPlacement, auto_layout_change, move_map_rects, rotate_map_rects
from vpstage.stage.model import MapEntry


def _positions(doc: StageDocument) -> dict[str, tuple[int, int, int]]:
    pm, ids = doc.layout.pixel_map, doc.layout.cabinets.ids
    return {cid: (int(pm.canvas[i]), int(pm.x[i]), int(pm.y[i])) for i, cid in enumerate(ids)}


def test_moving_one_cabinet_explodes_only_its_block(demo_doc: StageDocument) -> None:
    before = _positions(demo_doc)
    entries_before = len(demo_doc.project.pixel_map)
    change = move_map_rects(demo_doc.project, demo_doc.layout, {"wall-left/c03r02": MapPlacement("wall-left", 0, 800)})
    demo_doc.apply(change)
    after = _positions(demo_doc)
    assert after.pop("wall-left/c03r02") == (0, 0, 800)
    before.pop("wall-left/c03r02")
    assert after == before  # every other cabinet keeps its pixels
    # the 14 x 4 block became 56 single entries; the other 12 entries are untouched
    assert len(demo_doc.project.pixel_map) == entries_before - 1 + 56
    assert demo_doc.project.pixel_map[56] == MapEntry.model_validate(
        {"block": {"section": "wall-left", "columns": [0, 7], "rows": [4, 4]}, "canvas": "wall-left",
         "x": 0, "y": 512, "port": 0})
    assert [p.format() for p in demo_doc.validate()] == []
    demo_doc.apply(change.inverse())
    assert len(demo_doc.project.pixel_map) == entries_before


def test_move_between_canvases(demo_doc: StageDocument) -> None:
    demo_doc.apply(move_map_rects(demo_doc.project, demo_doc.layout,
                                  {"wall-left/c00r05": MapPlacement("ceiling", 1000, 0)}))
    assert _positions(demo_doc)["wall-left/c00r05"] == (3, 1000, 0)
    assert [p.format() for p in demo_doc.validate()] == []


def test_overlap_is_reported_on_the_moved_cabinet(demo_doc: StageDocument) -> None:
    demo_doc.apply(move_map_rects(demo_doc.project, demo_doc.layout,
                                  {"wall-left/c00r05": MapPlacement("wall-left", 64, 0)}))
    problems = demo_doc.validate()
    assert any("overlaps" in p.message for p in problems)
    sites = demo_doc.problem_cabinets()
    assert "wall-left/c00r05" in sites and "wall-left/c00r00" in sites
    # lines point into the canonical text a save would write
    overlap = next(p for p in problems if "overlaps" in p.message)
    from vpstage.stage.project_io import dump_project_yaml

    line = dump_project_yaml(demo_doc.project).splitlines()[overlap.line - 1]
    assert "wall-left/c0" in line


def test_rotate_a_ceiling_cabinet_swaps_its_footprint(demo_doc: StageDocument) -> None:
    demo_doc.apply(rotate_map_rects(demo_doc.project, demo_doc.layout, ["ceiling/c05r03"]))
    idx = demo_doc.layout.id_to_index["ceiling/c05r03"]
    assert demo_doc.layout.footprint(idx) == (208, 104)
    assert int(demo_doc.layout.pixel_map.rotation[idx]) == 90


def test_bad_moves_are_refused(demo_doc: StageDocument) -> None:
    with pytest.raises(EditError, match="no canvas named"):
        move_map_rects(demo_doc.project, demo_doc.layout, {"wall-left/c00r00": MapPlacement("nope", 0, 0)})
    with pytest.raises(EditError, match="unknown cabinet"):
        move_map_rects(demo_doc.project, demo_doc.layout, {"wall-left/c99r00": MapPlacement("ceiling", 0, 0)})


def test_auto_layout_maps_new_cabinets(flat_doc: StageDocument) -> None:
    from vpstage.stage.edits import update_section

    flat_doc.apply(update_section(flat_doc.project, flat_doc.catalog, "wall", {"columns": 10}))
    flat_doc.apply(auto_layout_change(flat_doc.project, flat_doc.layout))
    assert [p.format() for p in flat_doc.validate()] == []
    assert np.all(flat_doc.layout.pixel_map.canvas == 0)
