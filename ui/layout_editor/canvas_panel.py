"""CanvasPanel: the project's canvases and LED processors; add, remove, resize and re-route them.

Two tabs. Canvases: one row per canvas (size, render node, processor input, cabinets it carries
and how full it is) and a form for the selected one (name, width, height, node, processor, input).
Processors: one row per processor and a form (name, model, inputs, ports, port capacity, bit
depth). Every field writes through the undo stack when editing finishes (Enter, Tab, focus out, a
spin-box step or a pick in a list), one command per changed value (``vpstage.stage.canvas_edits``);
a refused value is explained in the status bar and the field shows the model's value again.

Removing a canvas that still carries cabinets asks first (a window-modal, non-blocking box):
"Unmap and remove" takes the canvas and its pixel-map entries away in one undoable step, and the
cabinets wait in the pixel map's unmapped tray.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.commands import DocumentEditor
from vpstage.stage.canvas_edits import (
    add_canvas,
    add_processor,
    cabinets_on_canvas,
    new_canvas,
    new_processor,
    remove_canvas,
    remove_processor,
    update_canvas,
    update_processor,
)
from vpstage.stage.change import Change
from vpstage.stage.document import StageDocument
from vpstage.stage.limits import MAX_CANVAS_SIDE_PX

CANVAS_COLUMNS = ("canvas", "size", "node", "processor in", "cabinets", "used")
PROCESSOR_COLUMNS = ("processor", "model", "inputs", "ports", "port capacity px", "bit depth")
NO_PROCESSOR = "(none)"
UNMAP_AND_REMOVE = "Unmap and remove"
VISIBLE_ROWS = 6


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.setMinimumHeight(table.verticalHeader().defaultSectionSize() * (VISIBLE_ROWS + 1) + 6)
    return table


def _spin(lo: int, hi: int, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setSuffix(suffix)
    spin.setKeyboardTracking(False)  # valueChanged on Enter, focus-out and steps only
    return spin


def _buttons(*pairs: tuple[str, Callable[[], object]]) -> tuple[QHBoxLayout, list[QPushButton]]:
    row, made = QHBoxLayout(), []
    for text, slot in pairs:
        button = QPushButton(text)
        button.clicked.connect(lambda _checked=False, s=slot: s())
        row.addWidget(button)
        made.append(button)
    row.addStretch(1)
    return row, made


def _set_quietly(widget: QWidget, value: Any) -> None:
    widget.blockSignals(True)
    if isinstance(widget, QLineEdit):
        widget.setText(str(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(str(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    widget.blockSignals(False)


class CanvasPanel(QWidget):
    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._editor = document, editor
        self.setObjectName("canvasPanel")
        self.canvases = _table(CANVAS_COLUMNS)
        self.processors = _table(PROCESSOR_COLUMNS)
        self.canvas_fields: dict[str, QWidget] = {
            "name": QLineEdit(), "width": _spin(1, MAX_CANVAS_SIDE_PX, " px"),
            "height": _spin(1, MAX_CANVAS_SIDE_PX, " px"), "node": QComboBox(), "processor": QComboBox(),
            "input": _spin(1, 64)}
        self.processor_fields: dict[str, QWidget] = {
            "name": QLineEdit(), "model": QLineEdit(), "inputs": _spin(1, 64), "ports": _spin(1, 256),
            "port_capacity_px": _spin(1, 2_000_000_000, " px"), "bit_depth": QComboBox()}
        self.processor_fields["bit_depth"].addItems(["8", "10", "12"])  # type: ignore[attr-defined]
        self.tabs = QTabWidget()
        self.tabs.addTab(self._canvas_tab(), "Canvases")
        self.tabs.addTab(self._processor_tab(), "Processors")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.tabs)
        self._connect(self.canvas_fields, self._commit_canvas)
        self._connect(self.processor_fields, self._commit_processor)
        self.canvases.itemSelectionChanged.connect(self._fill_canvas_form)
        self.processors.itemSelectionChanged.connect(self._fill_processor_form)
        document.project_changed.connect(self._refresh)
        self.unmap_box: QMessageBox | None = None
        self._refresh(None)

    def detach(self) -> None:
        self._doc.project_changed.disconnect(self._refresh)

    # ------------------------------------------------------------------ layout

    def _form(self, fields: dict[str, QWidget], labels: tuple[str, ...]) -> QFormLayout:
        form = QFormLayout()
        for label, widget in zip(labels, fields.values(), strict=True):
            form.addRow(label, widget)
        return form

    def _canvas_tab(self) -> QWidget:
        page = QWidget()
        buttons, (self.add_canvas_button, self.remove_canvas_button) = _buttons(
            ("Add canvas", self.add_canvas), ("Remove canvas…", self.remove_selected_canvas))
        box = QVBoxLayout(page)
        box.addWidget(self.canvases, 1)
        box.addLayout(buttons)
        box.addLayout(self._form(self.canvas_fields, ("Name", "Width", "Height", "Render node", "Processor",
                                                      "Processor input")))
        return page

    def _processor_tab(self) -> QWidget:
        page = QWidget()
        buttons, (self.add_processor_button, self.remove_processor_button) = _buttons(
            ("Add processor", self.add_processor), ("Remove processor", self.remove_selected_processor))
        box = QVBoxLayout(page)
        box.addWidget(self.processors, 1)
        box.addLayout(buttons)
        box.addLayout(self._form(self.processor_fields, ("Name", "Model", "Inputs", "Data ports",
                                                         "Port capacity", "Bit depth")))
        self.capacity_note = QLabel()
        self.capacity_note.setWordWrap(True)
        box.addWidget(self.capacity_note)
        return page

    def _connect(self, fields: dict[str, QWidget], commit: Callable[[str, Any], None]) -> None:
        for key, widget in fields.items():
            if isinstance(widget, QLineEdit):
                widget.editingFinished.connect(lambda k=key, w=widget: commit(k, w.text().strip()))
            elif isinstance(widget, QComboBox):
                widget.activated.connect(lambda _i, k=key, w=widget: commit(k, w.currentText()))
            elif isinstance(widget, QAbstractSpinBox):
                widget.valueChanged.connect(lambda value, k=key: commit(k, value))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ model -> tables and forms

    def _refresh(self, _change: object) -> None:
        canvas, processor = self.selected_canvas(), self.selected_processor()
        self._fill_canvases()
        self._fill_processors()
        self.select_canvas(canvas)
        self.select_processor(processor)

    def _fill_canvases(self) -> None:
        project, layout = self._doc.project, self._doc.layout
        self.canvases.blockSignals(True)
        self.canvases.setRowCount(len(project.canvases))
        for row, canvas in enumerate(project.canvases):
            carried = layout.cabinets_on_canvas(row)
            used = sum(layout.cabinets.pixel_count(int(i)) for i in carried) / (canvas.width * canvas.height)
            feed = f"{canvas.processor} in {canvas.input + 1}" if canvas.processor else NO_PROCESSOR
            cells = (canvas.name, f"{canvas.width}×{canvas.height}", canvas.node, feed, str(len(carried)),
                     f"{100 * used:.0f} %")
            for col, text in enumerate(cells):
                self.canvases.setItem(row, col, QTableWidgetItem(text))
        self.canvases.blockSignals(False)
        nodes = self.canvas_fields["node"]
        assert isinstance(nodes, QComboBox)
        nodes.blockSignals(True)
        nodes.clear()
        nodes.addItems([n.name for n in project.nodes])
        nodes.blockSignals(False)
        feeds = self.canvas_fields["processor"]
        assert isinstance(feeds, QComboBox)
        feeds.blockSignals(True)
        feeds.clear()
        feeds.addItems([NO_PROCESSOR, *(p.name for p in project.processors)])
        feeds.blockSignals(False)

    def _fill_processors(self) -> None:
        project = self._doc.project
        self.processors.blockSignals(True)
        self.processors.setRowCount(len(project.processors))
        for row, p in enumerate(project.processors):
            cells = (p.name, p.model, str(p.inputs), str(p.ports), f"{p.port_capacity_px:,}".replace(",", " "),
                     f"{p.bit_depth}-bit")
            for col, text in enumerate(cells):
                self.processors.setItem(row, col, QTableWidgetItem(text))
        self.processors.blockSignals(False)

    def _fill_canvas_form(self) -> None:
        name = self.selected_canvas()
        canvas = next((c for c in self._doc.project.canvases if c.name == name), None)
        for widget in self.canvas_fields.values():
            widget.setEnabled(canvas is not None)
        self.remove_canvas_button.setEnabled(canvas is not None)
        if canvas is None:
            return
        values = {"name": canvas.name, "width": canvas.width, "height": canvas.height, "node": canvas.node,
                  "processor": canvas.processor or NO_PROCESSOR, "input": canvas.input + 1}
        for key, value in values.items():
            _set_quietly(self.canvas_fields[key], value)
        self.canvas_fields["input"].setEnabled(canvas.processor is not None)  # no processor: no input

    def _fill_processor_form(self) -> None:
        name = self.selected_processor()
        processor = next((p for p in self._doc.project.processors if p.name == name), None)
        for widget in self.processor_fields.values():
            widget.setEnabled(processor is not None)
        self.remove_processor_button.setEnabled(processor is not None)
        if processor is None:
            return
        for key, widget in self.processor_fields.items():
            _set_quietly(widget, getattr(processor, key))
        at_stage = f"{processor.port_capacity_at(self._doc.project.frame_rate):,}".replace(",", " ")
        rated = f"{float(processor.capacity_rate):g} Hz, {processor.capacity_bit_depth}-bit"
        self.capacity_note.setText(f"Rated at {rated}; at this stage's rate and depth a port carries {at_stage} px.")

    # ------------------------------------------------------------------ selection

    @staticmethod
    def _selected(table: QTableWidget) -> str | None:
        rows = {i.row() for i in table.selectedIndexes()}
        item = table.item(min(rows), 0) if rows else None
        return item.text() if item is not None else None

    def selected_canvas(self) -> str | None:
        return self._selected(self.canvases)

    def selected_processor(self) -> str | None:
        return self._selected(self.processors)

    @staticmethod
    def _select(table: QTableWidget, name: str | None) -> None:
        for row in range(table.rowCount()):
            item = table.item(row, 0)
            if item is not None and item.text() == name:
                table.selectRow(row)
                table.scrollToItem(item)
                return
        table.clearSelection()

    def select_canvas(self, name: str | None) -> None:
        self._select(self.canvases, name)
        self._fill_canvas_form()

    def select_processor(self, name: str | None) -> None:
        self._select(self.processors, name)
        self._fill_processor_form()

    # ------------------------------------------------------------------ edits

    def _run(self, build: Callable[[], Change], refill: Callable[[], None]) -> bool:
        if self._editor.run(build):
            return True
        refill()  # refused: show the model's values again
        return False

    def _commit_canvas(self, key: str, value: Any) -> None:
        name = self.selected_canvas()
        if name is None:
            return
        if key == "processor":
            value = None if value == NO_PROCESSOR else value
        elif key == "input":
            value = int(value) - 1  # the form counts inputs from 1, as processors label them
        canvas = next(c for c in self._doc.project.canvases if c.name == name)
        if getattr(canvas, key) == value:
            return
        doc = self._doc
        if self._run(lambda: update_canvas(doc.project, name, {key: value}), self._fill_canvas_form) and key == "name":
            self.select_canvas(str(value))

    def _commit_processor(self, key: str, value: Any) -> None:
        name = self.selected_processor()
        if name is None:
            return
        value = int(value) if key == "bit_depth" else value
        processor = next(p for p in self._doc.project.processors if p.name == name)
        if getattr(processor, key) == value:
            return
        doc = self._doc
        if self._run(lambda: update_processor(doc.project, name, {key: value}), self._fill_processor_form) \
                and key == "name":
            self.select_processor(str(value))

    def add_canvas(self) -> str | None:
        """Add a canvas like the selected one (or the last), select it; its name, or None when refused."""
        doc = self._doc
        canvas = new_canvas(doc.project, like=self.selected_canvas())
        if not self._editor.run(lambda: add_canvas(doc.project, canvas)):
            return None
        self.tabs.setCurrentIndex(0)
        self.select_canvas(canvas.name)
        return canvas.name

    def remove_selected_canvas(self) -> QMessageBox | None:
        """Remove the selected canvas. One that carries cabinets asks first: the box is returned
        (non-blocking); "Unmap and remove" removes it and its entries as one undoable step."""
        name = self.selected_canvas()
        if name is None:
            return None
        carried = cabinets_on_canvas(self._doc.layout, name)
        if not carried:
            self._editor.run(lambda: remove_canvas(self._doc.project, self._doc.layout, name))
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Remove canvas",
                          f"Canvas {name} carries {len(carried)} cabinet(s).", QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText("Unmap them and remove the canvas? They wait in the pixel map's unmapped tray "
                               "(auto-layout or a drag maps them again). Undo brings both back.")
        confirm = box.addButton(UNMAP_AND_REMOVE, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("removeCanvasBox")
        doc = self._doc

        def answered() -> None:
            if box.clickedButton() is confirm:
                self._editor.run(lambda: remove_canvas(doc.project, doc.layout, name, unmap=True))

        box.finished.connect(lambda _result: answered())
        box.open()
        self.unmap_box = box
        return box

    def add_processor(self) -> str | None:
        doc = self._doc
        processor = new_processor(doc.project, like=self.selected_processor())
        if not self._editor.run(lambda: add_processor(doc.project, processor)):
            return None
        self.tabs.setCurrentIndex(1)
        self.select_processor(processor.name)
        return processor.name

    def remove_selected_processor(self) -> bool:
        name = self.selected_processor()
        return name is not None and self._editor.run(lambda: remove_processor(self._doc.project, name))
