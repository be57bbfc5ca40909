"""The frames web viewers watch: one producer thread, newest frame per view, nobody waits.

``ViewFeed`` runs on its own thread ('vpstage-web-feed') at ``fps``: for every (view, width,
height) some viewer watches it draws the picture (:mod:`remote.pictures`), stamps the feed's frame
counter into its top rows (:mod:`remote.barcode`) and publishes it in that view's
:class:`FrameSlot`, replacing the previous one. Viewers (``remote.webrtc``, on the asyncio loop)
await the next frame newer than the one they sent; a viewer that is slow simply finds a newer one
and counts the ones it missed (``dropped``). The wall never waits for a viewer: the frame loop
and the render nodes do not know the feed exists, and the feed never blocks on a viewer.

While anyone watches, the feed asks the frame loop for the thumbnails its views need under the
client name ``web`` at ``fps`` (``Previews.set_rate``, at most 30 Hz, same byte budget per
round); with nobody watching it asks for nothing and puts the rate back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from remote import barcode
from remote.priority import lower_priority
from vpstage.frame_master.previews import DEFAULT_RATE_HZ

KEEP_TIMES = 1024
ViewKey = tuple[str, int, int]
"""(view, width, height)."""


class PictureSource(Protocol):
    def views(self) -> list[str]: ...
    def previews(self) -> Any:
        """The running frame loop's ``Previews`` (None while no engine runs)."""
        ...
    def thumbnail_widths(self, views: dict[str, int]) -> dict[str, int]: ...
    def picture(self, view: str, width: int, height: int) -> NDArray[np.uint8] | None: ...


@dataclass(frozen=True)
class FeedFrame:
    counter: int
    """The feed's frame counter (stamped into the pixels)."""
    image: NDArray[np.uint8]
    """(height, width, 3) BGR."""
    published: float
    """``time.time()`` when it was published (the start of glass-to-glass)."""


class FrameSlot:
    """The newest frame of one view; asyncio waiters woken from the producer thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: FeedFrame | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def latest(self) -> FeedFrame | None:
        with self._lock:
            return self._latest

    def publish(self, frame: FeedFrame) -> None:
        with self._lock:
            self._latest = frame
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    async def next_after(self, counter: int) -> FeedFrame:
        """The newest frame with a counter above ``counter`` (waits for one)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                frame = self._latest
                if frame is not None and frame.counter > counter:
                    return frame
                future: asyncio.Future[None] = loop.create_future()
                self._waiters.append((loop, future))
            await future


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ViewFeed:
    """See the module docstring."""

    def __init__(self, source: PictureSource, fps: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        if not 1 <= fps <= 60:
            raise ValueError(f"web viewer frame rate {fps} must be within [1, 60]")
        self.source, self.fps, self._clock = source, fps, clock
        self._asked: tuple[Any, dict[str, int]] | None = None
        """(the Previews asked, what it was asked for)."""
        self._lock = threading.Lock()
        self._watchers: dict[ViewKey, int] = {}
        self._slots: dict[ViewKey, FrameSlot] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._times: dict[int, float] = {}
        self.published = 0
        self.draw_ms = 0.0

    # ------------------------------------------------------------------ any thread

    def watch(self, key: ViewKey) -> FrameSlot:
        """Start watching ``key``; returns its slot (``unwatch`` when done)."""
        if key[0] not in self.source.views():
            raise KeyError(f"no view named {key[0]!r}")
        with self._lock:
            self._watchers[key] = self._watchers.get(key, 0) + 1
            slot = self._slots.setdefault(key, FrameSlot())
        self.ask_previews()
        return slot

    def unwatch(self, key: ViewKey) -> None:
        with self._lock:
            left = self._watchers.get(key, 0) - 1
            if left > 0:
                self._watchers[key] = left
            else:
                self._watchers.pop(key, None)
                self._slots.pop(key, None)
        self.ask_previews()

    def published_at(self, counter: int) -> float | None:
        """When frame ``counter`` was published (``time.time()``), for the last ``KEEP_TIMES``."""
        with self._lock:
            return self._times.get(counter)

    def watched(self) -> dict[ViewKey, int]:
        with self._lock:
            return dict(self._watchers)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="vpstage-web-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        with self._lock:
            self._watchers.clear()
        self.ask_previews()

    # ------------------------------------------------------------------ feed thread

    def ask_previews(self) -> None:
        """Tell the running frame loop which thumbnails the watched views need (again when the
        engine changed: the console starts and stops engines). Any thread."""
        previews = self.source.previews()
        views: dict[str, int] = {}
        for view, width, _ in self.watched():
            views[view] = max(views.get(view, 0), width)
        wanted = self.source.thumbnail_widths(views) if views else {}
        with self._lock:
            if previews is None or self._asked == (previews, wanted):
                return
            self._asked = (previews, wanted)
        previews.want(wanted, client="web")
        previews.set_rate(min(30.0, self.fps) if wanted else DEFAULT_RATE_HZ)

    def _run(self) -> None:
        lower_priority()
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.run_once()
            next_at += period
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind: do not try to catch up
                next_at, delay = time.monotonic(), 0.0
            self._stop.wait(delay)

    def run_once(self) -> None:
        """Draw and publish one frame of every watched view (the feed thread; tests may call it)."""
        with self._lock:
            targets = [(key, self._slots[key]) for key in self._watchers if key in self._slots]
        if not targets:
            return
        self.ask_previews()
        self._counter += 1
        with self._lock:
            self._times.pop(self._counter - KEEP_TIMES, None)
        start = time.perf_counter()
        for (view, width, height), slot in targets:
            image = self.source.picture(view, width, height)
            if image is None:
                image = np.zeros((height, width, 3), dtype=np.uint8)
            barcode.stamp(image, self._counter)
            slot.publish(FeedFrame(self._counter, image, self._clock()))
        with self._lock:
            self._times[self._counter] = self._clock()  # the last view's publish time: the latest
        self.published += 1
        self.draw_ms = (time.perf_counter() - start) * 1e3
