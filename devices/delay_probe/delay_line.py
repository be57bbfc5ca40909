"""A delay line for tracking packets: every datagram goes out a fixed time after it was handed
over, as from a tracker (or a network) that much slower. ``main.py measure-delay --inject-ms``
puts one between the simulator and the hub, so the tool's accuracy can be checked against a
known extra latency that nothing downstream knows about."""

from __future__ import annotations

import heapq
import itertools
import threading
import time

from devices.tracking.simulator import Link


class DelayLine:
    """Wraps a ``Link``: ``send`` queues the datagram and returns at once; a thread sends it
    ``delay_ms`` later (monotonic clock). ``sent`` / ``dropped`` count what the wrapped link took
    or refused; ``late_ns`` is the largest lateness seen (scheduling jitter)."""

    def __init__(self, link: Link, delay_ms: float) -> None:
        if not delay_ms >= 0:
            raise ValueError(f"a delay line cannot send early: {delay_ms} ms")
        self.link = link
        self.delay_ns = round(delay_ms * 1e6)
        self.sent = self.dropped = 0
        self.late_ns = 0
        self._queue: list[tuple[int, int, bytes]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="delay-line", daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> bool:
        with self._cond:
            if self._closed:
                return False
            heapq.heappush(self._queue, (time.monotonic_ns() + self.delay_ns, next(self._order), data))
            self._cond.notify()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic_ns()):
                    self._cond.wait(None if not self._queue else (self._queue[0][0] - time.monotonic_ns()) / 1e9)
                if self._closed:
                    return
                due, _, data = heapq.heappop(self._queue)
            self.late_ns = max(self.late_ns, time.monotonic_ns() - due)
            if self.link.send(data):
                self.sent += 1
            else:
                self.dropped += 1

    def close(self) -> None:
        """Stop (datagrams still queued are not sent) and close the wrapped link."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(2.0)
        self.link.close()
