"""Cooperative cancellation of long renders.

A render worker runs each job inside ``cancellable(event)``; long loops of the renderers call
``check_cancelled()`` between steps (compositing chunks, cube-map faces, marching rounds). When
another thread sets the event (the cluster stopping, or abandoning a stalled worker), the render
stops at the next check with ``RenderCancelled`` instead of running on for seconds on a CPU.

The token is thread-local: renders on other threads (other workers, the preview command) are
unaffected, and code called outside ``cancellable`` never raises.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_local = threading.local()


class RenderCancelled(Exception):
    """The render was abandoned on request; its result must be discarded."""


@contextlib.contextmanager
def cancellable(event: threading.Event) -> Iterator[None]:
    """Make ``check_cancelled()`` on this thread raise once ``event`` is set."""
    previous = getattr(_local, "event", None)
    _local.event = event
    try:
        yield
    finally:
        _local.event = previous


def check_cancelled() -> None:
    """Raise RenderCancelled if this thread's render was cancelled (cheap: one attribute read)."""
    event = getattr(_local, "event", None)
    if event is not None and event.is_set():
        raise RenderCancelled("render cancelled")
