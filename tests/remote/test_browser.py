"""A real browser: headless Chromium opens the viewer page on 127.0.0.1, a WebRTC video plays,
the frame counter stamped into the picture advances, and a screenshot shows it."""

from __future__ import annotations

import asyncio
from typing import Any

import cv2
import numpy as np
import pytest

from remote import barcode
from tests.remote.chromium import Chromium, chromium_path
from tests.remote.conftest import Served

CHROMIUM = chromium_path()
pytestmark = [pytest.mark.network, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                 "(apt-get install -y chromium; .ci/run installs it)")]
SIZE = (640, 360)
VIDEO_RECT = """(() => { const v = document.getElementById('video'); const r = v.getBoundingClientRect();
  return [r.x, r.y, r.width, r.height, devicePixelRatio, v.videoWidth, v.videoHeight]; })()"""


async def watch_in_browser(served: Served) -> dict[str, Any]:
    assert CHROMIUM is not None
    async with Chromium(CHROMIUM) as browser:
        page = await browser.open(f"{served.url}#token={served.viewer}&size={SIZE[0]}x{SIZE[1]}")
        await page.wait_for("window.vpstage && vpstage.decoded >= 5", 60)
        first = await page.evaluate("vpstage.frame")
        await page.wait_for(f"vpstage.frame >= {first} + 30", 30)
        await page.wait_for("document.getElementById('readout').textContent.includes('TC 0')", 10)
        before = await page.evaluate("vpstage.frame")
        rect = await page.evaluate(VIDEO_RECT)
        png = await page.screenshot()
        after = await page.evaluate("vpstage.frame")
        await page.wait_for("vpstage.status && vpstage.status.latency.samples > 0", 10)
        viewers = await page.evaluate("vpstage.status.viewers")
        state = await page.evaluate("({codec: vpstage.codec, error: vpstage.error, unreadable: vpstage.unreadable, "
                                    "decoded: vpstage.decoded})")
        await page.evaluate("location.href = 'about:blank'")  # leaving the page closes its viewer
        deadline = asyncio.get_running_loop().time() + 15
        while served.server.parts.viewers.report() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        left = served.server.parts.viewers.report()
        return {"first": first, "before": before, "after": after, "rect": rect, "png": png, "viewers": viewers,
                "left": left, **state}


def video_pixels(png: bytes, rect: list[float]) -> np.ndarray:
    """The video's picture as the page shows it (object-fit: contain), scaled back to SIZE."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    x, y, w, h, dpr, vw, vh = rect
    scale = min(w / vw, h / vh)
    cw, ch = vw * scale, vh * scale
    x0, y0 = (x + (w - cw) / 2) * dpr, (y + (h - ch) / 2) * dpr
    crop = image[round(y0): round(y0 + ch * dpr), round(x0): round(x0 + cw * dpr)]
    return cv2.resize(crop, SIZE, interpolation=cv2.INTER_AREA)


def test_the_viewer_page_plays_the_camera_view_and_its_frame_counter_advances(running: Served) -> None:
    seen = asyncio.run(watch_in_browser(running))
    assert seen["error"] == ""
    assert seen["codec"] in ("H264", "VP8")
    assert seen["after"] >= seen["first"] + 30 and seen["decoded"] >= 20
    assert seen["rect"][5:] == list(SIZE)  # the video's own size is the size asked for
    picture = video_pixels(seen["png"], seen["rect"])
    counter = barcode.read(picture)
    assert counter is not None and seen["first"] <= counter <= seen["after"] + 2
    below = picture[barcode.BAR_ROWS + 4:]
    assert float(below.std()) > 10.0  # a picture of the wall, not a blank frame
    [viewer] = seen["viewers"]
    assert viewer["state"] == "connected" and viewer["size"] == list(SIZE) and viewer["sent"] >= 20
    assert seen["left"] == []  # the page said goodbye: its viewer closed, the feed stopped drawing it
    assert running.server.feed.watched() == {}
    latency = running.server.parts.latency.report()
    assert latency["samples"] > 0 and 0 < latency["ms"]["p50"] < 1000
