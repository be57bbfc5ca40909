"""Console launch: ``run_console`` opens the main window (rehearsal mode: the demo stage)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REHEARSAL_STAGE = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"


def _ensure_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        print("no display found: the console runs offscreen (set DISPLAY, or use xvfb-run, to see it)",
              file=sys.stderr)


def run_console(project: str | None = None, rehearsal: bool = True, quit_after_s: float | None = None) -> int:
    """Open the console window and run the Qt event loop until it closes."""
    _ensure_display()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.summary_window import SummaryWindow
    from vpstage.config import ConfigError
    from vpstage.stage import Stage

    app = QApplication.instance() or QApplication(sys.argv[:1])
    path = Path(project) if project else REHEARSAL_STAGE
    try:
        stage = Stage.open(path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    window = SummaryWindow(stage, rehearsal=rehearsal)
    window.show()
    if quit_after_s is not None:
        QTimer.singleShot(int(quit_after_s * 1000), app.quit)
    return int(app.exec())
