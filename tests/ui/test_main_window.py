"""Main window: dock layout persistence, files (atomic save, refusal), keyboard actions, reopening."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from tests.conftest import STAGES
from tests.ui.conftest import make_window
from tests.ui.live_rig import rig_factory
from ui.main_window import ConsoleWindow
from vpstage.stage import Stage
from vpstage.stage.document import StageDocument
from vpstage.stage.map_edits import MapPlacement, move_map_rects
from vpstage.stage.project_io import dump_project_yaml


def _message_boxes(window: ConsoleWindow) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_dock_layout_is_saved_and_restored(qtbot: QtBot, tmp_path: Path) -> None:
    settings = tmp_path / "cfg" / "console.ini"
    first = make_window(qtbot, StageDocument.open(STAGES / "demo.yaml", untitled=True), settings)
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.docks["catalog"])
    first.docks["problems"].hide()
    first.resize(760, 680)  # within the offscreen screen (800 x 800), above the window's minimum size
    first.close()
    assert settings.is_file()
    second = make_window(qtbot, StageDocument.open(STAGES / "demo.yaml", untitled=True), settings)
    assert second.dockWidgetArea(second.docks["catalog"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert second.docks["problems"].isHidden() and not second.docks["map"].isHidden()
    assert (second.width(), second.height()) == (760, 680)
    second.act.view.reset_layout.trigger()
    assert second.dockWidgetArea(second.docks["catalog"]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert not second.docks["problems"].isHidden()


def test_save_writes_the_canonical_file_atomically(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None and doc.path is not None
    original = doc.path.read_text()
    window.act.edit.rotate_cw.trigger()  # nothing selected: refused, nothing to save
    assert window.stack.count() == 0 and "select sections" in window.status.currentMessage()
    doc.select(doc.section_cabinets(["ceiling"]))
    window.act.edit.rotate_cw.trigger()
    assert window.windowTitle().endswith("*") and window.is_modified()
    assert window.act.file.save()
    assert doc.path.read_text() == dump_project_yaml(doc.project)
    assert doc.path.with_name(doc.path.name + ".bak").read_text() == original
    assert not list(doc.path.parent.glob(".*.tmp")) and not window.is_modified()
    assert not window.windowTitle().endswith("*")
    assert Stage.open(doc.path).project.sections[3].yaw_deg == 15.0


def test_save_refuses_an_invalid_project(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None and doc.path is not None
    original = doc.path.read_text()
    window.editor.run(lambda: move_map_rects(doc.project, doc.layout,
                                             {"wall-left/c00r05": MapPlacement("wall-left", 0, 0)}))
    assert not window.act.file.save()
    assert doc.path.read_text() == original and not doc.path.with_name(doc.path.name + ".bak").exists()
    boxes = _message_boxes(window)
    assert len(boxes) == 1 and "nothing was written" in boxes[0].text()
    assert "overlaps" in boxes[0].informativeText() and f"\n{doc.path.name}:" in f"\n{boxes[0].informativeText()}"
    boxes[0].close()
    assert window.is_modified() and window.problems.tree.topLevelItemCount() == 1


def test_rehearsal_saves_under_a_new_name(qtbot: QtBot, tmp_path: Path) -> None:
    demo = STAGES / "demo.yaml"
    before = demo.read_text()
    window = make_window(qtbot, StageDocument.open(demo, untitled=True), tmp_path / "console.ini", rehearsal=True)
    assert "REHEARSAL" in window.windowTitle() and window.status.mode.text() == "REHEARSAL"
    assert window.act.file.save_as(tmp_path / "my_stage.yaml")
    assert window.document is not None and window.document.path == tmp_path / "my_stage.yaml"
    assert Stage.open(tmp_path / "my_stage.yaml").project.name == "Demo volume"
    assert demo.read_text() == before  # the shipped demo is never written


def test_keyboard_edits_and_undo(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.plan.setFocus()
    doc.select(doc.section_cabinets(["wall-right"]))
    qtbot.keyClick(window.plan, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # duplicate
    assert [s.name for s in doc.project.sections][-1] == "wall-right-2"
    assert doc.selected_sections() == ["wall-right-2"]
    qtbot.keyClick(window.plan, Qt.Key.Key_Delete)  # the whole section is selected: it goes
    assert "wall-right-2" not in [s.name for s in doc.project.sections]
    doc.select(["wall-centre/c03r00", "wall-centre/c04r00"])
    qtbot.keyClick(window.plan, Qt.Key.Key_Delete)  # single cabinets: a door in the wall
    assert doc.project.sections[1].omit == ["wall-centre/c03r00", "wall-centre/c04r00"]
    assert len(doc.layout.cabinets) == 274 and window.stack.count() == 3
    qtbot.keyClick(window.plan, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.project.sections[1].omit == [] and len(doc.layout.cabinets) == 276
    qtbot.keyClick(window.plan, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(doc.layout.cabinets) == 274
    qtbot.keyClick(window.plan, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.selection) == 274
    qtbot.keyClick(window.plan, Qt.Key.Key_Escape)
    assert doc.selection == frozenset()
    qtbot.keyClick(window.plan, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.docks["problems"].isHidden()
    doc.select(doc.section_cabinets(["ceiling"]))
    name = next(w for spec, w in window.section_panel.editors.items() if spec.name == "name")
    name.setFocus()
    qtbot.keyClick(name, Qt.Key.Key_R)  # typing, not rotating
    assert doc.project.sections[3].yaw_deg == 0.0 and window.stack.count() == 3


def test_opening_another_project_rebuilds_the_panels(qtbot: QtBot, window: ConsoleWindow, tmp_path: Path) -> None:
    old = window.document
    assert old is not None
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsections: [{kind: flat}]\n")
    assert not window.act.file.open_project(broken)
    assert window.document is old and "could not be loaded" in _message_boxes(window)[0].text()
    _message_boxes(window)[0].close()
    assert window.act.file.open_project(STAGES / "flat_wall.yaml")
    new = window.document
    assert new is not None and new is not old and not window.rehearsal
    assert set(window.plan.items_by_name) == {"wall"} and len(window.map.items_by_id) == 72
    old.select(old.section_cabinets(["ceiling"]))  # the old document no longer drives any view
    assert not any(item.isSelected() for item in window.map.items_by_id.values())
    assert window.status.cabinets.text() == "72 cabinets"


def test_problem_locations_read_as_files_never_memory(qtbot: QtBot, tmp_path: Path) -> None:
    window = make_window(qtbot, StageDocument.open(STAGES / "demo.yaml", untitled=True), tmp_path / "c.ini",
                         rehearsal=True)
    doc = window.document
    assert doc is not None
    window.editor.run(lambda: move_map_rects(doc.project, doc.layout,
                                             {"wall-left/c00r05": MapPlacement("wall-left", 0, 0)}))
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    row = window.problems.tree.topLevelItem(0)
    assert row is not None and row.text(0) == f"unsaved project:{doc.problems[0].line}"  # rehearsal: no file yet
    assert window.act.file.save_as(tmp_path / "stage.yaml") is False  # errors: refused, and says where
    box = _message_boxes(window)[0]
    assert box.informativeText().startswith(f"unsaved project:{doc.problems[0].line}: pixel_map[")
    assert "<" not in box.informativeText()
    box.close()
    window.stack.undo()
    assert window.act.file.save_as(tmp_path / "stage.yaml")
    window.editor.run(lambda: move_map_rects(doc.project, doc.layout,
                                             {"wall-left/c00r05": MapPlacement("wall-left", 0, 0)}))
    qtbot.waitUntil(lambda: (row := window.problems.tree.topLevelItem(0)) is not None
                    and row.text(0).startswith("stage.yaml:"), timeout=2000)
    window.stack.setClean()


def test_the_engine_refuses_a_project_with_errors_and_says_where(qtbot: QtBot, demo_doc: StageDocument,
                                                                  tmp_path: Path) -> None:
    factory = rig_factory(tmp_path / "takes.sqlite")
    window = make_window(qtbot, demo_doc, tmp_path / "c.ini", engine_factory=factory)
    window.editor.run(lambda: move_map_rects(demo_doc.project, demo_doc.layout,
                                             {"wall-left/c00r05": MapPlacement("wall-left", 0, 0)}))
    window.docks["problems"].hide()
    window.act.engine.start_engine.trigger()
    line = demo_doc.problems[0].line
    assert window.status.currentMessage() == (f"the engine cannot start: 1 error(s), first demo.yaml:{line}: cabinet "
                                              "wall-left/c00r05 overlaps cabinet wall-left/c00r00 on canvas wall-left "
                                              "(see Problems)")
    assert window.live.state == "stopped" and factory.built == []  # type: ignore[attr-defined]
    assert window.docks["problems"].isVisible()
    window.stack.setClean()
