"""ColourPanel: per canvas what it sends (display, view, encoding, bits; read-only here), and the
colour regions (add on a canvas, remove, enable, edit the grade).

Every edit goes to the document through the undo stack (``vpstage.stage.colour_edits``); a running
engine follows the document at its next frame (``ui.live.edit_forwarder.EditForwarder``). The panel
keeps no domain state of its own beyond which region is selected (by name); it refills from the
document whenever the project changes, undo and redo included.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.colour.region_form import RegionForm
from ui.commands import DocumentEditor
from vpstage.colour.settings import ColourRegion
from vpstage.stage.change import Change
from vpstage.stage.colour_edits import add_region, remove_region, set_region_enabled, update_region
from vpstage.stage.document import StageDocument
from vpstage.stage.model import Project

OUTPUT_COLUMNS = ("canvas", "display", "view", "encoding", "bits")
NAME_ROLE = Qt.ItemDataRole.UserRole


def output_rows(project: Project) -> list[tuple[str, str, str, str, str]]:
    """One row per canvas: display (or named colour space), view, encoding and bits as the project
    states them; ``default`` where the config's choice applies, ``not managed`` without settings."""
    section = project.colour
    rows = []
    for canvas in project.canvases:
        out = section.canvases.get(canvas.name) if section is not None else None
        if out is None:
            rows.append((canvas.name, "not managed", "", "", "8"))
        elif out.colour_space is not None:
            rows.append((canvas.name, out.colour_space, "(colour space)", out.encoding, str(out.bits)))
        else:
            encoding = f"pq {out.peak_nits:g} nits" if out.encoding == "pq" else "sdr"
            rows.append((canvas.name, out.display or "default", out.view or "default", encoding, str(out.bits)))
    return rows


class ColourPanel(QWidget):
    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._editor = document, editor
        self.outputs = QTableWidget(0, len(OUTPUT_COLUMNS))
        self.outputs.setHorizontalHeaderLabels(OUTPUT_COLUMNS)
        self.outputs.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.outputs.horizontalHeader().setStretchLastSection(True)
        self.canvas = QComboBox()
        self.canvas.setToolTip("The canvas a new region is drawn on (the middle half of it, neutral)")
        self.add = QPushButton("Add region")
        self.remove = QPushButton("Remove")
        self.regions = QListWidget()
        self.regions.setToolTip("Tick to apply a region; the grade applies after the canvas's output transform")
        self.form = RegionForm()
        self.add.clicked.connect(self.add_region)
        self.remove.clicked.connect(self.remove_selected)
        self.regions.currentItemChanged.connect(lambda *_args: self._show_selected())
        self.regions.itemChanged.connect(self._on_item_changed)
        self.form.field_edited.connect(self.edit_selected)
        self._layout()
        document.project_changed.connect(self._on_project_changed)
        self.refresh()

    def _layout(self) -> None:
        outputs = QGroupBox("Outputs")
        QVBoxLayout(outputs).addWidget(self.outputs)
        regions = QGroupBox("Regions")
        box = QVBoxLayout(regions)
        row = QHBoxLayout()
        for widget in (self.canvas, self.add, self.remove):
            row.addWidget(widget)
        box.addLayout(row)
        box.addWidget(self.regions)
        box.addWidget(self.form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(outputs)
        layout.addWidget(regions, 1)

    def detach(self) -> None:
        self._doc.project_changed.disconnect(self._on_project_changed)

    # ------------------------------------------------------------------ edits (undoable)

    @property
    def selected_name(self) -> str | None:
        item = self.regions.currentItem()
        return None if item is None else str(item.data(NAME_ROLE))

    def add_region(self) -> bool:
        canvas = self.canvas.currentText()
        before = {r.name for r in self._region_list()}
        if not canvas or not self._editor.run(lambda: add_region(self._doc.project, canvas)):
            return False
        added = next((r.name for r in self._region_list() if r.name not in before), None)
        self._select(added)
        return True

    def remove_selected(self) -> bool:
        name = self.selected_name
        return name is not None and self._run(lambda: remove_region(self._doc.project, name))

    def edit_selected(self, field: str, value: Any) -> bool:
        """Set one field of the selected region (as the form's ``field_edited`` announces it)."""
        name = self.selected_name
        return name is not None and self._run(lambda: update_region(self._doc.project, name, **{field: value}))

    def set_enabled(self, name: str, enabled: bool) -> bool:
        return self._run(lambda: set_region_enabled(self._doc.project, name, enabled))

    def _run(self, build: Any) -> bool:
        ok: bool = self._editor.run(build)
        if not ok:
            self._show_selected()  # a refused value springs back to the project's
        return ok

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        enabled = item.checkState() == Qt.CheckState.Checked
        name = str(item.data(NAME_ROLE))
        region = next((r for r in self._region_list() if r.name == name), None)
        if region is not None and region.enabled != enabled:
            self.set_enabled(name, enabled)

    # ------------------------------------------------------------------ view

    def _region_list(self) -> list[ColourRegion]:
        colour = self._doc.project.colour
        return list(colour.regions) if colour is not None else []

    def _on_project_changed(self, change: Change | None) -> None:
        if change is None or {"colour", "canvases"} & set(change.after):
            self.refresh()

    def refresh(self) -> None:
        """Refill outputs, canvases and regions from the document, keeping the selection."""
        project = self._doc.project
        rows = output_rows(project)
        self.outputs.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.outputs.setItem(r, c, QTableWidgetItem(text))
        chosen = self.canvas.currentText()
        self.canvas.clear()
        self.canvas.addItems([c.name for c in project.canvases])
        if chosen:
            self.canvas.setCurrentText(chosen)
        self._fill_regions()

    def _fill_regions(self) -> None:
        selected = self.selected_name
        self.regions.blockSignals(True)
        try:
            self.regions.clear()
            for region in self._region_list():
                item = QListWidgetItem(f"{region.name}  ·  {region.canvas}")
                item.setData(NAME_ROLE, region.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if region.enabled else Qt.CheckState.Unchecked)
                self.regions.addItem(item)
        finally:
            self.regions.blockSignals(False)
        self._select(selected)

    def _select(self, name: str | None) -> None:
        for row in range(self.regions.count()):
            if self.regions.item(row).data(NAME_ROLE) == name:
                self.regions.setCurrentRow(row)
                break
        else:
            self.regions.setCurrentRow(0 if self.regions.count() else -1)
        self._show_selected()

    def _show_selected(self) -> None:
        name = self.selected_name
        region = next((r for r in self._region_list() if r.name == name), None)
        self.form.show_region(region)
        self.remove.setEnabled(region is not None)
