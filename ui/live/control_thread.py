"""ControlThread: blocking engine commands (start, stop, stop a take, restart a receiver) run on
one worker thread, in the order they were asked for, so the GUI thread never waits on them.

Each command has a label; when it ends, ``finished(label, result)`` or ``failed(label, message)``
(one line) and ``failure(label, EngineFailure)`` (the whole story) are emitted from the worker
thread and delivered queued to GUI-thread receivers. ``busy`` says whether commands are pending
(the console greys out engine actions meanwhile).

A command that fails is logged: an expected failure (``ui.live.engine_failure.is_expected``: a
project that does not validate, a node that could not build, ...) at WARNING with its traceback,
which the console's log file keeps and the terminal does not show; anything else at ERROR.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ui.live.engine_failure import EngineFailure, failure_from_exception
from ui.thread_signals import emit_safely

log = logging.getLogger(__name__)


class ControlThread(QObject):
    finished = Signal(str, object)
    """(label, what the command returned) (GUI thread)."""
    failed = Signal(str, str)
    """(label, error message on one line) (GUI thread)."""
    failure = Signal(str, object)
    """(label, EngineFailure) of a failed command (GUI thread)."""
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[tuple[str, Callable[[], object]] | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="vpstage-console-control", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    def submit(self, label: str, command: Callable[[], object]) -> None:
        """Run ``command`` on the control thread after the commands already asked for."""
        with self._lock:
            self._pending += 1
            first = self._pending == 1
            self._idle.clear()
        if first:
            self.busy_changed.emit(True)
        self._queue.put((label, command))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted command has ended (closing the console, tests)."""
        return self._idle.wait(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Finish the queued commands, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            label, command = item
            try:
                result = command()
            except Exception as exc:  # reported to the operator; the control thread carries on
                failure = self._log_failure(label, exc)
                emit_safely(self.failed, label, failure.summary)
                emit_safely(self.failure, label, failure)
            else:
                emit_safely(self.finished, label, result)
            with self._lock:
                self._pending -= 1
                idle = self._pending == 0
                if idle:
                    self._idle.set()
            if idle:
                emit_safely(self.busy_changed, False)

    @staticmethod
    def _log_failure(label: str, exc: Exception) -> EngineFailure:
        failure = failure_from_exception(exc)
        if failure.expected:
            log.warning("%s failed: %s", label, failure.details, exc_info=exc)
        else:
            log.error("%s failed: %s", label, failure.summary, exc_info=exc)
        return failure
