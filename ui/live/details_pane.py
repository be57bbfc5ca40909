"""DetailsPane: a small window with the whole text behind a one-line state (every problem of a
failed engine start, every node's start-up step), selectable and copyable; it follows the text
while it is open."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget


class DetailsPane(QDialog):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsPane")
        self.setWindowTitle(title)
        self.setModal(False)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        box = QVBoxLayout(self)
        box.addWidget(self.text)
        box.addWidget(buttons)
        self.resize(720, 360)

    def show_text(self, text: str) -> None:
        """Show ``text`` (and the pane, raised)."""
        self.set_text(text)
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # no window stack to raise in there
            self.raise_()

    def set_text(self, text: str) -> None:
        if text != self.text.toPlainText():
            self.text.setPlainText(text)
