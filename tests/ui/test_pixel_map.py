"""Pixel-map editor: drag a cabinet (one undoable command), undo, the tray, turning, auto-layout."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot

from ui.layout_editor.map_items import TRAY
from ui.main_window import ConsoleWindow


def _positions(window: ConsoleWindow) -> dict[str, tuple[int, int, int]]:
    assert window.document is not None
    pm, ids = window.document.layout.pixel_map, window.document.layout.cabinets.ids
    return {cid: (int(pm.canvas[i]), int(pm.x[i]), int(pm.y[i])) for i, cid in enumerate(ids)}


def _view_pos(window: ConsoleWindow, scene: QPointF) -> QPoint:
    return window.map.mapFromScene(scene)


def test_rectangles_sit_where_the_map_puts_them(window: ConsoleWindow) -> None:
    items, slots = window.map.items_by_id, window.map.slots
    assert len(items) == 276 and TRAY not in slots
    origin = slots["wall-left"].origin
    assert items["wall-left/c13r05"].pos() == origin + QPointF(13 * 128, 640)
    assert items["ceiling/c05r03"].size == (104, 208)


def test_drag_a_cabinet_then_undo(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    before = _positions(window)
    entries = list(doc.project.pixel_map)
    cabinet = "wall-left/c13r05"
    home = QPointF(window.map.items_by_id[cabinet].pos())
    grab = home + QPointF(64, 64)
    target = window.map.slots["wall-left"].origin + QPointF(600 + 64, 900 + 64)
    viewport = window.map.viewport()
    window.act.edit.snap.trigger()  # free placement: the target lands where the mouse lets go
    assert not window.map.snap_enabled
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_view_pos(window, grab))
    qtbot.mouseMove(viewport, _view_pos(window, (grab + target) / 2))
    qtbot.mouseMove(viewport, _view_pos(window, target))
    assert doc.project.pixel_map == entries  # the drag shows on screen only
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_view_pos(window, target))
    assert window.stack.count() == 1 and doc.selection == {cabinet}
    after = _positions(window)
    canvas, x, y = after.pop(cabinet)
    assert canvas == 0 and abs(x - 600) <= 8 and abs(y - 900) <= 8  # within a view pixel
    before_moved = before.pop(cabinet)
    assert after == before  # the exploded block keeps every other cabinet in place
    # the 3D view draws the selected cabinet; the wall plan marks it
    assert len(window.stage_view.layers["marks"]) == 4
    window.stack.undo()
    assert doc.project.pixel_map == entries
    assert _positions(window)[cabinet] == before_moved
    assert window.map.items_by_id[cabinet].pos() == home  # items are rebuilt from the model


def _drag(window: ConsoleWindow, cabinet: str, top_left: QPointF) -> None:
    """Drag one cabinet (alone) so its top-left lands on ``top_left`` (scene), without snapping."""
    view = window.map
    item = view.items_by_id[cabinet]
    view.scene().clearSelection()
    item.setSelected(True)
    view.start_drag(item, item.pos())
    view.drag_to(top_left, free=True)
    view.finish_drag()


def test_tray_unmaps_and_maps_back(window: ConsoleWindow, qtbot: QtBot) -> None:
    doc = window.document
    assert doc is not None
    view = window.map
    said: list[str] = []
    window.editor.refused.connect(said.append)
    below = max(s.rect().bottom() for s in view.slots.values())
    _drag(window, "ceiling/c05r03", QPointF(0, below + 400))  # onto nothing
    assert window.stack.count() == 0 and "drop cabinets onto a canvas" in said[-1]
    from vpstage.stage.map_edits import unmap_cabinets

    window.editor.run(lambda: unmap_cabinets(doc.project, doc.layout, ["ceiling/c05r03"]))
    assert TRAY in view.slots and view.slots[TRAY].rect().contains(view.items_by_id["ceiling/c05r03"].pos())
    _drag(window, "ceiling/c04r03", view.slots[TRAY].origin + QPointF(400, 0))  # into the tray: unmapped
    assert _positions(window)["ceiling/c04r03"][0] == -1
    qtbot.waitUntil(lambda: sum("no pixel-map entry" in p.message for p in doc.problems) == 2, timeout=2000)
    for cabinet, x in (("ceiling/c05r03", 520), ("ceiling/c04r03", 416)):  # back where they were
        _drag(window, cabinet, view.slots["ceiling"].origin + QPointF(x, 624))
    qtbot.waitUntil(lambda: not doc.problems, timeout=2000)
    assert _positions(window)["ceiling/c05r03"] == (3, 520, 624)
    assert window.stack.count() == 4


def test_turning_an_image_flags_the_overlap(qtbot: QtBot, window: ConsoleWindow) -> None:
    doc = window.document
    assert doc is not None
    doc.select(["ceiling/c00r00"])
    window.act.edit.turn_image.trigger()
    qtbot.waitUntil(lambda: bool(doc.problems), timeout=2000)
    assert window.map.items_by_id["ceiling/c00r00"]._problem
    assert window.status.validation.text().endswith("ERROR") or "ERRORS" in window.status.validation.text()
    window.act.edit.auto_layout.trigger()  # auto-layout rewrites the map from scratch
    qtbot.waitUntil(lambda: not doc.problems, timeout=2000)
    assert window.stack.count() == 2 and window.status.validation.text() == "VALID"
