"""Run a callable on the Qt GUI thread from any other thread and wait for its result.

``GuiCalls`` must be created on the GUI thread; ``call(fn)`` from a worker thread queues ``fn``
there (a queued signal) and blocks until it ran, returning its value or raising its exception.
Called on the GUI thread itself it runs ``fn`` at once (waiting would deadlock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

T = TypeVar("T")
GUI_CALL_TIMEOUT_S = 30.0


class GuiCalls(QObject):
    _queued = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gui_thread = threading.get_ident()
        self._queued.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def call(self, function: Callable[[], T], timeout_s: float = GUI_CALL_TIMEOUT_S) -> T:
        if threading.get_ident() == self._gui_thread:
            return function()
        future: Future[Any] = Future()
        self._queued.emit((function, future))
        result: T = future.result(timeout_s)
        return result

    def _run(self, item: tuple[Callable[[], Any], Future[Any]]) -> None:
        function, future = item
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the waiting thread
            future.set_exception(exc)
