"""BackgroundJob: a long job the console starts (a take export, ...) run on a thread of its own,
so the window and the engine's panels never wait on it, reporting how far it is.

The job's ``work(progress)`` runs on the job's thread and calls ``progress(done, total)`` as it goes
(the progress callbacks of ``vpstage``'s and ``render``'s long jobs have that shape); it returns the
line to tell the operator when it is done. ``cancel()`` (any thread) makes the next ``progress``
call raise :class:`JobCancelled` inside the work, which unwinds it (the writers of ``vpstage``
write their files atomically: a cancelled export leaves nothing behind).

Signals are emitted on the job's thread and reach GUI-thread receivers queued: ``progressed`` at
most ``STEPS`` times a job (a job reporting every frame does not flood the GUI), then one of
``finished``, ``failed`` or ``cancelled``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ui.thread_signals import emit_safely

Progress = Callable[[int, int], None]
"""(done, total), called on the job's thread."""
Work = Callable[[Progress], str]
STEPS = 200
"""``progressed`` is emitted when the done fraction passes another 1/STEPS (and at the end)."""
log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised by a cancelled job's ``progress`` callback, inside its work."""


class BackgroundJob(QObject):
    progressed = Signal(int, int)
    """(done, total) (GUI thread)."""
    finished = Signal(str)
    """What the work returned: the line that says what was done (GUI thread)."""
    failed = Signal(str)
    """Why the work raised, one line (GUI thread); the traceback is logged."""
    cancelled = Signal()

    def __init__(self, title: str, work: Work, *, expected: tuple[type[Exception], ...] = (OSError,),
                 parent: QObject | None = None) -> None:
        """``expected``: the failures that are the operator's to fix (a full disk, a damaged file):
        logged at WARNING; anything else is a bug, logged at ERROR (the terminal shows those)."""
        super().__init__(parent)
        self.title, self._work, self._expected = title, work, expected
        self._cancel = threading.Event()
        self._ended = threading.Event()
        self._step = -1
        self._thread = threading.Thread(target=self._run, name=f"vpstage-job-{title}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the work's next progress report (any thread)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has ended (closing the console); False on timeout."""
        return self._ended.wait(timeout)

    def report(self, done: int, total: int) -> None:
        """The work's progress callback (the job's thread)."""
        if self._cancel.is_set():
            raise JobCancelled(self.title)
        step = done * STEPS // total if total > 0 else 0
        if step != self._step or done == total:
            self._step = step
            emit_safely(self.progressed, done, total)

    def _run(self) -> None:
        try:
            if self._cancel.is_set():
                raise JobCancelled(self.title)
            said = self._work(self.report)
        except JobCancelled:
            emit_safely(self.cancelled)
        except Exception as exc:  # the operator is told; the console carries on
            level = logging.WARNING if isinstance(exc, self._expected) else logging.ERROR
            log.log(level, "%s failed: %s", self.title, exc, exc_info=exc)
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            emit_safely(self.failed, first)
        else:
            emit_safely(self.finished, said)
        finally:
            self._ended.set()
