"""The console's dark theme: Fusion style, a dark palette and ``theme.qss``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

QSS = Path(__file__).with_name("theme.qss")


def dark_palette() -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#15181d", QPalette.ColorRole.WindowText: "#d6dae0",
        QPalette.ColorRole.Base: "#0f1115", QPalette.ColorRole.AlternateBase: "#14171c",
        QPalette.ColorRole.Text: "#d6dae0", QPalette.ColorRole.Button: "#1d2128",
        QPalette.ColorRole.ButtonText: "#d6dae0", QPalette.ColorRole.Highlight: "#2b5fa8",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#1d2128",
        QPalette.ColorRole.ToolTipText: "#ffffff", QPalette.ColorRole.PlaceholderText: "#6c7480",
        QPalette.ColorRole.Link: "#4f8fe8", QPalette.ColorRole.BrightText: "#ff3b30",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5a616c"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#5a616c"))
    return pal


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(QSS.read_text(encoding="utf-8"))
