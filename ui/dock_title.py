"""DockTitleBar: a dock's title that moves the dock only from its drag handle.

Qt lets a dock be dragged by any point of its title bar, which sits right under the splitter
between two docks: aiming for the splitter and landing a pixel low tears the panel out. Here the
title bar swallows presses itself (no drag, no float on double-click); only the handle (⠿ on the
left, clear of the edges) passes them on to the QDockWidget, which then drags as usual. Locked
(the Live workspace), the handle and the float button are hidden and the dock is neither movable
nor floatable; the close button stays.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

HANDLE = "⠿"
EDGE_MARGIN_PX = 4
"""Rows of the title bar above and below the handle that never start a drag (the splitter's side)."""
MOVABLE = (QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
           | QDockWidget.DockWidgetFeature.DockWidgetClosable)
LOCKED = QDockWidget.DockWidgetFeature.DockWidgetClosable


class DockTitleBar(QWidget):
    def __init__(self, dock: QDockWidget) -> None:
        super().__init__(dock)
        self.setObjectName("dockTitle")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.dock = dock
        self._locked = False
        self.handle = QLabel(HANDLE)
        self.handle.setObjectName("dockHandle")
        self.handle.setToolTip("Drag here to move or float this panel")
        self.handle.setCursor(Qt.CursorShape.OpenHandCursor)
        self.title = QLabel(dock.windowTitle().upper())
        self.title.setObjectName("dockTitleText")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.float_button = self._button("❐", "Float this panel", self._toggle_floating)
        self.close_button = self._button("✕", "Close this panel (View menu or Ctrl+number shows it again)",
                                         dock.close)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, EDGE_MARGIN_PX, 4, EDGE_MARGIN_PX)
        row.setSpacing(6)
        row.addWidget(self.handle)
        row.addWidget(self.title, 1)
        row.addWidget(self.float_button)
        row.addWidget(self.close_button)
        dock.windowTitleChanged.connect(lambda text: self.title.setText(text.upper()))

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        button = QToolButton()
        button.setObjectName("dockButton")
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _toggle_floating(self) -> None:
        self.dock.setFloating(not self.dock.isFloating())

    # ------------------------------------------------------------------ locking

    @property
    def locked(self) -> bool:
        return self._locked

    def set_locked(self, locked: bool) -> None:
        self._locked = locked
        self.dock.setFeatures(LOCKED if locked else MOVABLE)
        self.handle.setVisible(not locked)
        self.float_button.setVisible(not locked)

    # ------------------------------------------------------------------ mouse

    def on_handle(self, pos: QPoint) -> bool:
        return not self._locked and self.handle.geometry().contains(pos)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.on_handle(event.position().toPoint()):
            event.ignore()  # the QDockWidget takes it and starts its drag
        else:
            event.accept()  # anywhere else on the title: nothing moves

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.on_handle(event.position().toPoint()):
            event.ignore()  # a double-click on the handle floats the dock, as Qt does
        else:
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.ignore()  # a drag started on the handle goes on in the QDockWidget

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.ignore()
