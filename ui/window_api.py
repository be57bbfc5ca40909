"""What the console's commands need from its main window (``ui.main_window.ConsoleWindow``).

The menu actions (``ui.actions``), the project commands (``ui.file_actions``) and the fixes
(``ui.fix_actions``) act on the window through this surface, so they depend on it rather than on
the window that builds them.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtGui import QAction, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMenuBar

from ui.commands import DocumentEditor
from ui.layout_editor.canvas_panel import CanvasPanel
from ui.layout_editor.map_view import PixelMapView
from ui.layout_editor.plan_view import WallPlanView
from ui.live.controller import LiveController
from ui.live.live_docks import LivePanels
from ui.stage_view.view import StageView
from ui.status_bar import ConsoleStatusBar
from ui.workspaces import Workspaces
from vpstage.stage.document import StageDocument


class ConsoleWindowApi(Protocol):
    document: StageDocument | None
    editor: DocumentEditor
    stack: QUndoStack
    undo_group: QUndoGroup
    status: ConsoleStatusBar
    docks: dict[str, QDockWidget]
    workspaces: Workspaces
    live: LiveController
    live_panels: LivePanels
    stage_view: StageView
    plan: WallPlanView
    map: PixelMapView
    canvas_panel: CanvasPanel

    def install_document(self, document: StageDocument, rehearsal: bool) -> None: ...

    def confirm_discard(self) -> bool:
        """True when it is fine to drop the current document (saved, or the operator agreed)."""
        ...

    def update_title(self, *_args: object) -> None: ...

    def show_dock(self, key: str) -> None:
        """Show and raise one dock, whatever the workspace hides."""
        ...

    def reset_layout(self) -> None: ...

    # the QMainWindow parts the commands use
    def menuBar(self) -> QMenuBar: ...

    def addAction(self, action: QAction) -> None: ...

    def close(self) -> bool: ...
