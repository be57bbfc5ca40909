"""ProblemsPanel: the live validation result, grouped: one row per rule and subject.

Near-identical problems (``vpstage.stage.problem_groups``: same rule, same section, canvas or
processor) are one row with their count, a summary and fix buttons ("23 cabinets of section wall
have no pixel-map entry" — Auto-layout, Add canvas); expand it for the individual problems, each
as ``file:line``, field and message. A problem of its own is a plain row. Clicking a row selects
the cabinets it is about in every view; a fix button emits ``fix_requested`` (the window runs it).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui import palette
from ui.stage_view.painter_canvas import qcolor
from vpstage.config import Problem, format_path
from vpstage.stage.canvas_edits import layout_advice
from vpstage.stage.document import UNSAVED, StageDocument
from vpstage.stage.problem_groups import Fix, ProblemGroup, group_problems, has_map_problems

COLUMNS = ("Location", "Field", "Problem", "Fix")
MEMBERS_ROLE = Qt.ItemDataRole.UserRole


def location(problem: Problem, unnamed: str = UNSAVED) -> str:
    """``stage.yaml:12``: the problem's file name (``unnamed`` when it has none) and line."""
    where = problem.file.rsplit("/", 1)[-1] if problem.file else unnamed
    return f"{where}:{problem.line}" if problem.line is not None else where


class ProblemsPanel(QWidget):
    fix_requested = Signal(object)
    """(fix: vpstage.stage.problem_groups.Fix): a fix button was pressed."""

    def __init__(self, document: StageDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self.groups: list[ProblemGroup] = []
        self.setObjectName("problemsPanel")
        self.header = QLabel()
        self.header.setObjectName("problemsHeader")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(False)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.header)
        box.addWidget(self.tree)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        document.validation_changed.connect(self._show)
        self._show(document.problems)

    def detach(self) -> None:
        self._doc.validation_changed.disconnect(self._show)

    # ------------------------------------------------------------------ model -> rows

    def _show(self, problems: list[Problem]) -> None:
        self.tree.clear()
        self._show_header(problems)
        groups = group_problems(problems, self._doc.project)
        if has_map_problems(groups) and self._doc.layout.complete:
            groups = group_problems(problems, self._doc.project, layout_advice(self._doc.layout))
        self.groups = groups
        for group in groups:
            self._add_group(group, problems)
        for col in (0, 1, 3):
            self.tree.resizeColumnToContents(col)

    def _show_header(self, problems: Sequence[Problem]) -> None:
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        if not problems:
            self.header.setText("No problems: the project can be saved.")
            self.header.setProperty("state", "ok")
        else:
            self.header.setText(f"{errors} error(s), {warnings} warning(s): saving is refused while errors remain."
                                if errors else f"{warnings} warning(s)")
            self.header.setProperty("state", "error" if errors else "warning")
        self.header.style().unpolish(self.header)
        self.header.style().polish(self.header)

    def _row(self, texts: Sequence[str], members: Sequence[int], error: bool, tooltip: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(list(texts))
        item.setData(0, MEMBERS_ROLE, list(members))
        item.setToolTip(2, tooltip)
        if error:
            item.setForeground(2, QBrush(qcolor(palette.PROBLEM)))
        return item

    def _add_group(self, group: ProblemGroup, problems: Sequence[Problem]) -> None:
        first = problems[group.members[0]]
        unnamed = self._doc.display_name
        summary = f"{group.summary}\n{group.hint}" if group.hint else group.summary  # the advice on a line of its own
        where = location(first, unnamed) + (f" (+{group.count - 1})" if group.count > 1 else "")
        fields = {format_path(problems[k].path) for k in group.members}
        field = format_path(first.path) if len(fields) == 1 else f"{format_path(first.path)} …"
        tooltip = first.format() if group.count == 1 else f"{summary}\n{first.format()}\n…"
        item = self._row((where, field, summary, ""), group.members, group.severity == "error", tooltip)
        self.tree.addTopLevelItem(item)
        if group.count > 1:
            for k in group.members:
                p = problems[k]
                item.addChild(self._row((location(p, unnamed), format_path(p.path), p.message), [k],
                                        p.severity == "error", p.format()))
        if group.fixes:
            self.tree.setItemWidget(item, 3, self._fix_buttons(group.fixes))

    def _fix_buttons(self, fixes: Sequence[Fix]) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for fix in fixes:
            button = QPushButton(fix.label)
            button.setObjectName("fixButton")
            button.setProperty("fix", fix.kind)
            button.clicked.connect(lambda _checked=False, f=fix: self.fix_requested.emit(f))
            row.addWidget(button)
        row.addStretch(1)
        return host

    def fix_buttons(self, row: int) -> list[QPushButton]:
        """The fix buttons of top-level row ``row`` (for the keyboard-less and for tests)."""
        item = self.tree.topLevelItem(row)
        host = self.tree.itemWidget(item, 3) if item is not None else None
        return host.findChildren(QPushButton) if host is not None else []

    # ------------------------------------------------------------------ rows -> selection

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        members = set(item.data(0, MEMBERS_ROLE) or [])
        ids = [cid for cid, found in self._doc.problem_cabinets().items() if members & set(found)]
        if ids:
            self._doc.select(ids)
