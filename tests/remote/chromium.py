"""Headless Chromium driven through its DevTools protocol (a small client over aiohttp's
websocket): open a page, evaluate JavaScript, take a screenshot. Loopback only.

The browser stands in for a tablet on set, another machine: it runs niced (``BROWSER_NICE``) so
that on a small test machine its decoding does not take the CPU from the wall's threads."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
         "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--disable-background-timer-throttling",
         "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows")
BROWSER_NICE = 15
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_path() -> str | None:
    found = os.environ.get("VPSTAGE_CHROMIUM") or next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)
    return found or shutil.which("chromium")


class Chromium:
    """One headless browser process; ``async with`` it, then ``open(url)`` pages."""

    def __init__(self, executable: str, window: tuple[int, int] = (1400, 900)) -> None:
        self.executable, self.window = executable, window
        self._profile = tempfile.TemporaryDirectory(prefix="vpstage-chromium-")
        self._process: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Chromium:
        args = [self.executable, *FLAGS, f"--user-data-dir={self._profile.name}",
                f"--window-size={self.window[0]},{self.window[1]}", "about:blank"]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         preexec_fn=lambda: os.nice(BROWSER_NICE))
        url = await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, self._devtools_url), 30)
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(url, max_msg_size=64 << 20)
        self._reader = asyncio.create_task(self._read())
        return self

    def _devtools_url(self) -> str:
        assert self._process is not None and self._process.stderr is not None
        for raw in self._process.stderr:
            match = DEVTOOLS_LINE.search(raw.decode("utf-8", "replace"))
            if match:  # keep reading its log so that a full pipe never blocks it
                threading.Thread(target=self._drain, daemon=True).start()
                return match.group(1)
        raise RuntimeError(f"chromium exited ({self._process.wait()}) before DevTools listened")

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for _ in self._process.stderr:
            pass

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            if self._process.stderr is not None:
                self._process.stderr.close()
        self._profile.cleanup()

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
                   timeout: float = 30.0) -> dict[str, Any]:
        assert self._ws is not None
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self._ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return dict(answer.get("result", {}))

    async def open(self, url: str) -> Page:
        target = await self.send("Target.createTarget", {"url": url})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        return Page(self, attached["sessionId"])


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    async def evaluate(self, expression: str) -> Any:
        result = await self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                              "awaitPromise": True}, self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 30.0, poll_s: float = 0.05) -> Any:
        """The value of ``expression`` once it is truthy; TimeoutError after ``timeout_s``."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"still false after {timeout_s} s: {expression}")
            await asyncio.sleep(poll_s)

    async def screenshot(self) -> bytes:
        result = await self.browser.send("Page.captureScreenshot", {"format": "png"}, self.session)
        return base64.b64decode(result["data"])
