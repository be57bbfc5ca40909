"""ImageView: a QImage drawn to fit (aspect kept) on a dark background, with a caption.

Holds only the last image it was given (and the array behind it, when the image wraps one), with
the wall-clock time it was made. When the engine stops, the picture stays but is marked stale
(``set_stale``): drawn in grey, dimmed, with a label such as ``stopped at 14:02:33``, so an old
picture is never mistaken for a live one. Clicking it emits ``clicked`` (the preview grid uses that
to pick the large view's canvas).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BACKGROUND = QColor("#0b0d10")
CAPTION = QColor("#d6dae0")
HIGHLIGHT = QColor("#4f8fe8")
STALE_OPACITY = 0.45
STALE_BADGE = QColor(40, 44, 52, 220)
MIN_LABEL_PX = 8


def fitted_font(base: QFont, text: str, width: int) -> QFont:
    """``base``, made smaller (down to ``MIN_LABEL_PX`` pixels) until ``text`` fits ``width``:
    a small thumbnail gets a smaller label rather than a cut one."""
    font = QFont(base)
    size = font.pixelSize() if font.pixelSize() > 0 else round(QFontMetrics(font).height() * 0.8)
    while QFontMetrics(font).horizontalAdvance(text) > width and size > MIN_LABEL_PX:
        size -= 1
        font.setPixelSize(size)
    return font


class ImageView(QWidget):
    clicked = Signal()
    resized = Signal()

    def __init__(self, caption: str = "", parent: QWidget | None = None, min_size: QSize | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.placeholder = "no picture"
        self.highlighted = False
        self._image: QImage | None = None
        self._grey: QImage | None = None
        self._keep: object = None
        self.made_at = 0.0
        """Wall-clock time (``time.time()``) the shown image was made (0: unknown)."""
        self.stale_label: str | None = None
        """Why the shown image is old (``stopped at 14:02:33``); None while it is live."""
        self.source: object = None
        """What the shown image was made from (callers compare identity to skip unchanged frames)."""
        self.setMinimumSize(min_size or QSize(120, 68))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    @property
    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None, keep: object = None, made_at: float = 0.0) -> None:
        """Show ``image`` (None: the placeholder text), live. ``keep`` is held while the image is
        shown (the numpy array a wrapping QImage reads from); ``made_at`` is when it was made."""
        self._image, self._keep, self.made_at = image, keep, made_at
        self._grey, self.stale_label = None, None
        self.update()

    def set_stale(self, label: str) -> None:
        """Keep the image, greyed and labelled ``label`` (no effect without an image)."""
        if self._image is None or self._image.isNull():
            return
        if self._grey is None:
            self._grey = self._image.convertToFormat(QImage.Format.Format_Grayscale8)
        self.stale_label = label
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
            self._draw_image(painter)
        else:
            painter.setPen(QColor("#6c7480"))
            painter.drawText(self.rect().adjusted(4, 0, -4, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
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

    def _draw_image(self, painter: QPainter) -> None:
        assert self._image is not None
        if self.stale_label is None or self._grey is None:
            painter.drawImage(self.image_rect(), self._image)
            return
        painter.save()
        painter.setOpacity(STALE_OPACITY)
        painter.drawImage(self.image_rect(), self._grey)
        painter.setOpacity(1.0)
        room = max(10, self.width() - 12)
        painter.setFont(fitted_font(painter.font(), self.stale_label, room))
        metrics = painter.fontMetrics()
        text = metrics.elidedText(self.stale_label, Qt.TextElideMode.ElideRight, room)
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 8, metrics.height() + 4)
        box.moveCenter(QRectF(self.rect()).center())
        painter.fillRect(box, STALE_BADGE)
        painter.setPen(CAPTION)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
