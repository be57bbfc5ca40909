"""Keep python-osc's log records off the operator's terminal and count them instead.

python-osc calls ``logging.warning(...)`` on the root logger for datagrams it half-understands
(an unknown argument type, a bundle element it cannot identify), with the sender's bytes in the
message: a hostile sender could flood the console. ``install()`` adds a filter to the root logger
that drops the records whose source file is inside the python-osc package, and raises the level
of the ``pythonosc`` logger (should a later version log through named loggers) to above CRITICAL.
While a thread is inside ``capture()``, the records dropped on that thread are counted there, so
the OSC decoder can count the datagram as bad; others are counted in ``unattributed``.

The decoder checks datagrams (``vpstage.protocols.osc_wire``) so that python-osc should have
nothing to log; this is the safety net.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import pythonosc

PACKAGE_DIR = os.path.dirname(os.path.abspath(pythonosc.__file__)) + os.sep


class _LibraryRecords(logging.Filter):
    def __init__(self) -> None:
        super().__init__("pythonosc-records")
        self._local = threading.local()
        self._lock = threading.Lock()
        self.unattributed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not os.path.abspath(record.pathname).startswith(PACKAGE_DIR):
            return True
        captured: list[str] | None = getattr(self._local, "captured", None)
        if captured is not None:
            captured.append(record.levelname)
        else:
            with self._lock:
                self.unattributed += 1
        return False

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        outer = getattr(self._local, "captured", None)
        captured: list[str] = []
        self._local.captured = captured
        try:
            yield captured
        finally:
            self._local.captured = outer


_FILTER = _LibraryRecords()
_install_lock = threading.Lock()


def install() -> None:
    """Idempotent: filter python-osc's records out of the root logger (see the module docstring)."""
    with _install_lock:
        root = logging.getLogger()
        if _FILTER not in root.filters:
            root.addFilter(_FILTER)
        logging.getLogger("pythonosc").setLevel(logging.CRITICAL + 1)


def capture() -> AbstractContextManager[list[str]]:
    """``with capture() as records:`` the levels of python-osc records dropped on this thread."""
    return _FILTER.capture()


def unattributed() -> int:
    """python-osc records dropped outside any ``capture()`` (e.g. other code using python-osc)."""
    return _FILTER.unattributed
