"""Section edits on the real example stages: geometry follows, the pixel map stays consistent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vpstage.stage.change import EditError
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import (
    add_column,
    add_section,
    duplicate_sections,
    move_sections,
    new_section_at,
    new_section_heights,
    omit_cabinets,
    remove_sections,
    rotate_plan,
    rotate_sections,
    update_section,
)


def _errors(doc: StageDocument) -> list[str]:
    return [p.format() for p in doc.validate() if p.severity == "error"]


def test_move_then_undo_restores_the_project(flat_doc: StageDocument) -> None:
    before = flat_doc.project.model_copy(deep=True)
    corners = flat_doc.layout.cabinets.corners.copy()
    change = move_sections(flat_doc.project, ["wall"], (1.0, 2.0, 0.5))
    assert flat_doc.project == before  # edits are pure
    flat_doc.apply(change)
    np.testing.assert_allclose(flat_doc.layout.cabinets.corners, corners + [1.0, 2.0, 0.5])
    flat_doc.apply(change.inverse())
    assert flat_doc.project == before
    np.testing.assert_allclose(flat_doc.layout.cabinets.corners, corners)


def test_rotate_turns_every_corner_about_the_pivot(flat_doc: StageDocument) -> None:
    corners = flat_doc.layout.cabinets.corners.copy()
    normals = flat_doc.layout.cabinets.normals().copy()
    flat_doc.apply(rotate_sections(flat_doc.project, flat_doc.layout, ["wall"], 90.0, pivot=(0.5, -1.0)))
    after = flat_doc.layout.cabinets.corners
    expected = np.array([rotate_plan(p, 90.0, (0.5, -1.0)) for p in corners[:, :, :2].reshape(-1, 2)])
    np.testing.assert_allclose(after[:, :, :2].reshape(-1, 2), expected, atol=1e-9)
    np.testing.assert_allclose(after[:, :, 2], corners[:, :, 2])
    # The LEDs faced -Y; a quarter turn clockwise seen from above makes them face -X.
    np.testing.assert_allclose(flat_doc.layout.cabinets.normals()[0], [-1.0, 0.0, 0.0], atol=1e-9)
    assert normals[0] == pytest.approx([0.0, -1.0, 0.0])
    assert _errors(flat_doc) == []


def test_rotating_an_arc_about_its_axis_keeps_it_on_the_circle(demo_doc: StageDocument) -> None:
    demo_doc.apply(rotate_sections(demo_doc.project, demo_doc.layout, ["wall-centre"], 30.0, pivot=(0.0, 0.0)))
    arc = demo_doc.project.sections[1]
    assert arc.kind == "arc" and arc.start_deg == pytest.approx(-44.5863 + 30.0)
    idx = [i for i, s in enumerate(demo_doc.layout.cabinets.section) if s == 1]
    radii = np.linalg.norm(demo_doc.layout.cabinets.corners[idx][:, :, :2], axis=2)
    np.testing.assert_allclose(radii, 4.5, atol=1e-9)


def test_arc_radius_and_sweep(demo_doc: StageDocument) -> None:
    catalog = demo_doc.catalog
    demo_doc.apply(update_section(demo_doc.project, catalog, "wall-left", {"radius_m": 6.0}))
    idx = [i for i, s in enumerate(demo_doc.layout.cabinets.section) if s == 0]
    radii = np.linalg.norm(demo_doc.layout.cabinets.corners[idx][:, :, :2], axis=2)
    np.testing.assert_allclose(radii, 6.0, atol=1e-9)
    # A sweep replaces the column count: 7 cabinets of 0.5 m at 6 m subtend about 33.4 degrees.
    step = math.degrees(2 * math.asin(0.5 / 12.0))
    demo_doc.apply(update_section(demo_doc.project, catalog, "wall-left", {"sweep_deg": 7 * step}))
    section = demo_doc.project.sections[0]
    assert section.kind == "arc" and section.columns is None
    assert sum(1 for s in demo_doc.layout.cabinets.section if s == 0) == 7 * 6
    # The map was cut to the 7 remaining columns: nothing names a vanished cabinet.
    assert not [e for e in _errors(demo_doc) if "does not exist" in e or "unknown cabinet" in e]


def test_bad_parameter_is_refused_with_the_field(demo_doc: StageDocument) -> None:
    with pytest.raises(EditError, match="radius_m"):
        update_section(demo_doc.project, demo_doc.catalog, "wall-left", {"radius_m": -1.0})


def test_shrinking_a_flat_grid_clips_the_blocks(flat_doc: StageDocument) -> None:
    flat_doc.apply(update_section(flat_doc.project, flat_doc.catalog, "wall", {"columns": 10, "rows": 5}))
    assert len(flat_doc.layout.cabinets) == 50
    assert [e.block.columns for e in flat_doc.project.pixel_map if e.block] == [(0, 9)] * 3
    assert flat_doc.project.pixel_map[-1].block is not None
    assert flat_doc.project.pixel_map[-1].block.rows == (4, 4)
    assert _errors(flat_doc) == []


def test_rename_carries_the_pixel_map_and_omissions(flat_doc: StageDocument) -> None:
    flat_doc.apply(omit_cabinets(flat_doc.project, ["wall/c00r05"]))
    flat_doc.apply(update_section(flat_doc.project, flat_doc.catalog, "wall", {"name": "main-wall"}))
    section = flat_doc.project.sections[0]
    assert section.kind == "flat" and section.omit == ["main-wall/c00r05"]
    assert {e.block.section for e in flat_doc.project.pixel_map if e.block} == {"main-wall"}
    assert _errors(flat_doc) == []


def test_omit_cabinet_and_undo(flat_doc: StageDocument) -> None:
    change = omit_cabinets(flat_doc.project, ["wall/c03r02", "wall/c04r02"])
    flat_doc.apply(change)
    assert len(flat_doc.layout.cabinets) == 70
    assert "wall/c03r02" not in flat_doc.layout.id_to_index
    assert _errors(flat_doc) == []  # the blocks skip omitted cabinets
    flat_doc.apply(change.inverse())
    assert len(flat_doc.layout.cabinets) == 72


def test_remove_section_drops_its_map_entries(demo_doc: StageDocument) -> None:
    demo_doc.apply(remove_sections(demo_doc.project, demo_doc.catalog, ["wall-left"]))
    assert [s.name for s in demo_doc.project.sections] == ["wall-centre", "wall-right", "ceiling"]
    assert all(e.block is None or e.block.section != "wall-left" for e in demo_doc.project.pixel_map)
    assert _errors(demo_doc) == []


def test_duplicate_arc_continues_the_circle(demo_doc: StageDocument) -> None:
    demo_doc.apply(duplicate_sections(demo_doc.project, demo_doc.layout, ["wall-right"]))
    copy = demo_doc.project.sections[-1]
    assert copy.name == "wall-right-2" and copy.kind == "arc"
    step = math.degrees(2 * math.asin(0.5 / 9.0))
    assert copy.start_deg == pytest.approx(44.5863 + 14 * step, abs=1e-6)
    unmapped = [e for e in _errors(demo_doc) if "has no pixel-map entry" in e]
    assert len(unmapped) == 14 * 6 and all("wall-right-2/" in e for e in unmapped)


def test_duplicate_flat_goes_beside_it(flat_doc: StageDocument) -> None:
    flat_doc.apply(duplicate_sections(flat_doc.project, flat_doc.layout, ["wall"]))
    copy = flat_doc.project.sections[1]
    assert copy.kind == "flat" and copy.origin == pytest.approx((3.0, 0.0, 0.0))


def test_new_section_faces_the_stage_centre(flat_doc: StageDocument) -> None:
    section = new_section_at(flat_doc.project, flat_doc.catalog, "roe-bp2v2", (4.0, 0.0))
    flat_doc.apply(add_section(flat_doc.project, section))
    cab = flat_doc.layout.cabinets
    mine = [i for i, s in enumerate(cab.section) if s == 1]
    centre = cab.centers()[mine].mean(axis=0)
    assert centre[:2] == pytest.approx([4.0, 0.0], abs=1e-9)
    np.testing.assert_allclose(cab.normals()[mine], np.tile([-1.0, 0.0, 0.0], (len(mine), 1)), atol=1e-9)
    ceiling = new_section_at(flat_doc.project, flat_doc.catalog, "roe-cb5", (0.0, 0.0))
    assert ceiling.kind == "ceiling" and ceiling.name == "ceiling"


def test_new_arc_is_centred_on_the_drop_point(flat_doc: StageDocument) -> None:
    arc = new_section_at(flat_doc.project, flat_doc.catalog, "roe-bp2v2", (-3.0, 3.0), kind="arc")
    flat_doc.apply(add_section(flat_doc.project, arc))
    cab = flat_doc.layout.cabinets
    mine = [i for i, s in enumerate(cab.section) if s == 1]
    radii = np.linalg.norm(cab.corners[mine][:, :, :2], axis=2)
    np.testing.assert_allclose(radii, math.hypot(3.0, 3.0), atol=1e-3)
    heading = np.degrees(np.arctan2(*cab.centers()[mine][:, :2].mean(axis=0)))
    assert heading == pytest.approx(-45.0, abs=0.5)  # centred on the drop point's heading
    assert np.all(np.einsum("ij,ij->i", cab.normals()[mine], cab.centers()[mine]) < 0)  # LEDs face inward


def test_new_sections_take_the_heights_of_the_stage_as_built(demo_doc: StageDocument, flat_doc: StageDocument) -> None:
    assert new_section_heights(None) == (0.0, 4.0)
    assert new_section_heights(demo_doc.layout) == (0.0, 3.6)  # walls on the floor, the ceiling at 3.6 m
    ceiling = new_section_at(demo_doc.project, demo_doc.catalog, "roe-cb5", (0.0, -6.0), layout=demo_doc.layout)
    assert ceiling.kind == "ceiling" and ceiling.center[2] == pytest.approx(3.6)  # type: ignore[union-attr]
    wall_top = float(flat_doc.layout.cabinets.corners[:, :, 2].max())
    assert new_section_heights(flat_doc.layout)[1] == pytest.approx(wall_top + 0.6)  # no ceiling yet: above the wall
    flat_doc.apply(move_sections(flat_doc.project, ["wall"], (0.0, 0.0, 0.4)))  # the wall on a 40 cm riser
    wall = new_section_at(flat_doc.project, flat_doc.catalog, "roe-bp2v2", (4.0, 0.0), layout=flat_doc.layout)
    arc = new_section_at(flat_doc.project, flat_doc.catalog, "roe-bp2v2", (4.0, 0.0), "arc", flat_doc.layout)
    assert wall.origin[2] == pytest.approx(0.4) and arc.base_z == pytest.approx(0.4)  # type: ignore[union-attr]
    flat_doc.apply(add_section(flat_doc.project, wall))
    lows = flat_doc.layout.cabinets.corners[:, :, 2].min(axis=1)
    assert lows.min() == pytest.approx(0.4)  # both walls stand on the riser


def test_add_column_keeps_existing_cabinets_in_place(demo_doc: StageDocument) -> None:
    before = demo_doc.layout
    demo_doc.apply(add_column(demo_doc.project, demo_doc.catalog, "ceiling"))
    after = demo_doc.layout
    for cid in ("ceiling/c00r00", "ceiling/c05r03"):
        np.testing.assert_allclose(after.cabinets.corners[after.id_to_index[cid]],
                                   before.cabinets.corners[before.id_to_index[cid]], atol=1e-9)
    assert "ceiling/c06r00" in after.id_to_index


def test_unknown_section_is_an_edit_error(flat_doc: StageDocument) -> None:
    with pytest.raises(EditError, match="no section named 'nope'"):
        move_sections(flat_doc.project, ["nope"], (1.0, 0.0))
