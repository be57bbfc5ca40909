"""ConsoleActions: every command of the console with its keyboard shortcut, by menu, and the menu
bar built from them.

Each group lives in its own module and acts on the narrow objects it is given, never the window:
``ui.file_actions`` (open, save, save-as, quit), ``ui.edit_actions`` (undo, section and cabinet
edits, selection, snapping, the editors' tool bars), ``ui.fix_actions`` (auto-layout with advice,
canvases, the Problems panel's fixes), ``ui.engine_actions`` (start, stop, record),
``ui.view_actions`` (framing, workspaces, panel layout) and ``ui.help_actions`` (log folder, About).
View → Ctrl+1 … Ctrl+9 toggle the docks in their order (``ConsoleWindow.DOCKS``; Canvases is Ctrl+0,
under Edit, and shows it even in Live).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar

from ui.action_group import ActionGroup
from ui.edit_actions import EditActions
from ui.engine_actions import EngineActions
from ui.file_actions import FileActions
from ui.fix_actions import ProblemFixes
from ui.help_actions import HelpActions
from ui.view_actions import ViewActions


@dataclass(frozen=True, kw_only=True)
class ConsoleActions:
    file: FileActions
    edit: EditActions
    fixes: ProblemFixes
    engine: EngineActions
    view: ViewActions
    help: HelpActions

    def groups(self) -> tuple[ActionGroup, ...]:
        return self.file, self.edit, self.fixes, self.engine, self.view, self.help


def _fill(menu: QMenu, items: Iterable[QAction | None]) -> None:
    for item in items:
        menu.addSeparator() if item is None else menu.addAction(item)


def build_menus(bar: QMenuBar, act: ConsoleActions, docks: Mapping[str, QDockWidget]) -> None:
    """File, Edit, Engine, View and Help."""
    file = act.file
    _fill(bar.addMenu("&File"), [file.open, file.save_action, file.save_as_action, None, file.quit])
    _fill(bar.addMenu("&Edit"), act.edit.menu_items())
    _fill(bar.addMenu("E&ngine"), act.engine.menu_items())
    _fill_view_menu(bar.addMenu("&View"), act.view, docks)
    _fill(bar.addMenu("&Help"), act.help.menu_items())


def _fill_view_menu(view: QMenu, actions: ViewActions, docks: Mapping[str, QDockWidget]) -> None:
    view.addAction(actions.frame)
    view.addSeparator()
    _fill(view.addMenu("&Workspace"), [*actions.workspace.values(), None, actions.switch_workspace])
    view.addAction(actions.lock_panels)
    view.addSeparator()
    for number, (key, dock) in enumerate(docks.items(), start=1):
        if key == "canvases":
            continue  # Ctrl+0: Edit → Canvases and processors (shows it, even in Live)
        toggle = dock.toggleViewAction()
        if number <= 9:
            toggle.setShortcut(QKeySequence(f"Ctrl+{number}"))
        view.addAction(toggle)
    if "canvases" in docks:
        view.addAction(docks["canvases"].toggleViewAction())
    view.addSeparator()
    view.addAction(actions.reset_layout)
