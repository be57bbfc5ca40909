"""StreamTable: one row per tracking stream (source, camera id) and per receiver without one:
rate, jitter, age, samples, packets, bad packets (reasons in the tooltip), and its state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem, QWidget

from ui.live.readouts import fmt

COLUMNS = ("source", "stream", "protocol", "rate Hz", "jitter ms", "age ms", "samples", "packets", "bad", "state")
STATE_COLOURS = {"OK": "#5cc45a", "LOST": "#ff3b30", "ERROR": "#ff3b30", "WAITING": "#e0a526"}


def stream_rows(streams: Sequence[Any], receivers: Sequence[Any]) -> list[tuple[list[str], str, str]]:
    """(cells, state, bad-packet tooltip) per row."""
    by_receiver = {r.name: r for r in receivers}
    rows = []
    seen = set()
    for s in streams:
        r = by_receiver.get(s.receiver)
        seen.add(s.receiver)
        state = "ERROR" if r is not None and r.error else ("LOST" if s.lost else "OK")
        rows.append(([s.receiver, f"{s.source} #{s.camera_id}", s.protocol, fmt(s.rate_hz, 1), fmt(s.jitter_ms, 2),
                      fmt(s.age_ms, 0), str(s.samples), str(r.packets) if r else "–", str(r.bad_packets) if r else "–"],
                     state, _reasons(r)))
    for r in receivers:
        if r.name not in seen:
            state = "ERROR" if r.error else "WAITING"
            rows.append(([r.name, r.address, r.protocol, "–", "–", "–", "0", str(r.packets), str(r.bad_packets)],
                         state, r.error or _reasons(r)))
    return rows


def _reasons(receiver: Any) -> str:
    if receiver is None or not receiver.bad_by_reason:
        return ""
    return ", ".join(f"{k}: {v}" for k, v in sorted(receiver.bad_by_reason.items()))


class StreamTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)

    def show_streams(self, streams: Sequence[Any], receivers: Sequence[Any]) -> None:
        rows = stream_rows(streams, receivers)
        self.setRowCount(len(rows))
        for row, (cells, state, tooltip) in enumerate(rows):
            for col, text in enumerate([*cells, state]):
                item = self.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, col, item)
                if item.text() != text:
                    item.setText(text)
                item.setToolTip(tooltip)
                if col == len(COLUMNS) - 1:
                    item.setForeground(QColor(STATE_COLOURS[state]))

    def state_of(self, source: str) -> str | None:
        for row in range(self.rowCount()):
            name, state = self.item(row, 0), self.item(row, len(COLUMNS) - 1)
            if name is not None and state is not None and name.text() == source:
                return state.text()
        return None
