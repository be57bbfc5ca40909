"""SectionPanel: parameters of the selected section (arc radius and sweep, flat size, ceiling...).

Each field writes through the undo stack when editing finishes (Enter, Tab, focus out, or a spin
box step), one command per changed value. The form shows the document's values only: there is one
form per section kind, built once and refilled in place (so the field being edited keeps its
focus and selecting another section costs no widget churn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.commands import DocumentEditor
from vpstage.stage.document import StageDocument
from vpstage.stage.edits import update_section
from vpstage.stage.model import ArcSection, Section
from vpstage.stage.sections import arc_columns, arc_step_deg


@dataclass(frozen=True)
class Field:
    label: str
    name: str
    component: int | None = None
    """Index into a vector field (origin, center), or None for a scalar."""
    kind: str = "m"
    """m (metres), m+ (positive metres), deg, deg+ (positive degrees), int, scale, text, panel, file."""


_NAME, _PANEL = Field("Name", "name", kind="text"), Field("Panel", "panel", kind="panel")
_GRID = [Field("Columns", "columns", kind="int"), Field("Rows", "rows", kind="int")]
FIELDS: dict[str, list[Field]] = {
    "flat": [_NAME, _PANEL, Field("Origin X", "origin", 0), Field("Origin Y", "origin", 1),
             Field("Origin Z", "origin", 2), Field("Yaw", "yaw_deg", kind="deg"),
             Field("Pitch", "pitch_deg", kind="deg"), Field("Roll", "roll_deg", kind="deg"), *_GRID],
    "arc": [_NAME, _PANEL, Field("Centre X", "center", 0), Field("Centre Y", "center", 1),
            Field("Base height", "base_z"), Field("Radius", "radius_m", kind="m+"),
            Field("Start heading", "start_deg", kind="deg"), Field("Sweep", "sweep_deg", kind="deg+"), *_GRID],
    "ceiling": [_NAME, _PANEL, Field("Centre X", "center", 0), Field("Centre Y", "center", 1),
                Field("Height", "center", 2), Field("Yaw", "yaw_deg", kind="deg"),
                Field("Tilt", "tilt_deg", kind="deg"), *_GRID],
    "mesh": [_NAME, _PANEL, Field("OBJ file", "file", kind="file"), Field("Unit scale", "unit_scale", kind="scale"),
             Field("Origin X", "origin", 0), Field("Origin Y", "origin", 1), Field("Origin Z", "origin", 2),
             Field("Yaw", "yaw_deg", kind="deg")],
}
_RANGES = {"m": (-1000.0, 1000.0, 0.1, 3, " m"), "m+": (0.01, 1000.0, 0.1, 3, " m"),
           "deg": (-3600.0, 3600.0, 1.0, 3, "°"), "deg+": (0.001, 360.0, 1.0, 3, "°"),
           "scale": (1e-6, 1e6, 0.001, 6, "")}


def grouped(n: int) -> str:
    """``1 234 567``: thousands separated by spaces (only the number; the sentence keeps its commas)."""
    return f"{n:,}".replace(",", " ")


class SectionPanel(QWidget):
    def __init__(self, document: StageDocument, editor: DocumentEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc, self._editor = document, editor
        self.setObjectName("sectionPanel")
        self.title = QLabel()
        self.title.setObjectName("panelTitle")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self._pages = QStackedWidget()
        self._pages.addWidget(QWidget())  # page 0: no section (overview text only)
        # Every kind's form exists from the start, so the panel's size never jumps (that would
        # resize the docks around it, e.g. the wall plan in the middle of a drag).
        self._forms = {kind: self._build_form(kind) for kind in FIELDS}
        for host, _editors in self._forms.values():
            self._pages.addWidget(host)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 6, 6, 6)
        for w in (self.title, self.summary, self._pages):
            box.addWidget(w)
        box.addStretch(1)
        document.project_changed.connect(self._refresh)
        document.selection_changed.connect(self._refresh)
        self._refresh(None)

    def detach(self) -> None:
        self._doc.project_changed.disconnect(self._refresh)
        self._doc.selection_changed.disconnect(self._refresh)

    def section(self) -> Section | None:
        """The one section the selection is in, or None (nothing or several selected)."""
        names = self._doc.selected_sections()
        if len(names) != 1:
            return None
        return next(s for s in self._doc.project.sections if s.name == names[0])

    # ------------------------------------------------------------------ model -> form

    @property
    def editors(self) -> dict[Field, QWidget]:
        """The field editors of the form on show (empty when no single section is selected)."""
        page = self._pages.currentWidget()
        return next((editors for host, editors in self._forms.values() if host is page), {})

    def _refresh(self, _value: object) -> None:
        section = self.section()
        if section is None:
            self._show_overview()
            return
        self._pages.setCurrentWidget(self._forms[section.kind][0])
        self._fill(section)

    def _show_overview(self) -> None:
        self._pages.setCurrentIndex(0)
        names = self._doc.selected_sections()
        cab = self._doc.layout.cabinets
        if names:
            self.title.setText(f"{len(names)} sections selected")
            self.summary.setText(", ".join(names))
        else:
            pixels = sum(cab.pixel_count(i) for i in range(len(cab)))
            self.title.setText(self._doc.project.name)
            self.summary.setText(f"{len(self._doc.project.sections)} sections · {len(cab)} cabinets · "
                                 f"{grouped(pixels)} LED px\nSelect a section (plan, 3D view or pixel map) "
                                 "to edit its parameters.")

    def _build_form(self, kind: str) -> tuple[QWidget, dict[Field, QWidget]]:
        host = QWidget()
        form = QFormLayout(host)
        form.setContentsMargins(0, 4, 0, 0)
        editors: dict[Field, QWidget] = {}
        for spec in FIELDS[kind]:
            editors[spec] = self._make_editor(spec)
            form.addRow(spec.label, editors[spec])
        return host, editors

    def _make_editor(self, spec: Field) -> QWidget:
        if spec.kind in ("text", "file"):
            line = QLineEdit()
            line.setReadOnly(spec.kind == "file")
            line.editingFinished.connect(lambda s=spec, w=line: self._commit(s, w.text().strip()))
            return line
        if spec.kind == "panel":
            combo = QComboBox()
            combo.addItems(sorted(self._doc.catalog.panels))
            combo.activated.connect(lambda _i, s=spec, w=combo: self._commit(s, w.currentText()))
            return combo
        if spec.kind == "int":
            spin: QAbstractSpinBox = QSpinBox()
            spin.setRange(1, 999)  # type: ignore[attr-defined]
        else:
            lo, hi, step, decimals, suffix = _RANGES[spec.kind]
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setDecimals(decimals)
            spin.setSuffix(suffix)
        # Without keyboard tracking, valueChanged fires on Enter, focus-out and arrow steps only.
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda value, s=spec: self._commit(s, value))  # type: ignore[attr-defined]
        return spin

    def _effective(self, section: Section, spec: Field) -> Any:
        """The value a field shows: arcs show both their column count and the sweep it gives."""
        if isinstance(section, ArcSection) and spec.name in ("columns", "sweep_deg"):
            panel = self._doc.catalog.panels.get(section.panel)
            if panel is None:
                return getattr(section, spec.name) or 0
            try:
                columns = arc_columns(section, panel)
                step = arc_step_deg(section.radius_m, panel.width_m)
            except ValueError:
                return getattr(section, spec.name) or 0
            return columns if spec.name == "columns" else (section.sweep_deg or columns * step)
        value = getattr(section, spec.name)
        return value[spec.component] if spec.component is not None else value

    def _fill(self, section: Section) -> None:
        cab, layout = self._doc.layout.cabinets, self._doc.layout
        index = next(i for i, s in enumerate(self._doc.project.sections) if s is section)
        mine = [i for i in range(len(cab)) if cab.section[i] == index]
        self.title.setText(f"{section.name} · {section.kind}")
        pixels = sum(cab.pixel_count(i) for i in mine)
        panel = layout.catalog.panels.get(section.panel)
        product = f"{panel.vendor} {panel.model}" if panel else f"unknown panel {section.panel}"
        self.summary.setText(f"{len(mine)} cabinets · {grouped(pixels)} LED px · {product}")
        for spec, widget in self.editors.items():
            widget.blockSignals(True)
            value = self._effective(section, spec)
            if isinstance(widget, QLineEdit):
                widget.setText(str(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.setValue(value)
            widget.blockSignals(False)

    # ------------------------------------------------------------------ form -> model

    def _commit(self, spec: Field, value: Any) -> None:
        section = self.section()
        if section is None:
            return
        current = self._effective(section, spec)
        if isinstance(value, float) and isinstance(current, (int, float)) and abs(value - current) < 1e-9:
            return
        if value == current:
            return
        if spec.component is not None:
            vector = list(getattr(section, spec.name))
            vector[spec.component] = value
            value = tuple(vector)
        doc, name = self._doc, section.name
        if not self._editor.run(lambda: update_section(doc.project, doc.catalog, name, {spec.name: value})):
            self._fill(section)  # refused: show the model's value again
