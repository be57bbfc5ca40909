"""``WebServer``: the viewer page, the API and WebRTC on one asyncio loop of their own thread
('vpstage-web'), plus the frame feed's thread. Start and stop from the control side.

Where it listens: loopback (127.0.0.1) unless the project's ``network.mode`` is ``studio``
(:func:`check_host`). TLS when a certificate and key are given. Port 0 takes a free port
(``address`` tells which).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from remote.api import ServerParts, make_app
from remote.auth import Refusals
from remote.controls import Controls
from remote.feed import PictureSource, ViewFeed
from remote.latency import LatencyLog
from remote.priority import lower_priority
from remote.tokens import TokenStore
from remote.webrtc import Viewers, restrict_ice_to_loopback

START_TIMEOUT_S = 10.0
ENCODER_THREADS = 4


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 0
    fps: float = 30.0
    cert: Path | None = None
    key: Path | None = None
    max_viewers: int = 8


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, or ``PORT``) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--web {text!r}: give HOST:PORT, e.g. 127.0.0.1:8765") from None
    if not 0 <= number <= 65535:
        raise ValueError(f"--web {text!r}: port out of range")
    return (host.strip("[]") or "127.0.0.1"), number


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, network_mode: str) -> None:
    """Refuse a non-loopback address unless the project's network mode is ``studio``."""
    if network_mode != "studio" and not is_loopback(host):
        raise ValueError(f"the web viewer listens on loopback only (project network mode {network_mode!r}); "
                         f"{host} needs network.mode: studio")


def ssl_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ValueError("TLS needs both --web-cert and --web-key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


class WebServer:
    """See the module docstring."""

    def __init__(self, controls: Controls, pictures: PictureSource, tokens: TokenStore, settings: WebSettings,
                 network_mode: str = "loopback") -> None:
        check_host(settings.host, network_mode)
        self.settings = settings
        self._ssl = ssl_context(settings.cert, settings.key)
        self.feed = ViewFeed(pictures, fps=settings.fps)
        self.parts = ServerParts(controls=controls, feed=self.feed, tokens=tokens, refusals=Refusals(),
                                 viewers=Viewers(self.feed, settings.max_viewers),
                                 latency=LatencyLog(self.feed.published_at))
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self.address is None:
            raise RuntimeError("the web server is not running")
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{self.address[0]}:{self.address[1]}/"

    def start(self) -> str:
        """Listen and serve (returns the URL); OSError when the address cannot be bound."""
        restrict_ice_to_loopback(is_loopback(self.settings.host))
        started: Future[tuple[str, int]] = Future()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="vpstage-web", daemon=True)
        self._thread.start()
        self.address = started.result(START_TIMEOUT_S)
        self.feed.start()
        return self.url

    def stop(self) -> None:
        self.feed.stop()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(START_TIMEOUT_S)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_S)
            self._thread = None
        self.address = None

    def _serve(self, started: Future[tuple[str, int]]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        # aiortc encodes on the loop's default executor: those threads yield the CPU to the wall's
        loop.set_default_executor(ThreadPoolExecutor(ENCODER_THREADS, "vpstage-web-encode",
                                                     initializer=lower_priority))
        try:
            started.set_result(loop.run_until_complete(self._listen()))
        except BaseException as exc:  # the caller's start() raises it
            started.set_exception(exc)
            loop.close()
            return
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _listen(self) -> tuple[str, int]:
        self._runner = web.AppRunner(make_app(self.parts), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, ssl_context=self._ssl)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def _shutdown(self) -> None:
        await self.parts.viewers.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
