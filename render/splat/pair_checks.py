"""Pair-buffer checks of the fast splat rasterizer, deferred to the end of a node-frame.

The fast rasterizer (``render.splat.backends.triton_rasterizer``) writes each frame's (tile, splat)
pairs into buffers of fixed size and reads the frame's pair total back to see whether they
overflowed. Read at once, that total is a host-device synchronisation in the middle of the frame:
the host waits for the layer's GPU work and only then plans the next layer or canvas, so host and
GPU work one after the other. Inside :func:`deferred_pair_checks` a runner that has already sized
its buffers copies its total to pinned host memory instead and hands a check to the frame's
:class:`PairChecks`; the caller runs them once the frame's GPU work is done (a render node, after
its canvases reached host memory). A layer that overflowed lacks the pairs of its farthest splats:
its runner is replaced by one with room and the caller renders the frame again.

Kept apart from the rasterizer so the node can open the scope without importing Triton.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import torch

_LOCAL = threading.local()


class DeferredTotal:
    """A device counter read back without waiting for it: :meth:`copy` enqueues the counter's copy
    into pinned host memory, :meth:`take` returns the largest value copied since the last take
    (waiting for the copies). The largest, not the last: one frame may render the same runner
    twice (two views of one size), and the first may have overflowed where the second did not."""

    def __init__(self, device: torch.device) -> None:
        self.host = torch.zeros(1, dtype=torch.int64, pin_memory=device.type == "cuda")
        self._copied: torch.cuda.Event | None = None
        self._pending = False
        self._largest = 0

    def copy(self, total: torch.Tensor) -> None:
        """Enqueue ``total``'s copy (one int64 on the device) on the current stream."""
        self.settle()
        self.host.copy_(total, non_blocking=True)
        if total.device.type == "cuda":
            self._copied = torch.cuda.Event()  # type: ignore[no-untyped-call]
            self._copied.record()
        self._pending = True

    def settle(self) -> None:
        """Wait for the last copy and keep its value (before the pinned memory is written again,
        and before anything else the stream did before that copy is reused)."""
        if not self._pending:
            return
        if self._copied is not None:
            self._copied.synchronize()
            self._copied = None
        self._largest = max(self._largest, int(self.host[0]))
        self._pending = False

    def take(self) -> int:
        """The largest total copied since the last take (0 when none was)."""
        self.settle()
        largest, self._largest = self._largest, 0
        return largest


class PairChecks:
    """The deferred checks of one frame (one thread)."""

    def __init__(self) -> None:
        self._pending: list[Callable[[], bool]] = []

    def add(self, check: Callable[[], bool]) -> None:
        """``check`` reads a finished layer's pair total; True when it overflowed (buffers grown)."""
        self._pending.append(check)

    def __len__(self) -> int:
        return len(self._pending)

    def overflowed(self) -> bool:
        """Run the checks added since the last call (the frame's GPU work must be done); True when
        a layer overflowed, so the frame must be rendered again."""
        pending, self._pending = self._pending, []
        results = [check() for check in pending]  # every check: each grows its own runner
        return any(results)


def current() -> PairChecks | None:
    """The checks of the innermost :func:`deferred_pair_checks` on this thread (None: check at once)."""
    return getattr(_LOCAL, "checks", None)


@contextlib.contextmanager
def deferred_pair_checks() -> Iterator[PairChecks]:
    """Defer the pair checks of frames this thread renders until the caller runs
    :meth:`PairChecks.overflowed` (module docstring)."""
    checks, previous = PairChecks(), current()
    _LOCAL.checks = checks
    try:
        yield checks
    finally:
        _LOCAL.checks = previous
