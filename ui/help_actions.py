"""HelpActions: the Help menu: open the folder of the console's log file (to send it with a bug
report) and About (the version and where the log is).

``log_file()`` says where the console logs now (``ui.live.console_log.ConsoleLog.path``: beside the
project, or in the config folder in rehearsal), None when no log file is set up (a console embedded
in a test or a tool). The file and its folder appear with the first record, so until then the
folder cannot be opened and the command says where the log will be.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

import vpstage
from ui.action_group import ActionGroup

LogFile = Callable[[], Path | None]


class HelpActions(ActionGroup):
    def __init__(self, host: QWidget, log_file: LogFile) -> None:
        super().__init__(host)
        self._log_file = log_file
        self.open_log_folder = self.action("Open &log folder", "", self.show_log_folder)
        self.about = self.action("&About vpstage", "", self.show_about)

    def menu_items(self) -> list[QAction | None]:
        """The Help menu, top to bottom (None: a separator)."""
        return [self.open_log_folder, None, self.about]

    def about_text(self) -> str:
        path = self._log_file()
        where = f"Log file: {path}" if path is not None else "No log file is set up for this console."
        return f"vpstage {vpstage.__version__}: operator console for LED-volume virtual production.\n\n{where}"

    def show_about(self) -> QMessageBox:
        """A non-blocking About box (returned for tests)."""
        box = QMessageBox(QMessageBox.Icon.Information, "About vpstage", self.about_text(),
                          QMessageBox.StandardButton.Ok, self.host)
        box.setObjectName("aboutBox")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # the path can be copied
        box.open()
        return box

    def show_log_folder(self) -> bool:
        """Open the log file's folder in the desktop's file manager; False (and why, in ``message``)
        when there is none yet or the desktop cannot open it."""
        path = self._log_file()
        if path is None:
            self.message.emit("no log file is set up for this console")
            return False
        if not path.parent.is_dir():
            self.message.emit(f"nothing logged yet: the log will be {path}")
            return False
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))):
            self.message.emit(f"could not open {path.parent}: open it by hand to find {path.name}")
            return False
        return True
