"""AlarmBanner: a strip across the top of the window showing the most serious alarm in large type
(red for critical, amber for warnings), how many more there are, and all of them in its tooltip
(with the full details of those that have more, e.g. every problem of a failed engine start).
It is one line whatever the alarms say: the detail is elided to the room the strip has, so the
strip never grows. The window hides the toolbar holding it while nothing is wrong."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from ui.live.alarms import Alarm
from ui.live.elided_label import ElidedLabel

TOOLTIP_LINES = 40


def alarm_tooltip(alarms: Sequence[Alarm]) -> str:
    """Every alarm on a line, followed by the details of those that have more (bounded)."""
    lines = [f"{a.title}: {a.detail}" for a in alarms]
    for alarm in alarms:
        if alarm.more:
            lines += ["", *alarm.more.splitlines()]
    if len(lines) > TOOLTIP_LINES:
        lines = [*lines[:TOOLTIP_LINES], f"… {len(lines) - TOOLTIP_LINES} more lines"]
    return "\n".join(lines)


class AlarmBanner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the theme paints it
        self.title = QLabel()
        self.detail = ElidedLabel(max_hint=900)
        self.more = QLabel()
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
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
            self.detail.set_full_text("no alarms")
            self.more.setText("")
            self.setToolTip("")
            return
        top = alarms[0]
        self.title.setText(f"⚠  {top.title}")
        tooltip = alarm_tooltip(alarms)
        self.detail.set_full_text(top.detail, tooltip)
        self.more.setText(f"+{len(alarms) - 1} more" if len(alarms) > 1 else "")
        self.setToolTip(tooltip)
        if self.property("severity") != top.severity:
            self.setProperty("severity", top.severity)
            self.style().unpolish(self)
            self.style().polish(self)
