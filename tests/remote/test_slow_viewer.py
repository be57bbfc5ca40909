"""A viewer that stops reading never slows the wall: its frames are dropped for it alone, and
counted; the wall's late / dropped counts (the engine's own counters) do not change."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from remote import barcode
from remote.feed import ViewFeed
from remote.pictures import EnginePictures
from remote.status import wall_counts
from remote.webrtc import FeedTrack, ViewerStats
from tests.remote.chromium import Chromium, chromium_path
from tests.remote.conftest import Served
from tests.waiting import wait_for

pytestmark = [pytest.mark.network, pytest.mark.slow]
CHROMIUM = chromium_path()
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install -y chromium; .ci/run installs it)")
WINDOW_FRAMES = 90
STALLED_WINDOWS = 4


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition still false")
        await asyncio.sleep(0.02)


def bad_frames(counts: dict[str, int]) -> int:
    """Frames the wall showed late (a late frame is also counted dropped) or skipped."""
    return counts["late"] + counts["skipped"]


async def two_viewers(served: Served) -> dict[str, Any]:
    """A reading viewer (320x180) alone, then with a second one of the same size whose page stopped
    (its script paused in the debugger: no more frames read, no status polls). Viewers are browser
    pages, in their own processes, as on set. Same size: on this 2-core machine a second, larger
    stream's encoding alone takes CPU the render nodes need, which is not what is tested here."""
    assert CHROMIUM is not None
    engine = served.engine
    async with Chromium(CHROMIUM) as browser, Chromium(CHROMIUM) as other:  # two browsers: two renderers
        reader = await browser.open(f"{served.url}#token={served.viewer}&size=320x180")
        await reader.wait_for("window.vpstage && vpstage.decoded >= 15", 60)
        start = wall_counts(engine)
        await until(lambda: engine.loop.history.frames >= start["frames"] + WINDOW_FRAMES)
        alone = wall_counts(engine)
        stalled = await other.open(f"{served.url}#token={served.viewer}&size=320x180")
        await stalled.wait_for("window.vpstage && vpstage.decoded >= 5", 60)
        await other.send("Debugger.enable", session=stalled.session)
        await other.send("Debugger.pause", session=stalled.session)
        read_before = await reader.evaluate("vpstage.frame")
        windows = []
        for _ in range(STALLED_WINDOWS):
            stalled_from = wall_counts(engine)
            await until(lambda: engine.loop.history.frames >= stalled_from["frames"] + WINDOW_FRAMES)  # noqa: B023
            windows.append((stalled_from, wall_counts(engine)))
            if excess(alone, start, *windows[-1]) <= allowed(windows[-1]):
                break
        read_after = await reader.wait_for(f"vpstage.frame > {read_before} + 20 && vpstage.frame", 30)
        viewers = served.server.parts.viewers.report()
    return {"start": start, "alone": alone, "windows": windows, "viewers": viewers, "read": (read_before, read_after)}


def excess(alone: dict[str, int], start: dict[str, int], before: dict[str, int], after: dict[str, int]) -> int:
    """Bad frames in a window with the stalled viewer beyond those of the window without it."""
    return (bad_frames(after) - bad_frames(before)) - (bad_frames(alone) - bad_frames(start))


def allowed(window: tuple[dict[str, int], dict[str, int]]) -> int:
    return max(3, (window[1]["frames"] - window[0]["frames"]) // 10)


@needs_chromium
def test_a_second_viewer_that_stops_reading_does_not_change_the_walls_late_and_dropped_counts(
        running_nodes: Served) -> None:
    """Render nodes run as processes of their own, as on set (the frame loop shares this process
    with the web server). The machine is shared (other processes come and go and may make the
    wall late for a moment): the stalled viewer stays connected for up to ``STALLED_WINDOWS`` windows and one of
    them must be as clean as the window before it connected. A viewer that slowed the wall would
    do so in every window."""
    seen = asyncio.run(two_viewers(running_nodes))
    start, alone, windows = seen["start"], seen["alone"], seen["windows"]
    assert alone["frames"] - start["frames"] >= WINDOW_FRAMES
    assert any(excess(alone, start, *w) <= allowed(w) for w in windows), (start, alone, windows)
    read_before, read_after = seen["read"]
    assert read_after > read_before + 20  # the other viewer kept watching
    assert len(seen["viewers"]) == 2 and all("dropped" in v and v["sent"] > 0 for v in seen["viewers"])


def test_a_viewer_that_stops_reading_misses_frames_and_counts_them(running: Served) -> None:
    engine = running.engine
    feed = ViewFeed(EnginePictures(engine), fps=30)
    key = ("wall-centre", 320, 180)
    slot = feed.watch(key)
    view, width, height = key
    stats = ViewerStats(id=1, view=view, width=width, height=height, role="viewer")
    track = FeedTrack(slot, stats)
    feed.start()
    try:
        first = barcode.read(asyncio.run(track.recv()).to_ndarray(format="bgr24"))
        assert first is not None
        published = feed.published
        assert wait_for(lambda: feed.published >= published + 10)  # the feed goes on without it
        second = asyncio.run(track.recv())
    finally:
        feed.stop()
        track.stop()
    newest = barcode.read(second.to_ndarray(format="bgr24"))
    assert newest is not None and newest >= published + 10  # it gets the newest frame, not the next
    assert stats.sent == 2 and stats.dropped == newest - first - 1 >= 8


def test_a_viewer_at_a_lower_frame_rate_takes_every_nth_frame(running: Served) -> None:
    engine = running.engine
    feed = ViewFeed(EnginePictures(engine), fps=30)
    key = ("camera", 320, 180)
    view, width, height = key
    stats = ViewerStats(id=1, view=view, width=width, height=height, role="viewer")
    track = FeedTrack(feed.watch(key), stats, every=2)  # 15 fps from a 30 fps feed

    async def read(count: int) -> list[int]:
        frames = [await track.recv() for _ in range(count)]
        return [barcode.read(f.to_ndarray(format="bgr24")) or -1 for f in frames]

    feed.start()
    try:
        counters = asyncio.run(read(8))
    finally:
        feed.stop()
        track.stop()
    steps = [b - a for a, b in itertools.pairwise(counters)]
    assert -1 not in counters and all(step >= 2 for step in steps), counters
    assert stats.dropped == sum(step - 2 for step in steps)
