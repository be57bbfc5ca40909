"""Canvases and processors in the console: add, resize, rename, re-route, remove (asking about the
cabinets a canvas carries), each one undoable command."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QMessageBox, QSpinBox
from pytestqt.qtbot import QtBot

from ui.layout_editor.canvas_panel import NO_PROCESSOR, UNMAP_AND_REMOVE
from ui.main_window import ConsoleWindow


def _field(window: ConsoleWindow, key: str, processor: bool = False) -> QSpinBox | QLineEdit | QComboBox:
    fields = window.canvas_panel.processor_fields if processor else window.canvas_panel.canvas_fields
    widget = fields[key]
    assert isinstance(widget, (QSpinBox, QLineEdit, QComboBox))
    return widget


def _rows(window: ConsoleWindow, processors: bool = False) -> list[list[str]]:
    table = window.canvas_panel.processors if processors else window.canvas_panel.canvases
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_canvases_are_listed_with_what_they_carry(window: ConsoleWindow) -> None:
    # 84 cabinets of 128 x 128 px on 1920 x 1080: 66 %
    assert _rows(window)[0] == ["wall-left", "1920×1080", "node1", "proc-left in 1", "84", "66 %"]
    assert [r[0] for r in _rows(window, processors=True)] == ["proc-left", "proc-centre", "proc-right", "proc-ceiling"]


def test_add_resize_rename_and_route_a_canvas_with_undo(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    panel = window.canvas_panel
    panel.add_canvas_button.click()
    assert [c.name for c in doc.project.canvases][-1] == "canvas" and panel.selected_canvas() == "canvas"
    assert window.stack.count() == 1 and _rows(window)[-1][:4] == ["canvas", "1920×1080", "node1", NO_PROCESSOR]
    width = _field(window, "width")
    assert isinstance(width, QSpinBox) and width.value() == 1920
    width.setValue(3840)  # a step or Enter: one command
    assert doc.project.canvases[-1].width == 3840 and window.stack.count() == 2
    assert "canvas" in window.map.slots and window.map.slots["canvas"].width == 3840  # the pixel map follows
    node = _field(window, "node")
    assert isinstance(node, QComboBox)
    node.setCurrentText("node2")
    node.activated.emit(node.currentIndex())
    assert doc.project.canvases[-1].node == "node2"
    name = _field(window, "name")
    assert isinstance(name, QLineEdit)
    name.setText("wall-left")  # taken: refused, the field shows the model's name again
    name.editingFinished.emit()
    assert name.text() == "canvas" and "already exists" in window.status.currentMessage()
    name.setText("floor")
    name.editingFinished.emit()
    assert doc.project.canvases[-1].name == "floor" and panel.selected_canvas() == "floor"
    window.stack.undo()
    window.stack.undo()
    window.stack.undo()
    assert doc.project.canvases[-1].width == 1920 and doc.project.canvases[-1].name == "canvas"
    window.stack.undo()
    assert len(doc.project.canvases) == 4 and len(_rows(window)) == 4


def test_removing_a_canvas_that_carries_cabinets_asks_and_unmaps(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    panel = window.canvas_panel
    panel.select_canvas("ceiling")
    box = panel.remove_selected_canvas()
    assert isinstance(box, QMessageBox) and box.isVisible() and "carries 24 cabinet(s)" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert len(doc.project.canvases) == 4 and window.stack.count() == 0
    panel.select_canvas("ceiling")
    panel.remove_canvas_button.click()
    box = panel.unmap_box
    assert box is not None and box.isVisible()
    next(b for b in box.buttons() if b.text() == UNMAP_AND_REMOVE).click()
    assert [c.name for c in doc.project.canvases] == ["wall-left", "wall-centre", "wall-right"]
    assert window.stack.count() == 1  # canvas and entries in one step
    assert len([i for i in window.map.items_by_id if i.startswith("ceiling/")]) == 24  # in the unmapped tray
    assert "unmapped (24)" in [item.title for item in window.map.scene().items() if hasattr(item, "title")]
    qtbot.waitUntil(lambda: window.problems.tree.topLevelItemCount() == 1, timeout=2000)
    window.stack.undo()
    assert len(doc.project.canvases) == 4 and not doc.validate()


def test_processors_are_edited_and_canvases_follow(window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    panel = window.canvas_panel
    panel.add_processor_button.click()
    assert doc.project.processors[-1].name == "processor" and panel.selected_processor() == "processor"
    panel.select_processor("proc-left")
    name = _field(window, "name", processor=True)
    assert isinstance(name, QLineEdit)
    name.setText("left")
    name.editingFinished.emit()
    assert doc.project.canvases[0].processor == "left" and _rows(window)[0][3] == "left in 1"
    ports = _field(window, "ports", processor=True)
    assert isinstance(ports, QSpinBox)
    ports.setValue(1)  # fewer ports than the map uses: validation says so, auto-layout repacks
    assert doc.project.processors[0].ports == 1
    assert any("port 1 does not exist" in p.message for p in doc.validate())
    panel.select_canvas("wall-left")
    feed = _field(window, "processor")
    assert isinstance(feed, QComboBox)
    feed.setCurrentText("processor")
    feed.activated.emit(feed.currentIndex())
    assert doc.project.canvases[0].processor == "processor"
    panel.select_processor("left")
    panel.remove_processor_button.click()
    assert doc.project.processors[0].name == "proc-centre"
    assert window.stack.count() == 5
