"""Console launch: ``run_console`` opens the main window.

Rehearsal mode (``python main.py``) opens the demo stage and starts the live engine at once: a
simulated tracker on loopback, the procedural demo scene, NDI senders on this machine, takes in
a rehearsal database under the console's config folder. ``python main.py --project FILE`` opens
the project with the engine stopped (Engine → Start engine); its takes go to
``<project dir>/takes/takes.sqlite``.

``VPSTAGE_QUIT_AFTER_S`` (seconds) closes the window after that long: the smoke test and the
screenshot script use it. ``VPSTAGE_QUIT_AFTER_FRAMES`` closes it once the engine has run that
many frames instead (``VPSTAGE_QUIT_AFTER_S`` then caps the wait): the render nodes' start takes
seconds, more on a loaded machine, and a test asks for frames, not for a duration.
``VPSTAGE_ENGINE_REPORT`` (a file) receives the engine's run report (JSON,
``LiveEngine.report()``) each time the engine stops. Qt's own messages go to stderr
prefixed with ``qt:``. Python's logging and warnings go to the console's log file (``ui.live.console_log``:
``logs/console.log`` beside the project, or in the config folder in rehearsal); the terminal
shows only errors that are not the operator's to fix, one line each.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REHEARSAL_STAGE = Path(__file__).resolve().parents[1] / "configs" / "stages" / "demo.yaml"

# Harmless notices of Qt's offscreen platform plugin (no window manager to talk to).
_IGNORED_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",
                        "This plugin does not support raise()",
                        "This plugin does not support grabbing the keyboard")


def _ensure_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        print("no display found: the console runs offscreen (set DISPLAY, or use xvfb-run, to see it)",
              file=sys.stderr)


def _qt_message(mode: Any, context: Any, message: str) -> None:
    if message in _IGNORED_QT_MESSAGES:
        return
    print(f"qt: {getattr(mode, 'name', mode)}: {message}", file=sys.stderr)


def _close_after_frames(window: Any, frames: int) -> None:
    """Close ``window`` once its engine's frame loop has closed ``frames`` frames (polled)."""
    from PySide6.QtCore import QTimer

    timer = QTimer(window)

    def check() -> None:
        models = window.live.models
        if models is not None and models.loop is not None and models.loop.history.frames >= frames:
            timer.stop()
            window.close()

    timer.timeout.connect(check)
    timer.start(100)


def run_console(project: str | None = None, rehearsal: bool = True, quit_after_s: float | None = None,
                on_window: Callable[[Any], Callable[[], None] | None] | None = None) -> int:
    """Open the console window and run the Qt event loop until it closes. Returns the exit code
    (2 when the project file cannot be loaded). ``on_window(window)``, called once the window is
    shown, may return a function to call when the window has closed (the web viewer uses it)."""
    _ensure_display()
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from ui.live.console_log import ConsoleLog
    from ui.live.engine_factory import live_engine_factory
    from ui.main_window import ConsoleWindow
    from ui.settings import console_settings
    from ui.theme import apply_theme
    from vpstage.config import ConfigError
    from vpstage.stage.document import StageDocument

    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("vpstage")
    apply_theme(app)
    try:
        document = (StageDocument.open(project) if project
                    else StageDocument.open(REHEARSAL_STAGE, untitled=True))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    log = ConsoleLog.for_document(document.path).install()
    window = ConsoleWindow(document, rehearsal=rehearsal, settings=console_settings(),
                           engine_factory=live_engine_factory(rehearsal))
    window.live.console_log = log
    if os.environ.get("VPSTAGE_ENGINE_REPORT"):
        window.live.report_path = Path(os.environ["VPSTAGE_ENGINE_REPORT"])
    window.show()
    closing = on_window(window) if on_window is not None else None
    if rehearsal:
        QTimer.singleShot(0, window.live.start_engine)
    if quit_after_s is None and os.environ.get("VPSTAGE_QUIT_AFTER_S"):
        quit_after_s = float(os.environ["VPSTAGE_QUIT_AFTER_S"])
    if os.environ.get("VPSTAGE_QUIT_AFTER_FRAMES"):
        _close_after_frames(window, int(os.environ["VPSTAGE_QUIT_AFTER_FRAMES"]))
    if quit_after_s is not None:
        QTimer.singleShot(int(quit_after_s * 1000), window.close)
    code = int(app.exec())
    if closing is not None:
        closing()
    log.close()
    if not window.engine_stopped_cleanly:
        # A render worker is still inside a long frame (CPU rendering): letting the interpreter
        # finalise under it aborts the process. Everything the console owns is saved; takes are
        # durable frame by frame and an interrupted one is recovered on the next start.
        print("vpstage: the engine had not finished stopping (a render was still running); "
              "leaving without waiting for it", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
