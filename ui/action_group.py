"""ActionGroup: the base of the console's command groups (``ui.file_actions``, ``ui.edit_actions``,
``ui.fix_actions``, ``ui.engine_actions``, ``ui.view_actions``, ``ui.help_actions``).

A group is given the narrow objects its commands act on (a ``DocumentEditor``, a view, the
``LiveController``, ...), never the main window. What a command has to say goes out as signals the
window connects: ``message`` to the status bar, ``dock_wanted`` to showing a dock. Its QActions are
added to ``host`` (the window), so their shortcuts work even while the menu bar is hidden; ``host``
also parents the message boxes a command opens.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Key = str | QKeySequence.StandardKey


class ActionGroup(QObject):
    message = Signal(str)
    """A line for the status bar (GUI thread)."""
    dock_wanted = Signal(str)
    """Show and raise the dock of this key (``ConsoleWindow.DOCKS``), whatever the workspace hides (GUI thread)."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.host = host

    def action(self, text: str, key: Key, slot: Callable[[], object], extra: list[str] | None = None) -> QAction:
        """A QAction for ``slot`` with its shortcut(s), added to the host."""
        action = QAction(text, self.host)
        action.setShortcuts([QKeySequence(key)] + [QKeySequence(k) for k in extra or []])
        action.triggered.connect(lambda _checked=False: slot())
        self.host.addAction(action)
        return action
