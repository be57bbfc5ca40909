"""Qt signals emitted from worker threads (the engine's, the control thread, background jobs).

A signal emitted on a worker thread reaches receivers on the GUI thread queued (the emitter's
thread is not the receiver's), so emitting is how work off the GUI thread reports to widgets.
"""

from __future__ import annotations

import contextlib
from typing import Any


def emit_safely(signal: Any, *args: object) -> None:
    """Emit a Qt signal from a worker thread; nothing happens when its QObject is already gone
    (the console closed while a worker was finishing)."""
    with contextlib.suppress(RuntimeError):
        signal.emit(*args)
