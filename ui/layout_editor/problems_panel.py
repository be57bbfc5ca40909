"""ProblemsPanel: the live validation result, one row per problem as ``file:line``, field, message.

Clicking a problem selects the cabinets it is about in every view.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ui import palette
from ui.stage_view.painter_canvas import qcolor
from vpstage.config import Problem, format_path
from vpstage.stage.document import StageDocument


def location(problem: Problem) -> str:
    where = problem.file or "<memory>"
    return f"{where}:{problem.line}" if problem.line is not None else where


class ProblemsPanel(QWidget):
    def __init__(self, document: StageDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc = document
        self.setObjectName("problemsPanel")
        self.header = QLabel()
        self.header.setObjectName("problemsHeader")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Location", "Field", "Problem"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setWordWrap(False)
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

    def _show(self, problems: list[Problem]) -> None:
        self.tree.clear()
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
        colour = qcolor(palette.PROBLEM)
        for k, problem in enumerate(problems):
            item = QTreeWidgetItem([location(problem), format_path(problem.path), problem.message])
            item.setData(0, Qt.ItemDataRole.UserRole, k)
            item.setToolTip(2, problem.format())
            if problem.severity == "error":
                item.setForeground(2, QBrush(colour))
            self.tree.addTopLevelItem(item)
        for col in (0, 1):
            self.tree.resizeColumnToContents(col)

    def _on_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        k = int(item.data(0, Qt.ItemDataRole.UserRole))
        ids = [cid for cid, found in self._doc.problem_cabinets().items() if k in found]
        if ids:
            self._doc.select(ids)
