"""Undo: every edit reaches the document as a ChangeCommand on a QUndoStack.

``DocumentEditor.run(build)`` calls a pure edit function (which returns a Change or raises
EditError), pushes the Change as a command (pushing applies it), and reports refusals through
its ``refused`` signal, so every panel edits the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from vpstage.stage.change import Change, EditError
from vpstage.stage.document import StageDocument


class ChangeCommand(QUndoCommand):
    """redo applies the Change to the document, undo applies its inverse."""

    def __init__(self, document: StageDocument, change: Change) -> None:
        super().__init__(change.description)
        self.document, self.change = document, change

    def redo(self) -> None:
        self.document.apply(self.change)

    def undo(self) -> None:
        self.document.apply(self.change.inverse())


class DocumentEditor(QObject):
    """Runs edit operations on one document through one undo stack (GUI thread)."""

    refused = Signal(str)
    """An edit was refused (the EditError's message, for the status bar)."""

    def __init__(self, document: StageDocument, stack: QUndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.stack = document, stack

    def run(self, build: Callable[[], Change]) -> bool:
        """Build a Change and push it; False (and ``refused``) when the edit is refused or empty."""
        try:
            change = build()
        except EditError as exc:
            self.refused.emit(str(exc))
            return False
        if change.is_empty():
            return False
        self.stack.push(ChangeCommand(self.document, change))
        return True
