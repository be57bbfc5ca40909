"""Table columns that fit their viewport: natural widths while they fit, the widest give way."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget, QTableWidgetItem
from pytestqt.qtbot import QtBot

from ui.column_fit import fit_columns, fitted_widths


def test_fitted_widths_keep_natural_widths_or_cap_the_widest() -> None:
    assert fitted_widths([50, 80, 40], 300) == [50, 80, 170]  # they fit: the last takes the rest
    assert fitted_widths([50, 300, 40, 200], 400) == [50, 155, 40, 155]  # the two widest share what is left
    assert sum(fitted_widths([60, 61, 300, 90], 301)) == 301
    assert fitted_widths([100, 100], 10, floor=28) == [28, 28]  # never below the floor
    assert fitted_widths([], 100) == []


def test_a_fitted_table_never_scrolls_sideways(qtbot: QtBot) -> None:
    table = QTableWidget(2, 4)
    qtbot.addWidget(table)
    table.setHorizontalHeaderLabels(["node", "state", "GPU", "power W"])
    fitter = fit_columns(table)
    table.resize(600, 200)
    table.show()
    qtbot.waitExposed(table)
    for col, text in enumerate(["node1", "up", "0: NVIDIA H100 80GB HBM3", "350/700"]):
        table.setItem(0, col, QTableWidgetItem(text))
    header = table.horizontalHeader()
    widths = lambda: [header.sectionSize(i) for i in range(4)]
    def fitted() -> bool:  # the view updates its scroll bars an event-loop turn after a resize
        return sum(widths()) == table.viewport().width() and not table.horizontalScrollBar().isVisible()

    qtbot.waitUntil(lambda: widths()[2] >= table.sizeHintForColumn(2) and fitted(), timeout=2000)  # name whole
    table.resize(260, 200)  # too narrow for every name: the widest column gives way
    qtbot.waitUntil(fitted, timeout=2000)
    assert widths()[2] < table.sizeHintForColumn(2) and widths()[0] == fitter.natural_widths()[0]
