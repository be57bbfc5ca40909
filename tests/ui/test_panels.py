"""Section parameters (edit, then undo), the cabinet catalog and the problems list."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot

from ui.layout_editor.problems_panel import location
from ui.main_window import ConsoleWindow
from vpstage.stage.map_edits import MapPlacement, move_map_rects


def _editor(window: ConsoleWindow, name: str) -> QDoubleSpinBox | QSpinBox | QLineEdit:
    for spec, widget in window.section_panel.editors.items():
        if spec.name == name:
            assert isinstance(widget, (QDoubleSpinBox, QSpinBox, QLineEdit))
            return widget
    raise AssertionError(f"no editor for {name}")


def _radii(window: ConsoleWindow, section: int) -> np.ndarray:
    assert window.document is not None
    cab = window.document.layout.cabinets
    mine = [i for i, s in enumerate(cab.section) if s == section]
    return np.linalg.norm(cab.corners[mine][:, :, :2], axis=2)


def test_arc_radius_change_then_undo(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    doc.select(["wall-left/c02r03"])
    assert window.section_panel.title.text() == "wall-left · arc"
    radius = _editor(window, "radius_m")
    assert isinstance(radius, QDoubleSpinBox) and radius.value() == pytest.approx(4.5)
    outlines = window.stage_view.layers["outlines"].points.copy()
    radius.setValue(5.25)  # a step or Enter: one command
    assert window.stack.count() == 1 and doc.project.sections[0].radius_m == 5.25
    np.testing.assert_allclose(_radii(window, 0), 5.25, atol=1e-9)
    assert (window.stage_view.layers["outlines"].points != outlines).any()
    window.stack.undo()
    assert doc.project.sections[0].radius_m == 4.5 and radius.value() == pytest.approx(4.5)
    np.testing.assert_allclose(_radii(window, 0), 4.5, atol=1e-9)


def test_sweep_replaces_the_column_count(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    doc.select(["wall-right/c00r00"])
    step = math.degrees(2 * math.asin(0.5 / 9.0))
    sweep, columns = _editor(window, "sweep_deg"), _editor(window, "columns")
    assert isinstance(sweep, QDoubleSpinBox) and isinstance(columns, QSpinBox)
    assert sweep.value() == pytest.approx(14 * step, abs=1e-3)
    sweep.setValue(round(10 * step, 3))
    assert doc.project.sections[2].columns is None and columns.value() == 10
    assert len(doc.section_cabinets(["wall-right"])) == 60


def test_refused_rename_keeps_the_model_value(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    doc.select(["ceiling/c00r00"])
    name = _editor(window, "name")
    assert isinstance(name, QLineEdit)
    name.setText("wall-left")  # taken
    name.editingFinished.emit()
    assert name.text() == "ceiling" and window.stack.count() == 0
    assert "already exists" in window.status.currentMessage()
    name.setText("roof")
    name.editingFinished.emit()
    assert doc.project.sections[3].name == "roof" and window.section_panel.title.text() == "roof · ceiling"


def test_catalog_lists_panels_and_builds_with_the_keyboard(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    catalog = window.catalog
    assert catalog.panel_ids() == sorted(doc.catalog.panels)
    catalog.filter.setText("ruby")
    visible = [catalog.tree.topLevelItem(i) for i in range(catalog.tree.topLevelItemCount())]
    assert sorted(i.text(0) for i in visible if i is not None and not i.isHidden()) == ["roe-rb1.5", "roe-rb2.3"]
    first = next(i for i in visible if i is not None and not i.isHidden())
    catalog.tree.setCurrentItem(first)
    catalog.tree.setFocus()
    qtbot.keyClick(catalog.tree, Qt.Key.Key_Return)
    assert doc.project.sections[-1].panel == first.text(0) and window.stack.count() == 1
    catalog.build_as.setCurrentIndex(catalog.build_as.findData("arc"))
    qtbot.keyClick(catalog.tree, Qt.Key.Key_Return)
    assert doc.project.sections[-1].kind == "arc" and window.stack.count() == 2


def test_the_overview_keeps_its_comma(window: ConsoleWindow) -> None:
    assert window.document is not None and not window.document.selection
    text = window.section_panel.summary.text()
    assert text.startswith("4 sections · 276 cabinets · 4 647 936 LED px\n")  # thousands: spaces
    assert text.endswith("Select a section (plan, 3D view or pixel map) to edit its parameters.")


def test_problems_list_locations_and_selects_cabinets(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None and not doc.problems
    assert window.problems.header.text().startswith("No problems")
    window.editor.run(lambda: move_map_rects(doc.project, doc.layout,
                                             {"wall-right/c00r05": MapPlacement("wall-right", 0, 0)}))
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    item = window.problems.tree.topLevelItem(0)
    assert item is not None
    problem = doc.problems[0]
    assert item.text(0) == location(problem) and problem.line is not None and item.text(0).endswith(f":{problem.line}")
    assert item.text(1).startswith("pixel_map[") and "overlaps" in item.text(2)
    assert "1 error(s)" in window.problems.header.text()
    doc.select([])
    window.problems.tree.itemClicked.emit(item, 0)
    assert doc.selection == {"wall-right/c00r05", "wall-right/c00r00"}
