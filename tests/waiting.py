"""Waiting on a real condition with a bounded timeout (never a bare sleep): tests must pass on a
loaded machine."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], timeout_s: float = 20.0, poll_s: float = 0.02) -> bool:
    """True as soon as ``condition()`` is true; False if it still is not after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return bool(condition())
