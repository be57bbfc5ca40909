"""Workspaces (Live and Edit, one key apart, remembered in the settings) and docks that move only
when meant to: by their drag handle, never from the title text or a splitter, not at all when
locked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import STAGES
from tests.ui.conftest import make_window
from ui.dock_title import DockTitleBar
from ui.main_window import ConsoleWindow
from vpstage.stage.document import StageDocument

LIVE = {"health", "tracking", "colour", "preview", "takes"}
EDIT = {"catalog", "plan", "section", "canvases", "map", "problems"}
DRAG_NOTICES = pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen: no raise, no grab


def _shown(window: ConsoleWindow) -> set[str]:
    return {key for key, dock in window.docks.items() if not dock.isHidden()}


def _title(dock: QDockWidget) -> DockTitleBar:
    title = dock.titleBarWidget()
    assert isinstance(title, DockTitleBar)
    return title


def _drag(widget: QWidget, start: QPoint, delta: QPoint) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 6):
        QTest.mouseMove(widget, start + QPoint(delta.x() * k // 5, delta.y() * k // 5))
        QApplication.processEvents()  # the main window moves its separators as the mouse goes
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + delta)


def _open(qtbot: QtBot, settings: Path, rehearsal: bool = False) -> ConsoleWindow:
    return make_window(qtbot, StageDocument.open(STAGES / "demo.yaml", untitled=rehearsal), settings, rehearsal)


def test_f2_switches_between_live_and_edit(qtbot: QtBot, window: ConsoleWindow) -> None:
    assert window.workspaces.current == "edit"  # a project opens to edit
    assert window.act.view.workspace["edit"].isChecked()
    assert _shown(window) == EDIT and not _title(window.docks["plan"]).locked
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_F2)
    assert window.workspaces.current == "live" and window.act.view.workspace["live"].isChecked()
    assert _shown(window) == LIVE
    health = window.docks["health"]
    assert _title(health).locked and not health.features() & QDockWidget.DockWidgetFeature.DockWidgetMovable
    assert window.act.view.lock_panels.isChecked()
    assert window.dockWidgetArea(health) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.dockWidgetArea(window.docks["tracking"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert health.width() > window.stage_view.width() * 0.5  # Health has real room, not 190 px
    qtbot.keyClick(window, Qt.Key.Key_F2)
    assert window.workspaces.current == "edit" and _shown(window) == EDIT
    window.act.view.workspace["live"].trigger()  # the menu entry (and the button in the menu bar's corner)
    assert window.workspaces.current == "live"


def test_rehearsal_opens_in_live_and_workspaces_are_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    settings = tmp_path / "cfg" / "console.ini"
    first = _open(qtbot, settings, rehearsal=True)
    assert first.workspaces.current == "live"
    first.docks["takes"].close()  # this arrangement is Live's own
    first.act.view.lock_panels.setChecked(False)
    first.workspaces.switch("edit")
    assert _shown(first) == EDIT
    first.workspaces.switch("live")
    assert _shown(first) == LIVE - {"takes"} and not first.workspaces.locked
    first.workspaces.switch("edit")
    first.close()
    second = _open(qtbot, settings, rehearsal=True)
    assert second.workspaces.current == "edit" and second.act.view.workspace["edit"].isChecked()
    assert _shown(second) == EDIT
    second.workspaces.switch("live")
    assert _shown(second) == LIVE - {"takes"} and not second.act.view.lock_panels.isChecked()
    second.act.view.reset_layout.trigger()  # Live as it comes: every panel back, locked
    assert _shown(second) == LIVE and second.workspaces.locked and second.act.view.lock_panels.isChecked()
    second.stack.setClean()


@DRAG_NOTICES
def test_a_dock_moves_by_its_handle_only(window: ConsoleWindow) -> None:
    dock = window.docks["plan"]
    title = _title(dock)
    _drag(title.title, QPoint(20, 5), QPoint(-300, 150))  # the title text: nothing moves
    assert not dock.isFloating() and window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    _drag(title, QPoint(title.width() // 2, 1), QPoint(-300, 150))  # the title's top edge, under the splitter
    assert not dock.isFloating()
    _drag(title.handle, QPoint(4, 4), QPoint(-300, 150))  # the handle: a deliberate drag
    assert dock.isFloating()
    window.reset_layout()
    assert not dock.isFloating() and window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea


@DRAG_NOTICES
def test_locked_docks_do_not_move_even_by_the_handle(window: ConsoleWindow) -> None:
    window.workspaces.switch("live")
    dock = window.docks["health"]
    title = _title(dock)
    assert title.handle.isHidden() and title.float_button.isHidden() and not title.close_button.isHidden()
    _drag(title, title.handle.geometry().center(), QPoint(-300, 150))
    assert not dock.isFloating()
    window.act.view.lock_panels.trigger()  # unlock: the handle is back and works
    assert not title.locked and not title.handle.isHidden()
    _drag(title.handle, QPoint(4, 4), QPoint(-300, 150))
    assert dock.isFloating()


def test_the_splitter_between_docks_resizes_them(qtbot: QtBot, window: ConsoleWindow) -> None:
    plan, section = window.docks["plan"], window.docks["section"]
    gap = (plan.geometry().bottom() + section.geometry().top()) // 2  # the separator between them
    assert section.geometry().top() - plan.geometry().bottom() >= 5  # wide enough to hit
    x = plan.geometry().center().x()
    before = plan.height()
    _drag(window, QPoint(x, gap), QPoint(0, 60))
    qtbot.waitUntil(lambda: plan.height() != before, timeout=2000)
    assert plan.height() == pytest.approx(before + 60, abs=6) and not plan.isFloating()
    assert not section.isFloating()
