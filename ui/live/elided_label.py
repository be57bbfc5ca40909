"""ElidedLabel: a one-line label that gives way: its text is cut with an ellipsis to the width it
is given (never wrapping, never asking for more than ``max_hint`` pixels), the full text in its
tooltip. A long or many-line message can then never grow a toolbar or a status bar."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

MIN_CHARS = 6
SLACK_PX = 3
"""Room beyond the text's advance (glyphs may overhang it by a pixel or two)."""


class ElidedLabel(QLabel):
    clicked = Signal()

    def __init__(self, text: str = "", parent: QWidget | None = None, max_hint: int = 480) -> None:
        super().__init__(parent)
        self.max_hint = max_hint
        self._full = ""
        self._tooltip = ""
        self.setWordWrap(False)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._full = text  # nothing measured yet: the theme applies once the object name is set
        super().setText(text.splitlines()[0] if text else "")

    @property
    def full_text(self) -> str:
        return self._full

    @property
    def details(self) -> str:
        """The tooltip asked for with the text ('' when none was)."""
        return self._tooltip

    def set_full_text(self, text: str, tooltip: str = "") -> None:
        """Show the first line of ``text``, elided to the width. On hover: ``tooltip``, or the whole
        text when it does not fit or has more lines."""
        self._full = text
        self._tooltip = tooltip
        self._elide()
        self.updateGeometry()

    def _first_line(self) -> str:
        lines = self._full.splitlines()
        return lines[0] if lines else ""

    def _chrome(self) -> int:
        """Pixels of the label that are not text (margins, the theme's padding)."""
        return max(0, super().sizeHint().width() - self.fontMetrics().horizontalAdvance(self.text()))

    def _elide(self) -> None:
        line = self._first_line()
        room = max(0, self.width() - self._chrome())
        shown = self.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, room)
        if shown != self.text():
            super().setText(shown)
        cut = shown != line or line != self._full
        tip = self._tooltip or (self._full if cut else "")
        if tip != self.toolTip():
            self.setToolTip(tip)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        wanted = self._chrome() + self.fontMetrics().horizontalAdvance(self._first_line()) + SLACK_PX
        return QSize(min(self.max_hint, wanted), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self._chrome() + self.fontMetrics().horizontalAdvance("x" * MIN_CHARS), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()
            self.updateGeometry()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
