"""The Problems panel groups near-identical problems into one row with a count and fix buttons;
the fixes work (auto-layout with its advice box, add a canvas), each one undoable step."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from ui.main_window import ConsoleWindow
from vpstage.stage.edits import add_section, new_section_at


def _grow(window: ConsoleWindow) -> None:
    """A fifth section nobody mapped (24 cabinets); the four canvases are full."""
    doc = window.document
    assert doc is not None
    window.editor.run(lambda: add_section(doc.project, new_section_at(doc.project, doc.catalog, "absen-pl3.9-pro",
                                                                      (0.0, -4.0))))


def _button(window: ConsoleWindow, row: int, label: str) -> QPushButton:
    buttons = {b.text(): b for b in window.problems.fix_buttons(row)}
    assert label in buttons, f"no {label!r} among {list(buttons)}"
    return buttons[label]


def _box(window: ConsoleWindow, name: str) -> QMessageBox:
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible() and w.objectName() == name]
    assert len(boxes) == 1
    return boxes[0]


def test_23_rows_become_one_group_with_a_count_and_fixes(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    _grow(window)
    tree = window.problems.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 1, timeout=2000)
    row = tree.topLevelItem(0)
    assert row is not None and row.childCount() == 24
    assert row.text(2) == ("24 cabinets of section wall have no pixel-map entry\n"
                           "the cabinets need 1 more canvas of 1920×1080")
    line = doc.problems[0].line
    assert row.text(0) == f"demo.yaml:{line} (+23)" and row.text(1) == "sections[4]"
    assert row.child(3).text(2) == "cabinet wall/c03r00 has no pixel-map entry"
    assert row.child(3).text(0) == f"demo.yaml:{line}"
    assert [b.text() for b in window.problems.fix_buttons(0)] == ["Add canvas", "Auto-layout"]
    assert "24 error(s)" in window.problems.header.text()
    tree.itemClicked.emit(row, 0)  # the group selects every cabinet it is about
    assert doc.selection == set(doc.section_cabinets(["wall"]))
    tree.itemClicked.emit(row.child(0), 0)  # a member selects its own
    assert doc.selection == {"wall/c00r00"}


def test_auto_layout_fix_offers_a_canvas_and_does_it_in_one_step(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    _grow(window)
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    count = window.stack.count()
    _button(window, 0, "Auto-layout").click()
    box = _box(window, "autoLayoutBox")  # no lone status-bar line: the way out is offered
    assert "do not fit the canvases" in box.text() and "fit with 1 more canvas of 1920×1080" in box.informativeText()
    assert "auto-layout refused: the cabinets need 1 more canvas" in window.status.currentMessage()
    assert window.stack.count() == count  # nothing changed yet
    add = next(b for b in box.buttons() if b.text() == "Add 1 canvas and auto-layout")
    add.click()
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 0, timeout=2000)
    assert [c.name for c in doc.project.canvases][-1] == "canvas" and window.stack.count() == count + 1
    assert window.problems.header.text().startswith("No problems")
    assert "canvas" in window.map.slots  # the pixel map shows the new canvas
    window.stack.undo()  # one step takes canvas and map back
    assert len(doc.project.canvases) == 4
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)


def test_add_canvas_fix_then_auto_layout(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    _grow(window)
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    _button(window, 0, "Add canvas").click()
    assert [c.name for c in doc.project.canvases] == ["wall-left", "wall-centre", "wall-right", "ceiling", "canvas"]
    assert window.docks["canvases"].isVisible() and window.canvas_panel.selected_canvas() == "canvas"
    qtbot.waitUntil(lambda: [b.text() for b in window.problems.fix_buttons(0)] == ["Auto-layout", "Add canvas"],
                    timeout=2000)  # it fits now: auto-layout first, no hint
    _button(window, 0, "Auto-layout").click()
    assert not [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 0, timeout=2000)
    assert "auto-layout:" in window.status.currentMessage()


def test_resize_canvas_fix_opens_the_canvas(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    window.canvas_panel.select_canvas("wall-left")
    window.canvas_panel.canvas_fields["width"].setValue(1000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    row = window.problems.tree.topLevelItem(0)
    assert row is not None and row.text(2).startswith("42 cabinets lie outside canvas wall-left\nthe cabinets need")
    assert [b.text() for b in window.problems.fix_buttons(0)] == ["Add canvas", "Auto-layout", "Resize canvas"]
    window.canvas_panel.select_canvas(None)
    _button(window, 0, "Resize canvas").click()
    assert window.docks["canvases"].isVisible() and window.canvas_panel.selected_canvas() == "wall-left"
    window.canvas_panel.canvas_fields["width"].setValue(1920)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 0, timeout=2000)
