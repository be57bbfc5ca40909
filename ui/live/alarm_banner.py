"""AlarmBanner: a strip across the top of the window showing the most serious alarm in large type
(red for critical, amber for warnings), how many more there are, and all of them in its tooltip.
The window hides the toolbar holding it while nothing is wrong."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from ui.live.alarms import Alarm


class AlarmBanner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the theme paints it
        self.title = QLabel()
        self.detail = QLabel()
        self.more = QLabel()
        self.detail.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        box = QHBoxLayout(self)
        box.setContentsMargins(10, 4, 10, 4)
        box.addWidget(self.title)
        box.addWidget(self.detail, 1)
        box.addWidget(self.more)
        self.alarms: list[Alarm] = []
        self.show_alarms([])

    def show_alarms(self, alarms: Sequence[Alarm]) -> None:
        """Alarms sorted most serious first (GUI thread)."""
        self.alarms = list(alarms)
        if not alarms:
            self.title.setText("")
            self.detail.setText("no alarms")
            self.more.setText("")
            self.setToolTip("")
            return
        top = alarms[0]
        self.title.setText(f"⚠  {top.title}")
        self.detail.setText(top.detail)
        self.more.setText(f"+{len(alarms) - 1} more" if len(alarms) > 1 else "")
        self.setToolTip("\n".join(f"{a.title}: {a.detail}" for a in alarms))
        if self.property("severity") != top.severity:
            self.setProperty("severity", top.severity)
            self.style().unpolish(self)
            self.style().polish(self)
