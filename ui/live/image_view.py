"""ImageView: a QImage drawn to fit (aspect kept) on a dark background, with a caption.

Holds only the last image it was given (and the array behind it, when the image wraps one).
Clicking it emits ``clicked`` (the preview grid uses that to pick the large view's canvas).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor("#0b0d10")
CAPTION = QColor("#d6dae0")
HIGHLIGHT = QColor("#4f8fe8")


class ImageView(QWidget):
    clicked = Signal()
    resized = Signal()

    def __init__(self, caption: str = "", parent: QWidget | None = None, min_size: QSize | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.placeholder = "no picture"
        self.highlighted = False
        self._image: QImage | None = None
        self._keep: object = None
        self.source: object = None
        """What the shown image was made from (callers compare identity to skip unchanged frames)."""
        self.setMinimumSize(min_size or QSize(120, 68))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @property
    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None, keep: object = None) -> None:
        """Show ``image`` (None: the placeholder text). ``keep`` is held while the image is shown
        (the numpy array a wrapping QImage reads from)."""
        self._image, self._keep = image, keep
        self.update()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        if self._image is None:
            self.update()

    def image_rect(self) -> QRectF:
        """Where the image is drawn: centred, as large as fits with its aspect ratio."""
        if self._image is None or self._image.isNull():
            return QRectF()
        w, h = self.width(), self.height()
        scale = min(w / self._image.width(), h / self._image.height())
        dw, dh = self._image.width() * scale, self._image.height() * scale
        return QRectF((w - dw) / 2, (h - dh) / 2, dw, dh)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is not None and not self._image.isNull():
            painter.drawImage(self.image_rect(), self._image)
        else:
            painter.setPen(QColor("#6c7480"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
        if self.caption:
            painter.setPen(CAPTION)
            metrics = painter.fontMetrics()
            box = QRectF(0, 0, metrics.horizontalAdvance(self.caption) + 10, metrics.height() + 4)
            painter.fillRect(box, QColor(0, 0, 0, 160))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.caption)
        if self.highlighted:
            painter.setPen(QPen(HIGHLIGHT, 2))
            painter.drawRect(self.rect().adjusted(1, 1, -1, -1))
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
