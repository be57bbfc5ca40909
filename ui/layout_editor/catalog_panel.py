"""CatalogPanel: the project's cabinet types; drag one onto the wall plan to build with it.

"Build as" chooses what a drop on empty floor creates (auto: a ceiling for ceiling panels, else a
flat wall; or a flat wall, an arc about the stage centre, a ceiling). Enter (or a double click) on
a panel type emits ``panel_activated`` so the window can add a section of it without the mouse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.layout_editor.panel_drop import PANEL_MIME, encode_panel_drop
from vpstage.stage.catalog import Catalog
from vpstage.stage.edits import NewKind

COLUMNS = ("Panel", "Product", "Size mm", "Pixels", "Pitch mm", "Use")


BUILD_KINDS: tuple[tuple[NewKind, str], ...] = (
    ("auto", "Build as: auto"), ("flat", "Build as: flat wall"), ("arc", "Build as: arc wall"),
    ("ceiling", "Build as: ceiling"),
)


class _PanelTree(QTreeWidget):
    activated_panel = Signal(str)

    def __init__(self, kind: Callable[[], NewKind]) -> None:
        super().__init__()
        self._kind = kind

    def startDrag(self, supported: Qt.DropAction) -> None:
        item = self.currentItem()
        if item is None:
            return
        mime = QMimeData()
        mime.setData(PANEL_MIME, encode_panel_drop(item.text(0), self._kind()))
        mime.setText(item.text(0))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None:
            self.activated_panel.emit(item.text(0))
        else:
            super().keyPressEvent(event)


class CatalogPanel(QWidget):
    panel_activated = Signal(str, str)
    """(panel id, kind): the operator asked to add a section of this cabinet type (kind: NewKind)."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("catalogPanel")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter cabinet types…")
        self.filter.setClearButtonEnabled(True)
        self.build_as = QComboBox()
        for kind, label in BUILD_KINDS:
            self.build_as.addItem(label, kind)
        self.tree = _PanelTree(self.kind)
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.filter)
        box.addWidget(self.build_as)
        box.addWidget(self.tree)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree.activated_panel.connect(lambda panel_id: self.panel_activated.emit(panel_id, self.kind()))
        self.tree.itemDoubleClicked.connect(lambda item, _col: self.panel_activated.emit(item.text(0), self.kind()))
        self.set_catalog(catalog)

    def kind(self) -> NewKind:
        """What new sections are built as: auto, flat, arc or ceiling."""
        return cast(NewKind, self.build_as.currentData())

    def set_catalog(self, catalog: Catalog) -> None:
        self.tree.clear()
        for panel_id, p in sorted(catalog.panels.items()):
            item = QTreeWidgetItem([panel_id, f"{p.vendor} {p.model}", f"{p.width_mm:g}×{p.height_mm:g}",
                                    f"{p.pixels_w}×{p.pixels_h}", f"{p.pitch_mm:g}", p.use or ""])
            item.setToolTip(0, p.source)
            self.tree.addTopLevelItem(item)
        for col in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(col)
        self._apply_filter(self.filter.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.lower().strip()
        for item in self._items():
            haystack = " ".join(item.text(c) for c in range(len(COLUMNS))).lower()
            item.setHidden(bool(needle) and needle not in haystack)

    def _items(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def panel_ids(self) -> list[str]:
        """Ids of the panel types listed (hidden by the filter or not)."""
        return [item.text(0) for item in self._items()]
