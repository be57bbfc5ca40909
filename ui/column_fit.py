"""Table columns that fit their viewport: no sideways scrolling, the widest give way first.

``fit_columns(table)`` keeps each column as wide as its header and values while they all fit,
the last one taking what is left; when they do not (a narrow dock, a long GPU name), the widest
columns are narrowed to a common width (their text elided) until the total fits, so every column
stays in view. It follows the table's size and contents (a health table refreshed ten times a
second is refitted at most once per event-loop turn).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QHeaderView, QTableView

MIN_COLUMN_PX = 28


def fitted_widths(natural: Sequence[int], room: int, floor: int = MIN_COLUMN_PX) -> list[int]:
    """Column widths within ``room`` pixels: ``natural`` when they fit (the last column widened to
    fill the room), else every column wider than a common cap cut to it (never below ``floor``)."""
    widths = [max(int(w), floor) for w in natural]
    if not widths:
        return []
    if sum(widths) <= room:
        return [*widths[:-1], widths[-1] + room - sum(widths)]
    low, high = floor, max(widths)
    while low < high:  # the largest cap whose capped total still fits
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in widths) <= room:
            low = cap
        else:
            high = cap - 1
    capped = [min(w, low) for w in widths]
    spare = room - sum(capped)
    for i in sorted(range(len(capped)), key=lambda k: -widths[k]):  # the pixels the cap left over
        if spare <= 0:
            break
        if capped[i] < widths[i]:
            capped[i] += 1
            spare -= 1
    return capped


class ColumnFitter(QObject):
    """Refits one table's columns when its viewport or its contents change."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.table = table
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.fit)
        table.viewport().installEventFilter(self)
        model = table.model()
        for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.headerDataChanged, model.layoutChanged):
            signal.connect(self._pending.start)
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._pending.start()
        return False

    def natural_widths(self) -> list[int]:
        table, header = self.table, self.table.horizontalHeader()
        return [max(header.sectionSizeHint(i), table.sizeHintForColumn(i)) for i in range(header.count())]

    def fit(self) -> None:
        header = self.table.horizontalHeader()
        for i, width in enumerate(fitted_widths(self.natural_widths(), self.table.viewport().width())):
            if header.sectionSize(i) != width:
                header.resizeSection(i, width)


def fit_columns(table: QTableView) -> ColumnFitter:
    """Keep ``table``'s columns within its viewport (see the module docstring)."""
    return ColumnFitter(table)
