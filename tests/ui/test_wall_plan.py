"""Wall plan: select and drag sections (one undoable move), snapping, drops from the catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from pytestqt.qtbot import QtBot

from tests.ui.conftest import make_window
from ui.layout_editor.plan_items import to_scene
from ui.main_window import ConsoleWindow
from vpstage.stage.document import StageDocument


def _view_point(window: ConsoleWindow, x_m: float, y_m: float) -> QPoint:
    return window.plan.mapFromScene(to_scene(x_m, y_m))


def test_clicking_a_section_selects_all_its_cabinets(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    assert set(window.plan.items_by_name) == {"wall-left", "wall-centre", "wall-right", "ceiling"}
    qtbot.mouseClick(window.plan.viewport(), Qt.MouseButton.LeftButton, pos=_view_point(window, 0.0, 4.5))
    assert doc.selection == set(doc.section_cabinets(["wall-centre"]))
    assert window.plan.items_by_name["wall-centre"].isSelected()
    # the pixel map and the section panel follow
    assert window.map.items_by_id["wall-centre/c00r00"].isSelected()
    assert window.section_panel.title.text().startswith("wall-centre")


def test_drag_moves_the_section_once_and_undo_restores(qtbot: QtBot, flat_doc: StageDocument, tmp_path: Path) -> None:
    window = make_window(qtbot, flat_doc, tmp_path / "console.ini")
    viewport = window.plan.viewport()
    start = _view_point(window, 0.0, 0.0)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    moves: list[tuple[float, float]] = []
    window.plan.section_drag_changed.connect(lambda _names, dx, dy: moves.append((dx, dy)))
    for x in (0.3, 0.7, 1.04):
        qtbot.mouseMove(viewport, _view_point(window, x, -0.52))
    assert flat_doc.project.sections[0].origin == (-3.0, 0.0, 0.0)  # nothing written while dragging
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_view_point(window, 1.04, -0.52))
    assert moves and window.stack.count() == 1
    x, y, z = flat_doc.project.sections[0].origin
    assert abs(x - (-3.0 + 1.04)) < 0.1 and abs(y + 0.52) < 0.1 and z == 0.0  # where it was dropped...
    assert x * 10 == pytest.approx(round(x * 10)) and y * 10 == pytest.approx(round(y * 10))  # ...on the 10 cm grid
    stage_outline = window.stage_view.layers["outlines"].points.copy()
    window.stack.undo()
    assert flat_doc.project.sections[0].origin == (-3.0, 0.0, 0.0)
    assert (window.stage_view.layers["outlines"].points != stage_outline).any()  # the 3D view followed
    window.stack.setClean()


def test_dragged_section_snaps_onto_its_neighbour(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    plan = window.plan
    plan.items_by_name["wall-centre"].setSelected(True)
    start = to_scene(0.0, 4.5)
    plan._start_drag(start)
    offset = plan.drag_to(to_scene(0.08, 4.5 - 0.06))
    assert offset == pytest.approx((0.0, 0.0), abs=1e-6)  # its ends stay on wall-left and wall-right
    plan.finish_drag()
    assert window.stack.count() == 0


def test_dropping_panels_builds_sections(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    said: list[str] = []
    window.editor.refused.connect(said.append)
    assert window.plan.drop_panel("roe-bp2v2", _view_point(window, 0.0, -6.0))
    new = doc.project.sections[-1]
    assert new.kind == "flat" and new.panel == "roe-bp2v2" and new.yaw_deg == pytest.approx(180.0)
    assert window.plan.drop_panel("absen-pl3.9-pro", _view_point(window, 0.0, 4.5))  # same type: one more column
    assert doc.project.sections[1].columns == 15
    assert window.plan.drop_panel("roe-cb5", _view_point(window, 0.0, -8.0), "ceiling")
    assert doc.project.sections[-1].kind == "ceiling" and doc.project.sections[-1].name == "ceiling-2"
    assert not window.plan.drop_panel("roe-rb2.3", _view_point(window, 0.0, 4.5))
    assert "wall-centre is built from absen-pl3.9-pro" in said[-1]
    assert window.stack.count() == 3


def test_a_section_dropped_far_out_lands_in_the_3d_view(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    window.plan.fit_rect(QRectF(-1500, -1500, 3000, 3000))  # zoomed out: 15 m of floor each way
    viewport = window.plan.viewport().rect()
    near_corner = viewport.topLeft() + QPoint(12, 12)  # floor the 3D view does not show
    at = window.plan.mapToScene(near_corner)
    camera = window.stage_view.camera
    assert window.plan.drop_panel("roe-bp2v2", near_corner)
    new = doc.project.sections[-1]
    assert new.kind == "flat" and new.name == "wall"
    cab = doc.layout.cabinets
    mine = [i for i, s in enumerate(cab.section) if s == len(doc.project.sections) - 1]
    centre = cab.centers()[mine].mean(axis=0)
    assert centre[0] == pytest.approx(at.x() / 100, abs=0.05) and centre[1] == pytest.approx(-at.y() / 100, abs=0.05)
    assert cab.corners[mine][:, :, 2].min() == pytest.approx(0.0)  # standing on the floor, like the arcs
    assert window.stage_view.shows_sections(["wall"])  # in the 3D view's visible area
    assert window.stage_view.camera != camera  # the view widened to take it in
    assert window.stage_view.shows_sections(["wall-left", "wall-centre", "wall-right", "ceiling"])
    camera = window.stage_view.camera
    assert window.plan.drop_panel("roe-cb5", _view_point(window, 0.0, -3.2), "ceiling")  # in front of the ceiling
    assert doc.project.sections[-1].center[2] == pytest.approx(3.6)  # type: ignore[union-attr]  # with the ceiling
    assert window.stage_view.camera == camera  # already in sight: the view stays as it was
